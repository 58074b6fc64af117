"""History, user, subscription and usage against a fresh local server."""

from __future__ import annotations

import time
import zipfile
from typing import Any

import pytest

from xiwidgets.client import Client, HistoryPage, NotFound

TEXTS = [f"Item {n}." for n in range(5)]


@pytest.fixture(scope="module")
def history_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A server of its own, so the history holds exactly the items these tests make."""
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("history"))
    with Client(base_url=handle.base_url) as c:
        for text in TEXTS:
            c.tts.convert("Joe", text=text, output_format="mp3_22050_32")
    yield handle
    handle.stop()


@pytest.fixture
def hclient(history_server: Any) -> Client:
    return Client(base_url=history_server.base_url)


def test_pages_of_two_cover_the_history_newest_first(hclient):
    pages = [hclient.history.list(page_size=2)]
    while pages[-1].has_more:
        pages.append(hclient.history.list(
            page_size=2, start_after_history_item_id=pages[-1].last_history_item_id))

    assert len(pages) == 3 and all(isinstance(p, HistoryPage) for p in pages)
    assert [len(p.items) for p in pages] == [2, 2, 1]
    texts = [i.text for p in pages for i in p.items]
    assert texts == list(reversed(TEXTS))
    assert [i.text for i in hclient.history.iter_all(page_size=2)] == texts


def test_items_are_typed_and_filterable(hclient):
    joe = hclient.voices.find("Joe").voice_id
    items = list(hclient.history.iter_all(voice_id=joe))
    item = hclient.history.get(items[0].history_item_id)

    assert len(items) == len(TEXTS)
    assert item.voice_id == joe and item.voice_name == "Joe"
    assert item.character_cost == len(item.text)
    assert item.date.year >= 2024 and item.content_type == "audio/mpeg"
    assert list(hclient.history.iter_all(voice_id="no-such-voice")) == []


def test_audio_and_download_of_one_and_of_several(hclient, tmp_path):
    ids = [i.history_item_id for i in hclient.history.list(page_size=3).items]

    audio = hclient.history.audio(ids[0])
    single = hclient.history.download(ids[0], tmp_path)
    archive = hclient.history.download(ids, tmp_path / "three.zip")

    assert single.read_bytes() == audio and single.suffix == ".mp3"
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        assert len(names) == 3
        contents = [zipped.read(n) for n in names]
    assert audio in contents
    assert all(c[:3] == b"ID3" or c[0] == 0xFF for c in contents)


def test_history_as_a_dataframe(hclient):
    frame = hclient.history.to_dataframe(page_size=2)

    assert len(frame) == len(TEXTS)
    assert set(frame["text"]) == set(TEXTS)
    assert {"history_item_id", "voice_id", "date", "character_cost"} <= set(frame.columns)
    assert (frame["character_cost"] == frame["text"].str.len()).all()


def test_delete_removes_the_item(hclient):
    take = hclient.tts.convert("Joe", text="Soon deleted.")
    hclient.history.delete(take.history_item_id)

    with pytest.raises(NotFound):
        hclient.history.get(take.history_item_id)
    with pytest.raises(NotFound):
        hclient.history.audio(take.history_item_id)


def test_user_subscription_and_usage_count_the_characters(hclient):
    before = hclient.user.subscription()
    hclient.tts.convert("Joe", text="Count me.")
    after = hclient.user.subscription()
    user = hclient.user.get()
    now_ms = int(time.time() * 1000)
    stats = hclient.usage.character_stats(now_ms - 3_600_000, now_ms + 60_000)

    assert after.character_count == before.character_count + len("Count me.")
    assert after.characters_left == after.character_limit - after.character_count
    assert user.user_id and user.subscription.tier == after.tier
    assert len(stats.time) >= 1
    assert stats.total >= sum(len(t) for t in TEXTS) + len("Count me.")

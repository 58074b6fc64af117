"""HistoryTable against the real local server, driven like a browser would drive it.

Clicks and edits arrive as the comm messages the front end sends; what the user sees is read
back from the widgets' state. The tests share the session server, so every test works on takes
whose texts carry a token of its own and searches for that token.
"""

from __future__ import annotations

import uuid
import zipfile
from typing import Any

import pytest
import requests
from ipywidgets.widgets.widget import _instances as live_widgets

from xiwidgets.widgets.history import HistoryTable

pytestmark = pytest.mark.timeout(300)


def row_texts(table: HistoryTable) -> list[str]:
    return [row.item.text for row in table._visible_rows()]


def shown_rows(table: HistoryTable) -> list[Any]:
    """The row boxes the browser renders (children of the rows box)."""
    return list(table.rows_box.children)


def row_for(table: HistoryTable, history_item_id: str) -> Any:
    row = table._row(history_item_id)
    assert row is not None, f"{history_item_id} is not on the page"
    return row


@pytest.fixture(scope="module")
def client(server: Any) -> Any:
    from xiwidgets.client import Client

    return Client(base_url=server.base_url)


@pytest.fixture(scope="module")
def two_voices(client: Any) -> tuple[Any, Any]:
    # Two espeak-ng voices: they synthesize a short text in milliseconds.
    voices = [voice for voice in client.voices.list() if voice.name != "Joe"]
    assert len(voices) >= 2
    return voices[0], voices[1]


def speak(client: Any, text: str, voice: Any) -> str:
    take = client.tts.convert(text, voice.voice_id, output_format="mp3_22050_32")
    assert take.history_item_id
    return take.history_item_id


@pytest.fixture(scope="module")
def paged_takes(client: Any, two_voices: tuple[Any, Any]) -> dict[str, Any]:
    """26 short takes: 20 in the first voice, 6 in the second, all carrying one token."""
    token = f"pg{uuid.uuid4().hex[:8]}"
    first, second = two_voices
    ids = {}
    for number in range(26):
        voice = second if number % 4 == 0 and number < 24 else first
        text = f"Take {number} {token}."
        ids[speak(client, text, voice)] = (text, voice.voice_id)
    return {"token": token, "ids": ids, "second_voice": second}


def test_pages_come_one_at_a_time_with_back_and_next(
    frontend: Any, client: Any, paged_takes: dict,
) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])

    seen = []
    expected_sizes = [10, 10, 6]
    for page_number, size in enumerate(expected_sizes, start=1):
        assert len(shown_rows(table)) == size
        assert table.page_label.value.startswith(f"Page {page_number}")
        assert table.back_button.disabled == (page_number == 1)
        assert table.next_button.disabled == (page_number == 3)
        seen.append([row.item.history_item_id for row in table._visible_rows()])
        frontend.click(table.next_button)

    every_row = [item_id for page in seen for item_id in page]
    assert len(every_row) == len(set(every_row)) == 26  # no take shown twice
    assert set(every_row) == set(paged_takes["ids"])
    frontend.click(table.back_button)
    assert [row.item.history_item_id for row in table._visible_rows()] == seen[1]
    frontend.click(table.back_button)
    assert [row.item.history_item_id for row in table._visible_rows()] == seen[0]
    assert table.back_button.disabled


def test_page_size_chosen_in_the_widget(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    frontend.click(table.next_button)
    frontend.set_state(table.page_size_picker, index=table.page_size_picker.options.index(25))
    assert table.page_label.value.startswith("Page 1")
    assert len(shown_rows(table)) == 25
    frontend.click(table.next_button)
    assert len(shown_rows(table)) == 1
    assert table.next_button.disabled


def test_paging_reuses_the_row_widgets(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    frontend.click(table.next_button)
    frontend.click(table.back_button)
    widgets_after_one_round = len(live_widgets)
    for _ in range(3):
        frontend.click(table.next_button)
        frontend.click(table.next_button)
        frontend.click(table.back_button)
        frontend.click(table.back_button)
    assert len(live_widgets) == widgets_after_one_round
    assert len(table._rows) == 10


def test_closing_the_table_releases_all_its_widgets(
    frontend: Any, client: Any, paged_takes: dict,
) -> None:
    before = len(live_widgets)
    table = HistoryTable(client=client, page_size=25)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    frontend.click(table.next_button)  # the last page shows fewer rows than the pool holds
    assert len(live_widgets) > before
    table.close()
    assert len(live_widgets) == before


def test_search_narrows_the_rows(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client)
    frontend.set_state(table.search_box, value=f"Take 13 {paged_takes['token']}")
    assert row_texts(table) == [f"Take 13 {paged_takes['token']}."]
    frontend.set_state(table.search_box, value=f"no such words {uuid.uuid4().hex}")
    assert shown_rows(table) == []
    assert "no takes" in table.page_label.value


def test_voice_filter_shows_only_that_voice(frontend: Any, client: Any, paged_takes: dict) -> None:
    second = paged_takes["second_voice"]
    table = HistoryTable(client=client, page_size=25)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    values = [value for _, value in table.voice_filter.options]
    frontend.set_state(table.voice_filter, index=values.index(second.voice_id))
    expected = sorted(text for text, voice_id in paged_takes["ids"].values()
                      if voice_id == second.voice_id)
    assert len(expected) == 6
    assert sorted(row_texts(table)) == expected
    assert all(second.name in row.cells.value for row in table._visible_rows())


def test_delete_asks_first_and_deletes_on_confirm(
    frontend: Any, client: Any, server: Any, two_voices: tuple,
) -> None:
    token = f"del{uuid.uuid4().hex[:8]}"
    doomed = speak(client, f"Delete me {token}.", two_voices[0])
    kept = speak(client, f"Keep me {token}.", two_voices[0])
    table = HistoryTable(client=client)
    frontend.set_state(table.search_box, value=token)
    row = row_for(table, doomed)

    frontend.click(row.delete_button)
    assert row.confirm_box.layout.display is None  # "Delete? yes/no" is showing
    assert requests.get(f"{server.base_url}/v1/history/{doomed}", timeout=10).status_code == 200

    frontend.click(row.cancel_button)
    assert row.confirm_box.layout.display == "none"
    frontend.click(row.confirm_button)  # a stray click after "no" deletes nothing
    assert requests.get(f"{server.base_url}/v1/history/{doomed}", timeout=10).status_code == 200

    frontend.click(row.delete_button)
    frontend.click(row.confirm_button)
    assert requests.get(f"{server.base_url}/v1/history/{doomed}", timeout=10).status_code == 404
    listed = requests.get(f"{server.base_url}/v1/history", params={"search": token},
                          timeout=10).json()["history"]
    assert [item["history_item_id"] for item in listed] == [kept]
    assert [row.item.history_item_id for row in table._visible_rows()] == [kept]
    assert table.last_error is None


def test_failed_delete_shows_the_error_card(
    frontend: Any, client: Any, server: Any, two_voices: tuple,
) -> None:
    token = f"gone{uuid.uuid4().hex[:8]}"
    item_id = speak(client, f"Deleted elsewhere {token}.", two_voices[0])
    table = HistoryTable(client=client)
    frontend.set_state(table.search_box, value=token)
    row = row_for(table, item_id)
    frontend.click(row.delete_button)
    requests.delete(f"{server.base_url}/v1/history/{item_id}", timeout=10).raise_for_status()

    frontend.click(row.confirm_button)
    assert table.last_error is not None
    assert table.error_card.layout.display is None
    assert table.error_card.text  # the server's readable message, one line
    assert "\n" not in table.error_card.text


def test_open_in_studio_passes_the_whole_item(
    frontend: Any, client: Any, two_voices: tuple,
) -> None:
    token = f"open{uuid.uuid4().hex[:8]}"
    voice = two_voices[1]
    take = client.tts.convert(
        f"Open me {token}.", voice.voice_id, output_format="mp3_22050_32",
        voice_settings={"stability": 0.3, "similarity_boost": 0.6, "speed": 1.1},
    )
    table = HistoryTable(client=client)
    frontend.set_state(table.search_box, value=token)
    opened = []
    table.on_open(opened.append)
    frontend.click(row_for(table, take.history_item_id).open_button)

    assert len(opened) == 1
    item = opened[0]
    assert item.text == f"Open me {token}."
    assert item.voice_id == voice.voice_id
    assert item.model_id
    assert item.settings["stability"] == pytest.approx(0.3)
    assert item.settings["speed"] == pytest.approx(1.1)

    table.on_open(opened.append, remove=True)
    frontend.click(row_for(table, take.history_item_id).open_button)
    assert len(opened) == 1


def test_checked_rows_download_as_one_zip(
    frontend: Any, client: Any, server: Any, two_voices: tuple, tmp_path: Any,
) -> None:
    token = f"zip{uuid.uuid4().hex[:8]}"
    ids = [speak(client, f"Zip take {n} {token}.", two_voices[0]) for n in range(3)]
    table = HistoryTable(client=client, download_dir=tmp_path)
    frontend.set_state(table.search_box, value=token)
    assert table.zip_button.disabled
    frontend.set_state(row_for(table, ids[0]).select, value=True)
    frontend.set_state(row_for(table, ids[2]).select, value=True)
    assert table.zip_button.description == "Download 2 selected (zip)"

    frontend.click(table.zip_button)
    zips = list(tmp_path.glob("*.zip"))
    assert len(zips) == 1
    assert zips[0].name in table.status.value
    with zipfile.ZipFile(zips[0]) as archive:
        contents = sorted(archive.read(name) for name in archive.namelist())
    expected = sorted(
        requests.get(f"{server.base_url}/v1/history/{item_id}/audio", timeout=10).content
        for item_id in (ids[0], ids[2])
    )
    assert contents == expected


def test_row_download_and_inline_play(
    frontend: Any, client: Any, server: Any, two_voices: tuple, tmp_path: Any,
) -> None:
    token = f"play{uuid.uuid4().hex[:8]}"
    item_id = speak(client, f"Play me {token}.", two_voices[0])
    audio = requests.get(f"{server.base_url}/v1/history/{item_id}/audio", timeout=10).content
    table = HistoryTable(client=client, download_dir=tmp_path)
    frontend.set_state(table.search_box, value=token)
    row = row_for(table, item_id)

    frontend.click(row.download_button)
    files = list(tmp_path.iterdir())
    assert [path.read_bytes() for path in files] == [audio]
    assert files[0].suffix == ".mp3"

    frontend.click(row.play_button)
    (output,) = row.audio.outputs
    assert "<audio" in output["data"]["text/html"]
    assert "audio/mpeg" in output["data"]["text/html"]


def test_refresh_shows_a_new_take_first(client: Any, two_voices: tuple) -> None:
    table = HistoryTable(client=client)
    token = f"new{uuid.uuid4().hex[:8]}"
    item_id = speak(client, f"Brand new {token}.", two_voices[0])
    assert item_id not in {item.history_item_id for item in table.items}
    table.refresh()
    assert table.items[0].history_item_id == item_id


def test_to_dataframe_matches_the_page(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    frame = table.to_dataframe()
    assert list(frame["history_item_id"]) == [item.history_item_id for item in table.items]
    assert list(frame.columns) == ["history_item_id", "date", "voice_name", "voice_id",
                                   "model_id", "characters", "text"]
    assert (frame["characters"] > 0).all()
    everything = table.to_dataframe(all_pages=True)
    assert sorted(everything["history_item_id"]) == sorted(paged_takes["ids"])


def test_css_classes_for_browser_tests(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    row = table._visible_rows()[0]
    assert "xi-history" in table._dom_classes
    assert "xi-history-row" in row.box._dom_classes
    assert "xi-history-play" in row.play_button._dom_classes
    assert "xi-history-delete" in row.delete_button._dom_classes
    assert "xi-history-confirm" in row.confirm_button._dom_classes



def test_the_browser_can_render_every_page(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    first_page_models = frontend.render(table)
    frontend.click(table.next_button)
    frontend.click(table.next_button)  # last page: fewer rows shown, none missing
    assert frontend.render(table) < first_page_models
    frontend.click(table.back_button)
    assert frontend.render(table) == first_page_models

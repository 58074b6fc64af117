"""History downloads: repeated ids count once, the number of ids is capped, zips are streamed."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import replace

import pytest
import requests

from xiwidgets.server.store import new_id

from .harness import DEFAULT_TIMEOUT, history_ids
from .probe_history_download import probe_history_download

SEEDED_ITEMS = 30
SEEDED_ITEM_BYTES = 2_000_000


def _download(base_url: str, ids: list[str], **body: object) -> requests.Response:
    return requests.post(f"{base_url}/v1/history/download",
                         json={"history_item_ids": ids, **body}, timeout=DEFAULT_TIMEOUT)


def _take(base_url: str, voice_id: str, text: str) -> tuple[str, bytes]:
    response = requests.post(f"{base_url}/v1/text-to-speech/{voice_id}", json={"text": text},
                             timeout=DEFAULT_TIMEOUT)
    assert response.status_code == 200
    return response.headers["history-item-id"], response.content


def test_repeated_ids_are_downloaded_once_in_the_order_first_given(target):
    first, first_audio = _take(target.base_url, target.voice_id, "First of two.")
    second, _ = _take(target.base_url, target.voice_id, "Second of two.")

    several = _download(target.base_url, [second, first, second, second, first],
                        output_format="wav")
    one = _download(target.base_url, [first, first, first])

    assert several.status_code == 200 and several.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(several.content)) as archive:
        assert archive.namelist() == [f"{second}.wav", f"{first}.wav"]
        assert archive.read(f"{first}.wav").startswith(b"RIFF")
    assert one.status_code == 200 and one.headers["content-type"] == "audio/mpeg"
    assert one.content == first_audio


def test_more_distinct_ids_than_a_download_holds_is_a_readable_422(target):
    item, audio = _take(target.base_url, target.voice_id, "Asked for a thousand times.")

    too_many = _download(target.base_url, [f"NoSuchItem{i:010d}" for i in range(1001)])
    repeated = _download(target.base_url, [item] * 1000)

    assert too_many.status_code == 422
    (error,) = too_many.json()["detail"]
    assert error["loc"] == ["body", "history_item_ids"]
    assert "at most 1,000" in error["msg"] and "split" in error["msg"]
    assert repeated.status_code == 200 and repeated.content == audio


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_large_zip_is_streamed_with_the_server_memory_bounded(server_factory, tmp_path):
    server = server_factory()
    voices = requests.get(f"{server.base_url}/v1/voices", timeout=DEFAULT_TIMEOUT).json()
    voice = next(v["voice_id"] for v in voices["voices"] if v["name"] == "Riley")
    template_id, audio = _take(server.base_url, voice, "A take, copied into a long history.")
    # Many large takes, put straight into the running server's store: synthesizing 60 MB of
    # audio would take minutes. Concatenated MP3 files are an MP3 file.
    big_audio = audio * (SEEDED_ITEM_BYTES // len(audio) + 1)
    store = server.services.store
    template = store.get_history_item(template_id)
    seeded = [new_id() for _ in range(SEEDED_ITEMS)]
    for item_id in seeded:
        store.add_history_item(replace(template, history_item_id=item_id), big_audio, "mp3")
    assert set(seeded) <= set(history_ids(server.base_url))
    saved = tmp_path / "history.zip"

    probe = probe_history_download(server.base_url, os.getpid(), seeded,
                                   total=SEEDED_ITEMS, save_to=saved)

    assert probe.status == 200
    with zipfile.ZipFile(saved) as archive:
        assert archive.namelist() == [f"{item_id}.mp3" for item_id in seeded]
        assert archive.read(f"{seeded[-1]}.mp3") == big_audio
    total = SEEDED_ITEMS * len(big_audio)
    assert probe.response_bytes > total
    assert probe.rss_growth_bytes < total // 4, (
        f"the server's memory grew by {probe.rss_growth_bytes:,} bytes for a {total:,}-byte zip")

"""A designed voice's preview is spoken once: streams and saves replay it, and bill nothing.

The server's own synthesis counter (``synthesis_slots.started``: one per clause spoken) says
whether anything was spoken again; the character count says whether anything was billed.
The Joe and espeak-ng voices speak here (Kokoro hidden): the point is the bookkeeping.
"""

from __future__ import annotations

import threading

import pytest
import requests

from tests.server.helpers import character_count, delete, get, post, without_kokoro
from xiwidgets.server import voice_design

TEXT = (
    "The morning train was late again, so Maria walked to the office along the river and "
    "counted the boats."
)
DESCRIPTION = "A bright, fast female voice, young and cheerful."


@pytest.fixture
def plain(server_factory, tmp_path):
    with without_kokoro(tmp_path):
        yield server_factory()


def spoken(server) -> int:
    """Clauses the server has synthesized so far."""
    return server.services.concurrency.synthesis_slots.started


def design_ids(server, stream_previews: bool = True) -> list[str]:
    response = post(server, "/v1/text-to-voice/design", json={
        "voice_description": DESCRIPTION, "text": TEXT, "seed": 3,
        "stream_previews": stream_previews,
    })
    assert response.status_code == 200, response.text
    return [preview["generated_voice_id"] for preview in response.json()["previews"]]


def stream(server, generated_voice_id: str) -> requests.Response:
    return get(server, f"/v1/text-to-voice/{generated_voice_id}/stream")


def test_streaming_a_preview_again_replays_it_without_speaking_or_billing(plain):
    first_id, second_id, _ = design_ids(plain)
    billed = character_count(plain)
    before = spoken(plain)
    first = stream(plain, first_id)
    assert first.status_code == 200 and first.headers["content-type"] == "audio/mpeg"
    once = spoken(plain) - before
    assert once > 0  # the first stream of a stream_previews design speaks it
    again = [stream(plain, first_id) for _ in range(3)]
    assert {response.content for response in again} == {first.content}
    assert spoken(plain) - before == once
    # Another preview of the design is spoken (once) when it is first streamed.
    assert stream(plain, second_id).content != first.content
    assert spoken(plain) - before == 2 * once
    assert character_count(plain) == billed


def test_a_design_with_audio_keeps_it_for_its_streams(plain):
    ids = design_ids(plain, stream_previews=False)
    before = spoken(plain)
    streamed = [stream(plain, generated_voice_id) for generated_voice_id in ids]
    assert all(response.status_code == 200 for response in streamed)
    assert len({response.content for response in streamed}) == 3
    assert spoken(plain) == before


def test_streams_that_overlap_share_one_synthesis(plain):
    first_id, second_id, _ = design_ids(plain)
    before = spoken(plain)
    stream(plain, second_id)
    once = spoken(plain) - before
    bodies: list[bytes] = []

    def read() -> None:
        bodies.append(stream(plain, first_id).content)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert len(bodies) == 3 and len(set(bodies)) == 1 and bodies[0]
    assert spoken(plain) - before == 2 * once


def test_a_stream_cut_short_still_leaves_the_whole_preview_for_the_next(plain):
    first_id, *_ = design_ids(plain)
    before = spoken(plain)
    url = f"{plain.base_url}/v1/text-to-voice/{first_id}/stream"
    with requests.get(url, stream=True, timeout=60) as response:
        response.raw.read(1)
    whole = stream(plain, first_id).content
    once = spoken(plain) - before
    assert stream(plain, first_id).content == whole
    assert spoken(plain) - before == once


def test_saving_a_preview_speaks_it_once_even_saved_again_after_a_delete(plain):
    first_id, *_ = design_ids(plain)
    before = spoken(plain)
    body = {"voice_name": "Bright", "voice_description": DESCRIPTION,
            "generated_voice_id": first_id}
    saved = post(plain, "/v1/text-to-voice", json=body)
    assert saved.status_code == 200, saved.text
    once = spoken(plain) - before
    assert once > 0
    assert delete(plain, f"/v1/voices/{saved.json()['voice_id']}").status_code == 200
    again = post(plain, "/v1/text-to-voice", json=body)
    assert again.status_code == 200 and again.json()["voice_id"] != saved.json()["voice_id"]
    assert stream(plain, first_id).status_code == 200
    assert spoken(plain) - before == once


def test_past_the_count_cap_the_oldest_previews_go(plain, monkeypatch):
    monkeypatch.setattr(voice_design, "MAX_KEPT_PREVIEWS", 3)
    older = design_ids(plain)
    newer = design_ids(plain)
    for generated_voice_id in older:
        missing = stream(plain, generated_voice_id)
        assert missing.status_code == 404
        assert missing.json()["detail"]["status"] == "generated_voice_not_found"
    assert stream(plain, newer[0]).status_code == 200


def test_past_the_byte_cap_the_oldest_previews_go_and_the_rest_fit(plain, monkeypatch):
    older = design_ids(plain, stream_previews=False)
    sizes = [len(stream(plain, generated_voice_id).content) for generated_voice_id in older]
    cap = sum(sizes) + 1000
    monkeypatch.setattr(voice_design, "MAX_KEPT_PREVIEW_BYTES", cap)
    newer = design_ids(plain, stream_previews=False)
    assert stream(plain, older[0]).status_code == 404
    kept = [stream(plain, generated_voice_id) for generated_voice_id in [*older, *newer]]
    assert all(response.status_code in (200, 404) for response in kept)
    assert all(response.status_code == 200 for response in kept[len(older):])
    assert sum(len(r.content) for r in kept if r.status_code == 200) <= cap

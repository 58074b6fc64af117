"""Text to speech over HTTP: the four endpoints, their headers, formats and history items."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
import requests

from tests.server.helpers import (
    character_count,
    decode_audio,
    duration_of,
    get,
    history_count,
    post,
    voice_id_named,
)

TEXT = "Good morning. The weather is mild, and the trains run on time."
PARAGRAPH = (
    "The library opens at nine in the morning. Visitors may borrow up to five books at a time, "
    "and the reading room stays quiet all day. On Fridays, a volunteer reads stories to "
    "children, and everyone is welcome to listen."
)


@pytest.fixture(scope="module")
def joe(server) -> str:
    return voice_id_named(server, "Joe")


def test_convert_returns_mp3_with_the_hosted_headers(server, joe):
    before = character_count(server)
    response = post(server, f"/v1/text-to-speech/{joe}", json={"text": TEXT})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert 2.0 < duration_of(response.content) < 8.0
    assert response.headers["character-cost"] == str(len(TEXT))
    assert int(response.headers["current-concurrent-requests"]) >= 1
    assert int(response.headers["maximum-concurrent-requests"]) >= 1
    assert character_count(server) == before + len(TEXT)
    item = get(server, f"/v1/history/{response.headers['history-item-id']}").json()
    assert item["request_id"] == response.headers["request-id"]
    assert item["text"] == TEXT and item["voice_name"] == "Joe"
    assert item["character_count_change_to"] - item["character_count_change_from"] == len(TEXT)
    stored = get(server, f"/v1/history/{item['history_item_id']}/audio")
    assert stored.content == response.content


def test_every_response_has_a_request_id(server):
    # CORS headers go only to configured origins (tests/reliability/test_exposure.py).
    response = get(server, "/v1/models")
    assert len(response.headers["request-id"]) >= 16
    assert "access-control-allow-origin" not in response.headers


def test_headerless_formats_hold_the_same_take_at_their_rate(server, joe):
    body = {"text": "One, two, three, four.", "seed": 7}
    pcm = post(server, f"/v1/text-to-speech/{joe}?output_format=pcm_16000", json=body)
    ulaw = post(server, f"/v1/text-to-speech/{joe}?output_format=ulaw_8000", json=body)
    assert pcm.status_code == ulaw.status_code == 200
    assert len(pcm.content) % 2 == 0
    pcm_seconds = len(pcm.content) / 2 / 16000
    assert 1.0 < pcm_seconds < 6.0
    assert abs(len(ulaw.content) / 8000 - pcm_seconds) < 0.02 * pcm_seconds
    samples = np.frombuffer(pcm.content, "<i2")
    assert np.abs(samples).max() > 3000  # speech, not silence


def test_wav_only_on_non_streaming_endpoints(server, joe):
    wav = post(server, f"/v1/text-to-speech/{joe}?output_format=wav_22050", json={"text": "Hi."})
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
    assert decode_audio(wav.content)[1] == 22050
    streamed = post(
        server, f"/v1/text-to-speech/{joe}/stream?output_format=wav_22050", json={"text": "Hi."}
    )
    assert streamed.status_code == 422
    assert streamed.json()["detail"][0]["loc"] == ["query", "output_format"]


def _check_alignment(alignment: dict, text: str, audio_seconds: float) -> None:
    assert "".join(alignment["characters"]) == text
    starts = alignment["character_start_times_seconds"]
    ends = alignment["character_end_times_seconds"]
    assert len(starts) == len(ends) == len(text)
    assert all(s <= e for s, e in zip(starts, ends, strict=True))
    assert starts == sorted(starts)
    assert 0.5 * audio_seconds < ends[-1] <= audio_seconds + 0.05


def test_with_timestamps_aligns_every_character_over_the_take(server, joe):
    response = post(server, f"/v1/text-to-speech/{joe}/with-timestamps", json={"text": TEXT})
    assert response.status_code == 200
    body = response.json()
    audio = base64.b64decode(body["audio_base64"])
    _check_alignment(body["alignment"], TEXT, duration_of(audio))
    assert body["normalized_alignment"]["characters"]
    assert get(server, f"/v1/history/{response.headers['history-item-id']}").status_code == 200


def test_stream_with_timestamps_sends_one_json_object_per_line(server, joe):
    response = post(
        server, f"/v1/text-to-speech/{joe}/stream/with-timestamps", json={"text": PARAGRAPH}
    )
    assert response.status_code == 200
    lines = [line for line in response.text.split("\n") if line]
    assert response.text.endswith("\n") and len(lines) >= 4
    chunks = [json.loads(line) for line in lines]
    audio = b"".join(base64.b64decode(chunk["audio_base64"]) for chunk in chunks)
    timed = [chunk["alignment"] for chunk in chunks if chunk["alignment"]]
    merged = {
        key: [value for part in timed for value in part[key]]
        for key in ("characters", "character_start_times_seconds", "character_end_times_seconds")
    }
    # Times are cumulative over the take: later chunks start where earlier ones ended.
    _check_alignment(merged, PARAGRAPH, duration_of(audio))


def test_stream_sends_audio_before_the_take_is_finished(server, joe):
    response = requests.post(
        f"{server.base_url}/v1/text-to-speech/{joe}/stream",
        json={"text": PARAGRAPH},
        stream=True,
        timeout=60,
    )
    assert response.status_code == 200
    history_item_id = response.headers["history-item-id"]
    pieces = response.iter_content(chunk_size=None)
    first = next(pieces)
    # The first bytes are here, but the take is not done: its history item does not exist yet.
    assert first and get(server, f"/v1/history/{history_item_id}").status_code == 404
    audio = first + b"".join(pieces)
    assert duration_of(audio) > 8.0
    stored = get(server, f"/v1/history/{history_item_id}/audio")
    assert stored.status_code == 200 and stored.content == audio


def test_the_first_streamed_piece_is_enough_for_a_browser_to_start_playing(server, joe):
    # Chromium plays a MediaSource only with more than about 0.2 s queued: a shorter first
    # piece would keep the Studio silent until the second one arrives.
    response = requests.post(
        f"{server.base_url}/v1/text-to-speech/{joe}/stream/with-timestamps",
        json={"text": PARAGRAPH},
        stream=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in response.iter_lines() if line]
    pieces = [base64.b64decode(line["audio_base64"]) for line in lines if line["audio_base64"]]
    assert len(pieces) > 2
    assert 0.3 <= duration_of(pieces[0]) < duration_of(b"".join(pieces)) / 4


def test_client_leaving_mid_stream_is_refunded_and_nothing_is_stored(server, joe):
    characters = character_count(server)
    response = requests.post(
        f"{server.base_url}/v1/text-to-speech/{joe}/stream",
        json={"text": PARAGRAPH},
        stream=True,
        timeout=60,
    )
    history_item_id = response.headers["history-item-id"]
    assert next(response.iter_content(chunk_size=None))
    response.close()
    # The server stops at the next clause boundary and refunds; wait for that (bounded).
    deadline = time.monotonic() + 60
    while character_count(server) != characters and time.monotonic() < deadline:
        time.sleep(0.1)
    assert character_count(server) == characters
    assert get(server, f"/v1/history/{history_item_id}").status_code == 404
    assert post(server, f"/v1/text-to-speech/{joe}", json={"text": "Still serving."}).ok


def test_enable_logging_false_stores_no_history_but_counts_characters(server, joe):
    before_items, before_count = history_count(server), character_count(server)
    response = post(
        server, f"/v1/text-to-speech/{joe}?enable_logging=false", json={"text": "Off the record."}
    )
    assert response.status_code == 200
    assert "history-item-id" not in response.headers
    assert history_count(server) == before_items
    assert character_count(server) == before_count + len("Off the record.")


def test_model_cost_multiplier_is_charged(server, joe):
    before = character_count(server)
    response = post(
        server,
        f"/v1/text-to-speech/{joe}",
        json={"text": "Half price words.", "model_id": "eleven_flash_v2_5"},
    )
    assert response.status_code == 200
    assert response.headers["character-cost"] == str(round(len("Half price words.") * 0.5))
    assert character_count(server) == before + int(response.headers["character-cost"])
    item = get(server, f"/v1/history/{response.headers['history-item-id']}").json()
    assert item["model_id"] == "eleven_flash_v2_5"


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for coming 🎉🎉 see you soon 👋",
        "The word שלום means peace, and مرحبا means hello.",
        "zero\u200bwidth\u200cjoiners\u200d do not break the words",
        " ".join(["words without any punctuation at all"] * 6),
    ],
    ids=["emoji", "rtl", "zero-width", "no-punctuation"],
)
def test_unusual_text_is_spoken(server, joe, text):
    before = history_count(server)
    response = post(server, f"/v1/text-to-speech/{joe}/with-timestamps", json={"text": text})
    assert response.status_code == 200, response.text
    body = response.json()
    samples, rate = decode_audio(base64.b64decode(body["audio_base64"]))
    assert len(samples) / rate > 0.5 and np.abs(samples).max() > 0.05
    assert "".join(body["alignment"]["characters"]) == text
    assert history_count(server) == before + 1


@pytest.mark.parametrize("name", ["Joe", "Riley"])  # Riley: espeak-ng en-us+f2, breathy
def test_a_seed_repeats_a_take_byte_for_byte_over_http(server, name):
    voice = voice_id_named(server, name)
    url = f"/v1/text-to-speech/{voice}/stream?output_format=pcm_22050"
    body = {"text": "Bonjour, Anna. See you at seven, by the river.", "seed": 4242}
    first = post(server, url, json=body)
    between = post(server, url, json={"text": "Something else, said in between."})
    again = post(server, url, json=body)
    other = post(server, url, json={**body, "seed": 4243})
    assert first.status_code == between.status_code == again.status_code == 200
    assert first.content == again.content
    assert other.status_code == 200 and other.content != first.content

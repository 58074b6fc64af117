"""Break tags: ``<break time="1.5s" />`` is a pause of that length, never words (over HTTP and the
stream-input websocket)."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from websockets.sync.client import connect

from tests.server.helpers import (
    character_count,
    decode_audio,
    post,
    receive_all,
    voice_id_named,
)
from tests.server.speech_helpers import TAKE_SEED

BEFORE, TAG, AFTER = "Take a deep breath. ", '<break time="1.5s" />', " Then carry on."


@pytest.fixture(scope="module")
def joe(server) -> str:
    return voice_id_named(server, "Joe")


def take(server, voice_id: str, text: str) -> tuple[np.ndarray, int, dict]:
    """A seeded take of ``text`` with its alignment: samples, rate, alignment."""
    response = post(server, f"/v1/text-to-speech/{voice_id}/with-timestamps",
                    params={"enable_logging": "false"}, json={"text": text, "seed": TAKE_SEED})
    assert response.status_code == 200, response.text
    body = response.json()
    samples, rate = decode_audio(base64.b64decode(body["audio_base64"]))
    return samples, rate, body["alignment"]


def test_a_break_tag_is_a_silent_pause_of_its_length(server, joe):
    plain, rate, _ = take(server, joe, BEFORE + AFTER)
    paused, rate, alignment = take(server, joe, BEFORE + TAG + AFTER)

    # The tag adds its 1.5 s (the clause break it makes is already there after the full stop).
    assert abs((len(paused) - len(plain)) / rate - 1.5) < 0.3
    # Every character is timed, the tag's over its pause: silent audio between speech.
    assert "".join(alignment["characters"]) == BEFORE + TAG + AFTER
    first, last = len(BEFORE), len(BEFORE) + len(TAG) - 1
    start, end = (alignment["character_start_times_seconds"][first],
                  alignment["character_end_times_seconds"][last])
    assert end - start == pytest.approx(1.5, abs=0.05)
    pause = paused[int(start * rate) + rate // 20: int(end * rate) - rate // 20]
    assert np.sqrt(np.mean(pause**2)) < 0.003
    speech_after = paused[int(end * rate): int((end + 0.5) * rate)]
    assert np.abs(speech_after).max() > 0.05


def test_tags_side_by_side_make_one_pause_of_at_most_three_seconds(server, joe):
    plain, rate, _ = take(server, joe, "Wait. Go.")
    # 40 tags of 3 s, and one of 10 s: a request of this size must not make minutes of audio.
    many, rate, _ = take(server, joe, "Wait." + '<break time="3s"/>' * 40 + " Go.")
    long, rate, _ = take(server, joe, 'Wait.<break time="10s"/> Go.')

    for paused in (many, long):
        assert (len(paused) - len(plain)) / rate == pytest.approx(3.0, abs=0.3)


def test_millisecond_and_bare_tags_are_pauses_too(server, joe):
    plain, rate, _ = take(server, joe, "One, two.")
    short, rate, _ = take(server, joe, 'One,<break time="800ms"/> two.')
    bare, rate, _ = take(server, joe, "One,<break/> two.")

    assert (len(short) - len(plain)) / rate == pytest.approx(0.8, abs=0.25)
    assert (len(bare) - len(plain)) / rate == pytest.approx(0.5, abs=0.25)


def test_a_text_of_break_tags_only_is_refused_and_not_billed(server, joe):
    used = character_count(server)
    response = post(server, f"/v1/text-to-speech/{joe}", json={"text": '<break time="2s" />'})

    assert response.status_code == 400
    assert response.json()["detail"]["status"] == "invalid_text"
    assert character_count(server) == used


def test_the_recognizer_hears_the_words_and_not_the_tag(server, joe):
    pytest.importorskip("faster_whisper")
    text = 'Hello <break time="1s" /> world. One <break/> two.'
    response = post(server, f"/v1/text-to-speech/{joe}", json={"text": text, "seed": TAKE_SEED})
    assert response.status_code == 200, response.text

    heard = post(server, "/v1/speech-to-text", files={"file": ("take.mp3", response.content)},
                 data={"model_id": "scribe_v1"}).json()["text"]

    said = re.sub(r"[^a-z ]+", " ", heard.lower()).split()
    assert "hello" in said and "world" in said
    assert not {"break", "time", "slash"} & set(said), heard


def websocket_take(server, voice_id: str, pieces: list[str]) -> tuple[np.ndarray, str]:
    """Samples (16 kHz) and aligned characters of a stream-input session that sends each of
    ``pieces`` with ``flush``, as a client speaking a reply sentence by sentence does."""
    url = (f"ws{server.base_url[4:]}/v1/text-to-speech/{voice_id}/stream-input"
           f"?output_format=pcm_16000&seed={TAKE_SEED}")
    with connect(url) as socket:
        socket.send(json.dumps({"text": " "}))
        for piece in pieces:
            socket.send(json.dumps({"text": piece, "flush": True}))
        socket.send(json.dumps({"text": ""}))
        messages = receive_all(socket)
    audio = b"".join(base64.b64decode(m["audio"]) for m in messages if m.get("audio"))
    characters = "".join("".join(m["alignment"]["chars"]) for m in messages if m.get("alignment"))
    return np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768, characters


def longest_silence_s(samples: np.ndarray, rate: int = 16000) -> float:
    """The longest run of 20 ms windows quieter than RMS 0.003, in seconds."""
    window = rate // 50
    frames = samples[: len(samples) // window * window].reshape(-1, window)
    quiet = np.sqrt(np.mean(frames**2, axis=1)) < 0.003
    longest = run = 0
    for is_quiet in quiet:
        run = run + 1 if is_quiet else 0
        longest = max(longest, run)
    return longest / 50


def test_a_break_tag_sent_alone_over_the_websocket_is_the_pause_before_what_follows(server, joe):
    # The buffer speaks "Take a deep breath." at its flush; the tag then arrives on its own.
    # A piece of tags alone has nothing to say, but its pause must not be lost.
    plain, plain_chars = websocket_take(server, joe, [BEFORE, AFTER])
    paused, characters = websocket_take(server, joe, [BEFORE, TAG, AFTER])

    assert characters == BEFORE + TAG + AFTER  # the tag is aligned (and billed) as sent
    assert plain_chars == BEFORE + AFTER
    assert (len(paused) - len(plain)) / 16000 == pytest.approx(1.5, abs=0.3)
    assert longest_silence_s(paused) > 1.3 > longest_silence_s(plain)

"""``POST /v1/audio/speech`` reads numbers as OpenAI's models do, and its ``instructions`` set
the pace and expressiveness the local engines can change (and nothing else)."""

from __future__ import annotations

import numpy as np
import parselmouth
import pytest

from tests.server.helpers import get

openai = pytest.importorskip("openai")

PRICE = "It costs $42.50 now."


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0)


def _speak(client, voice: str, text: str, **more):
    return client.audio.speech.create(
        model="tts-1-hd", voice=voice, input=text, response_format="pcm", **more
    )


def _item(server, answer) -> dict:
    item_id = answer.response.headers["history-item-id"]
    return get(server, f"/v1/history/{item_id}").json()


@pytest.mark.parametrize("model", ["tts-1", "gpt-4o-mini-tts"])
def test_numbers_and_money_are_read_as_words_whatever_the_model(server, client, model):
    answer = client.audio.speech.create(model=model, voice="Joe", input=PRICE)
    alignments = _item(server, answer)["alignments"]
    assert "".join(alignments["alignment"]["characters"]) == PRICE
    said = "".join(alignments["normalized_alignment"]["characters"])
    assert said == "It costs forty-two dollars and fifty cents now."


def test_slow_and_fast_instructions_change_the_pace(server, client):
    text = "The quick brown fox jumps over the lazy dog near the river bank."
    seconds = {}
    for pace in ("slowly", "fast"):
        answer = _speak(client, "Joe", text, instructions=f"Speak {pace}, please.")
        seconds[pace] = len(answer.content) / 2 / 24_000
        assert _item(server, answer)["settings"]["speed"] == (0.85 if pace == "slowly" else 1.15)
    assert seconds["slowly"] > 1.2 * seconds["fast"], seconds


def _pitch_spread(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
    pitch = parselmouth.Sound(samples, 24_000).to_pitch()
    voiced = pitch.selected_array["frequency"]
    voiced = voiced[voiced > 0]
    return float(np.percentile(voiced, 90) / np.percentile(voiced, 10))


def test_calm_and_expressive_instructions_change_the_pitch_range(server, client):
    text = "Really? You found the key under the old stone by the garden gate!"
    calm = _speak(client, "Amelia", text, instructions="Calm and steady.")
    lively = _speak(client, "Amelia", text, instructions="Very expressive and dramatic!")
    assert _item(server, calm)["settings"]["stability"] == 0.85
    assert _item(server, lively)["settings"]["stability"] == 0.2
    assert _pitch_spread(lively.content) > _pitch_spread(calm.content) * 1.1


def test_an_explicit_speed_wins_and_other_instructions_change_nothing(server, client):
    both = _speak(client, "Joe", "Hello there.", instructions="Speak slowly.", speed=1.1)
    assert _item(server, both)["settings"]["speed"] == 1.1
    plain = _speak(client, "Joe", "Hello there.")
    pirate = _speak(client, "Joe", "Hello there.", instructions="Sound like a pirate, slow "
                    "then fast.")
    assert _item(server, pirate)["settings"] == _item(server, plain)["settings"]

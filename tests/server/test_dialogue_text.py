"""Text to dialogue honours what a single take honours: pronunciation dictionaries, text
normalization (``alignment`` as sent, ``normalized_alignment`` as spoken, over the whole
dialogue) and ``language_code``."""

from __future__ import annotations

import base64
import json

import pytest
import soxr

from tests.server.helpers import character_count, decode_audio, get, history_count, post
from tests.server.helpers import voice_id_named as named

FIRST = "We flew to Zqx today."
PRICE = "It costs $42.50 now."
SAID_PRICE = "It costs forty-two dollars and fifty cents now."
REPLY = "Good to hear."


@pytest.fixture(scope="module")
def voices(server):
    return {name: named(server, name) for name in ("Joe", "Amelia")}


def _hear(mp3: bytes) -> list[str]:
    from xiwidgets.experiments.whisper import WHISPER_RATE, transcribe

    samples, rate = decode_audio(mp3)
    text = transcribe(soxr.resample(samples, rate, WHISPER_RATE), language="en")
    return text.lower().replace(",", " ").replace(".", " ").split()


def _dictionary(server, rules) -> dict:
    created = post(server, "/v1/pronunciation-dictionaries/add-from-rules",
                   json={"name": "dialogue", "rules": rules})
    assert created.status_code == 200, created.text
    return {"pronunciation_dictionary_id": created.json()["id"]}


def test_whisper_hears_an_alias_rule_in_a_dialogue_line(server, voices):
    locator = _dictionary(
        server, [{"string_to_replace": "Zqx", "type": "alias", "alias": "London"}]
    )
    inputs = [{"text": FIRST, "voice_id": voices["Joe"]},
              {"text": REPLY, "voice_id": voices["Amelia"]}]
    used = character_count(server)
    response = post(server, "/v1/text-to-dialogue/with-timestamps", json={
        "inputs": inputs, "pronunciation_dictionary_locators": [locator],
    })
    assert response.status_code == 200, response.text
    body = response.json()
    segment = body["voice_segments"][0]
    samples_mp3 = base64.b64decode(body["audio_base64"])
    assert "london" in _hear(samples_mp3)
    # Billed and aligned as sent: the rule changes what is said, not what was paid for.
    assert "".join(body["alignment"]["characters"]) == f"{FIRST} {REPLY}"
    assert segment["character_end_index"] == len(FIRST)
    assert character_count(server) - used == len(FIRST) + len(REPLY)


def test_unknown_dictionaries_and_too_many_locators_cost_nothing(server, voices):
    locator = _dictionary(server, [])
    used, items = character_count(server), history_count(server)
    inputs = [{"text": "Nothing is said.", "voice_id": voices["Joe"]}]
    for locators, status in [
        ([{"pronunciation_dictionary_id": "nope"}], 404),
        ([{**locator, "version_id": "nope"}], 404),
        ([locator] * 4, 422),
    ]:
        response = post(server, "/v1/text-to-dialogue", json={
            "inputs": inputs, "pronunciation_dictionary_locators": locators,
        })
        assert response.status_code == status, response.text
    assert character_count(server) == used and history_count(server) == items


def test_normalization_of_a_line_shows_in_normalized_alignment_only(server, voices):
    inputs = [{"text": REPLY, "voice_id": voices["Amelia"]},
              {"text": PRICE, "voice_id": voices["Joe"]}]
    response = post(server, "/v1/text-to-dialogue/with-timestamps", json={
        "inputs": inputs, "apply_text_normalization": "on",
    })
    assert response.status_code == 200, response.text
    body = response.json()
    sent = "".join(body["alignment"]["characters"])
    said = "".join(body["normalized_alignment"]["characters"])
    assert sent == f"{REPLY} {PRICE}"
    assert said == f"{REPLY} {SAID_PRICE}"
    times = body["alignment"]["character_start_times_seconds"]
    assert len(times) == len(sent) and times == sorted(times)
    joe = body["voice_segments"][1]
    assert sent[joe["character_start_index"]:joe["character_end_index"]] == PRICE
    # The history keeps both alignments of the whole take.
    item_id = response.headers["history-item-id"]
    kept = get(server, f"/v1/history/{item_id}").json()
    assert kept["dialogue"][1]["text"] == PRICE

    off = post(server, "/v1/text-to-dialogue/with-timestamps", json={
        "inputs": inputs, "apply_text_normalization": "off",
    }).json()
    assert "".join(off["normalized_alignment"]["characters"]) == sent


def test_streamed_lines_carry_both_alignments_and_segments_index_the_text_sent(server, voices):
    inputs = [{"text": PRICE, "voice_id": voices["Joe"]},
              {"text": REPLY, "voice_id": voices["Amelia"]}]
    response = post(server, "/v1/text-to-dialogue/stream/with-timestamps", json={
        "inputs": inputs, "apply_text_normalization": "on",
    })
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines() if line]
    sent = "".join("".join(line["alignment"]["characters"]) for line in lines
                   if line["alignment"])
    said = "".join("".join(line["normalized_alignment"]["characters"]) for line in lines
                   if line["normalized_alignment"])
    assert sent == f"{PRICE} {REPLY}"
    assert said == f"{SAID_PRICE} {REPLY}"
    for line in lines:
        for segment in line["voice_segments"]:
            characters = line["alignment"]["characters"]
            assert segment["character_end_index"] == len(characters)


def test_the_official_sdk_sends_normalization_and_gets_both_alignments(server, voices):
    elevenlabs = pytest.importorskip("elevenlabs.client")
    sdk = elevenlabs.ElevenLabs(api_key="x", base_url=server.base_url)
    timed = sdk.text_to_dialogue.convert_with_timestamps(
        inputs=[{"text": PRICE, "voice_id": voices["Joe"]}], apply_text_normalization="on"
    )
    assert "".join(timed.alignment.characters) == PRICE
    assert "".join(timed.normalized_alignment.characters) == SAID_PRICE


def test_language_code_chooses_the_language_the_lines_are_read_in(server, voices):
    inputs = [{"text": "Il a 42 chats.", "voice_id": voices["Amelia"]}]
    french = post(server, "/v1/text-to-dialogue/with-timestamps", json={
        "inputs": inputs, "language_code": "fr", "apply_text_normalization": "on",
    })
    assert french.status_code == 200, french.text
    said = "".join(french.json()["normalized_alignment"]["characters"])
    assert said == "Il a quarante-deux chats."
    english = post(server, "/v1/text-to-dialogue/with-timestamps", json={
        "inputs": inputs, "apply_text_normalization": "on",
    }).json()
    assert "forty-two" in "".join(english["normalized_alignment"]["characters"])


@pytest.mark.parametrize(("voice", "code", "says"), [
    ("Amelia", "xx", "does not support the language_code"),
    ("Joe", "fr", "its engine reads en"),
])
def test_a_language_the_model_or_a_voice_cannot_read_is_refused_before_billing(
    server, voices, voice, code, says
):
    used, items = character_count(server), history_count(server)
    response = post(server, "/v1/text-to-dialogue", json={
        "inputs": [{"text": "Hello there.", "voice_id": voices[voice]}], "language_code": code,
    })
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail["status"] == "unsupported_language" and says in detail["message"]
    assert character_count(server) == used and history_count(server) == items


def test_text_to_speech_refuses_and_honours_language_code_the_same_way(server, voices):
    refused = post(server, f"/v1/text-to-speech/{voices['Joe']}",
                   json={"text": "Bonjour.", "language_code": "fr"})
    assert refused.status_code == 400
    assert refused.json()["detail"]["status"] == "unsupported_language"
    read = post(server, f"/v1/text-to-speech/{voices['Amelia']}/with-timestamps", json={
        "text": "Il a 42 chats.", "language_code": "fr", "apply_text_normalization": "on",
    })
    assert read.status_code == 200, read.text
    assert "quarante-deux" in "".join(read.json()["normalized_alignment"]["characters"])


def test_the_websocket_reads_its_text_in_the_language_code(server):
    from xiwidgets.client import Client

    client = Client(api_key="x", base_url=server.base_url)
    chunks = list(client.tts.realtime("Amelia", text_chunks=["Il a 42 chats."],
                                      language_code="fr", apply_text_normalization="on"))
    spoken = "".join(c.normalized_alignment.text for c in chunks if c.normalized_alignment)
    assert "quarante-deux" in spoken


def test_the_highest_latency_optimization_turns_normalization_off_unless_asked(server, voices):
    def said(latency: int, **body) -> str:
        response = post(server, f"/v1/text-to-speech/{voices['Joe']}/with-timestamps",
                        params={"optimize_streaming_latency": latency},
                        json={"text": PRICE, **body})
        assert response.status_code == 200, response.text
        return "".join(response.json()["normalized_alignment"]["characters"])

    assert said(3) == SAID_PRICE  # eleven_multilingual_v2 normalizes on auto
    assert said(4) == PRICE
    assert said(4, apply_text_normalization="on") == SAID_PRICE

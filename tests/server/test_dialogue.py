"""Text to dialogue: several voices in one continuous take, billed and stored like any take."""

from __future__ import annotations

import base64
import json

import numpy as np
import parselmouth
import pytest

from tests.server.helpers import (
    character_count,
    decode_audio,
    get,
    history_count,
    post,
    voice_id_named,
)
from tests.server.reference import load_reference_spec, schema_errors

elevenlabs_client = pytest.importorskip("elevenlabs.client")
from elevenlabs import DialogueInput  # noqa: E402

SPEC_2 = load_reference_spec()
SPEC_1 = load_reference_spec("elevenlabs-openapi-subset.json")
JOE_LINE = "Good morning, how did you sleep last night?"
AMELIA_LINE = "Very well, thank you for asking me."


@pytest.fixture(scope="module")
def voices(server):
    return {name: voice_id_named(server, name) for name in ("Joe", "Amelia")}


@pytest.fixture(scope="module")
def sdk(server):
    return elevenlabs_client.ElevenLabs(api_key="x", base_url=server.base_url)


def _inputs(voices):
    return [
        {"text": JOE_LINE, "voice_id": voices["Joe"]},
        {"text": AMELIA_LINE, "voice_id": voices["Amelia"]},
    ]


def _median_pitch(samples: np.ndarray, rate: int) -> float:
    pitch = parselmouth.Sound(samples.astype(np.float64), rate).to_pitch()
    voiced = pitch.selected_array["frequency"]
    return float(np.median(voiced[voiced > 0]))


def test_each_line_is_spoken_in_its_voice(server, sdk, voices):
    timed = sdk.text_to_dialogue.convert_with_timestamps(
        inputs=[DialogueInput(**line) for line in _inputs(voices)], seed=7
    )
    samples, rate = decode_audio(base64.b64decode(timed.audio_base_64))
    joe, amelia = timed.voice_segments
    assert (joe.voice_id, joe.dialogue_input_index) == (voices["Joe"], 0)
    assert (amelia.voice_id, amelia.dialogue_input_index) == (voices["Amelia"], 1)
    assert joe.end_time_seconds <= amelia.start_time_seconds
    cut = {
        name: samples[int(s.start_time_seconds * rate) : int(s.end_time_seconds * rate)]
        for name, s in (("joe", joe), ("amelia", amelia))
    }
    low, high = _median_pitch(cut["joe"], rate), _median_pitch(cut["amelia"], rate)
    assert high > 1.4 * low, (low, high)


def test_the_alignment_covers_the_whole_take_and_the_segments_index_it(sdk, voices):
    timed = sdk.text_to_dialogue.convert_with_timestamps(
        inputs=_inputs(voices), output_format="pcm_24000"
    )
    characters = "".join(timed.alignment.characters)
    assert characters == f"{JOE_LINE} {AMELIA_LINE}"
    for segment, line in zip(timed.voice_segments, (JOE_LINE, AMELIA_LINE), strict=True):
        assert characters[segment.character_start_index : segment.character_end_index] == line
    audio_seconds = len(base64.b64decode(timed.audio_base_64)) / 2 / 24_000
    ends = timed.alignment.character_end_times_seconds
    assert ends == sorted(ends)
    assert 0 < ends[-1] <= audio_seconds + 0.05


def test_the_official_sdk_converts_and_streams_a_dialogue(sdk, voices):
    whole = b"".join(sdk.text_to_dialogue.convert(inputs=_inputs(voices)))
    streamed = b"".join(
        sdk.text_to_dialogue.stream(inputs=_inputs(voices), output_format="pcm_16000")
    )
    samples, _ = decode_audio(whole)
    assert len(samples) > 0
    assert len(streamed) > 2 * 16_000 * 2  # more than two seconds of 16-bit PCM
    chunks = list(sdk.text_to_dialogue.stream_with_timestamps(inputs=_inputs(voices)))
    spoken = "".join(
        "".join(chunk.alignment.characters) for chunk in chunks if chunk.alignment is not None
    )
    assert spoken == f"{JOE_LINE} {AMELIA_LINE}"
    speakers = [s.dialogue_input_index for chunk in chunks for s in chunk.voice_segments]
    assert speakers == sorted(speakers) and set(speakers) == {0, 1}


def test_lines_of_engines_with_different_rates_make_one_continuous_file(server, voices):
    names = {v["name"]: v["voice_id"] for v in get(server, "/v1/voices").json()["voices"]}
    if "Bella" not in names:
        pytest.skip("the Kokoro voices are not installed")
    inputs = [
        {"text": "Piper speaks first.", "voice_id": voices["Joe"]},
        {"text": "Kokoro answers at another rate.", "voice_id": names["Bella"]},
        {"text": "And espeak closes.", "voice_id": voices["Amelia"]},
    ]
    response = post(server, "/v1/text-to-dialogue/with-timestamps", json={"inputs": inputs})
    body = response.json()
    samples, rate = decode_audio(base64.b64decode(body["audio_base64"]))
    assert rate == 44_100
    last = body["voice_segments"][-1]["end_time_seconds"]
    assert abs(len(samples) / rate - last) < 0.5  # no line's audio stretched or squeezed
    for segment in body["voice_segments"]:
        start, end = segment["start_time_seconds"], segment["end_time_seconds"]
        part = samples[int(start * rate) : int(end * rate)]
        assert np.abs(part).max() > 0.05  # each line is audible where its segment says


def test_a_dialogue_is_billed_its_lines_characters_and_is_one_history_item(server, voices):
    used, items = character_count(server), history_count(server)
    response = post(server, "/v1/text-to-dialogue", json={"inputs": _inputs(voices)})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    cost = len(JOE_LINE) + len(AMELIA_LINE)
    assert int(response.headers["character-cost"]) == cost
    assert character_count(server) == used + cost
    assert history_count(server) == items + 1
    item_id = response.headers["history-item-id"]
    item = get(server, f"/v1/history/{item_id}").json()
    assert item["dialogue"] == [
        {"text": JOE_LINE, "voice_id": voices["Joe"], "voice_name": "Joe"},
        {"text": AMELIA_LINE, "voice_id": voices["Amelia"], "voice_name": "Amelia"},
    ]
    assert item["text"] is None and item["voice_id"] is None
    assert item["character_count_change_to"] - item["character_count_change_from"] == cost
    assert get(server, f"/v1/history/{item_id}/audio").content == response.content
    found = get(server, "/v1/history", params={"search": "Good morning"}).json()["history"]
    assert item_id in [entry["history_item_id"] for entry in found]


def test_a_seed_repeats_the_dialogue(server, voices):
    body = {"inputs": _inputs(voices), "seed": 42}
    first = post(server, "/v1/text-to-dialogue?output_format=pcm_22050", json=body)
    again = post(server, "/v1/text-to-dialogue?output_format=pcm_22050", json=body)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and len(first.content) > 22_050 * 2


def _joe_says(text: str = "Hi.", **more) -> dict:
    return {"inputs": [{"text": text, "voice_id": "JOE"}], **more}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"inputs": []}, 422, None),
        ({}, 422, None),
        ({"inputs": [{"text": "Hello."}]}, 422, None),
        ({"inputs": [{"text": "Hello.", "voice_id": "no-such-voice"}]}, 404, "voice_not_found"),
        (_joe_says("   "), 400, "invalid_text"),
        (_joe_says("x" * 2001), 400, "max_character_limit_exceeded"),
        (_joe_says(model_id="nope"), 400, "model_not_found"),
        (_joe_says(seed=-1), 422, None),
        (_joe_says(settings={"stability": 3}), 422, None),
    ],
)
def test_bad_input_is_refused_before_anything_is_billed(server, voices, body, status, code):
    body = json.loads(json.dumps(body).replace('"JOE"', json.dumps(voices["Joe"])))
    used, items = character_count(server), history_count(server)
    response = post(server, "/v1/text-to-dialogue", json=body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if code is None:
        assert isinstance(detail, list) and detail[0]["loc"][0] == "body"
    else:
        assert detail["status"] == code and detail["message"]
    assert character_count(server) == used and history_count(server) == items


def test_too_many_voices_and_a_bad_format_are_refused(server):
    premade = [v["voice_id"] for v in get(server, "/v1/voices").json()["voices"]][:11]
    if len(premade) < 11:
        pytest.skip("fewer than eleven voices on this server")
    lines = [{"text": "One line.", "voice_id": voice_id} for voice_id in premade]
    used = character_count(server)
    many = post(server, "/v1/text-to-dialogue", json={"inputs": lines})
    assert many.status_code == 400
    assert many.json()["detail"]["status"] == "too_many_voices"
    bad_format = post(
        server, "/v1/text-to-dialogue?output_format=mp3_1_1", json={"inputs": lines[:1]}
    )
    assert bad_format.status_code == 422
    assert bad_format.json()["detail"][0]["loc"] == ["query", "output_format"]
    assert character_count(server) == used


def test_a_wrong_key_is_refused(server_factory):
    keyed = server_factory(api_keys=["k"])
    refused = post(keyed, "/v1/text-to-dialogue", json={"inputs": []}, headers={"xi-api-key": "x"})
    assert refused.status_code == 401


@pytest.mark.skipif(SPEC_1 is None or SPEC_2 is None, reason="official OpenAPI subsets absent")
def test_requests_and_the_history_item_conform_to_the_spec(server, voices):
    operation = SPEC_2["paths"]["/v1/text-to-dialogue"]["post"]
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    body = {"inputs": _inputs(voices), "seed": 3, "settings": {"stability": 0.5}}
    assert not schema_errors(SPEC_2, request_schema, body)
    response = post(server, "/v1/text-to-dialogue", json=body)
    assert response.headers["content-type"] in operation["responses"]["200"]["content"]
    item = get(server, f"/v1/history/{response.headers['history-item-id']}").json()
    schema = SPEC_1["paths"]["/v1/history/{history_item_id}"]["get"]["responses"]["200"]
    assert not schema_errors(SPEC_1, schema["content"]["application/json"]["schema"], item)

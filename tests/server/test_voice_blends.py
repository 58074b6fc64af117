"""Blends of Kokoro voices (``POST /v1/voices/blend``): stored, listed, spoken, kept, deleted."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import requests
from websockets.sync.client import connect

from tests.server.helpers import delete, get
from xiwidgets.server.catalog import KOKORO_VOICES, PREMADE_VOICES
from xiwidgets.server.engines.kokoro_assets import ASSETS_ENV, check_assets

needs_kokoro = pytest.mark.skipif(
    check_assets().assets is None, reason="Kokoro assets not installed (xiwidgets voices install)"
)


# Kokoro takes are seconds on a quiet machine and can be a minute on a crowded one; the first
# of a process also loads the model.
TIMEOUT = 600


def post(server, path: str, **kwargs) -> requests.Response:
    return requests.post(server.base_url + path, timeout=TIMEOUT, **kwargs)


@pytest.fixture(scope="module")
def kokoro_server(server):
    """The session server, its Kokoro model loaded by one take."""
    requests.post(f"{server.base_url}/v1/text-to-speech/{SARAH}", json={"text": "Ready."},
                  timeout=TIMEOUT).raise_for_status()
    return server


def _kokoro(name: str) -> str:
    return next(v.voice_id for v in KOKORO_VOICES if v.spec.engine_voice == name)


SARAH, MICHAEL, BELLA = _kokoro("af_sarah"), _kokoro("am_michael"), _kokoro("af_bella")
JOE = next(v.voice_id for v in PREMADE_VOICES if v.name == "Joe")
TEXT = "The quick brown fox jumps over the lazy dog."


def _blend(server, *parts: tuple[str, float], name: str = "Sarah and Michael", **extra):
    voices = [{"voice_id": voice_id, "weight": weight} for voice_id, weight in parts]
    return post(server, "/v1/voices/blend", json={"name": name, "voices": voices, **extra})


def _pcm(server, voice_id: str, text: str = TEXT, seed: int | None = 1) -> bytes:
    body: dict = {"text": text, "model_id": "eleven_multilingual_v2"}
    if seed is not None:
        body["seed"] = seed
    response = post(server, f"/v1/text-to-speech/{voice_id}?output_format=pcm_24000", json=body)
    assert response.status_code == 200, response.text
    return response.content


def _median_pitch(pcm: bytes) -> float:
    import parselmouth

    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64) / 32768
    pitch = parselmouth.Sound(samples, sampling_frequency=24000).to_pitch(
        pitch_floor=60, pitch_ceiling=400
    )
    frequencies = pitch.selected_array["frequency"]
    return float(np.median(frequencies[frequencies > 0]))


def _voice_ids(server) -> list[str]:
    return [voice["voice_id"] for voice in get(server, "/v1/voices").json()["voices"]]


@needs_kokoro
def test_a_blend_is_listed_spoken_by_every_route_and_deleted(kokoro_server):
    server = kokoro_server
    created = _blend(server, (SARAH, 1), (MICHAEL, 3), labels={"use_case": "narration"})
    assert created.status_code == 200, created.text
    voice_id = created.json()["voice_id"]
    voices = get(server, "/v1/voices").json()["voices"]
    listed = next(voice for voice in voices if voice["voice_id"] == voice_id)
    assert listed["is_mixed"] is True and listed["category"] == "generated"
    # Heaviest first, the shares the weights normalize to, the labels both voices share.
    assert listed["labels"]["blend"] == "Michael 75% + Sarah 25%"
    assert listed["labels"]["accent"] == "american" and "gender" not in listed["labels"]
    assert listed["labels"]["use_case"] == "narration"
    assert "Michael 75% + Sarah 25%" in listed["description"]
    assert voice_id in {v["voice_id"] for v in get(server, "/v2/voices?voice_type=personal")
                        .json()["voices"]}

    first = _pcm(server, voice_id, "A blend.")
    assert _pcm(server, voice_id, "A blend.") == first  # same seed, same bytes
    assert first != _pcm(server, MICHAEL, "A blend.") and len(first) > 12000
    timed = post(server, f"/v1/text-to-speech/{voice_id}/with-timestamps", json={"text": "Hi."})
    assert timed.status_code == 200 and "".join(timed.json()["alignment"]["characters"]) == "Hi."
    streamed = post(server, f"/v1/text-to-speech/{voice_id}/stream", json={"text": "Hi."})
    assert streamed.status_code == 200 and len(streamed.content) > 1000
    lines = post(server, f"/v1/text-to-speech/{voice_id}/stream/with-timestamps",
                 json={"text": "Hi."})
    assert lines.status_code == 200 and json.loads(lines.text.splitlines()[0])["audio_base64"]
    url = f"ws{server.base_url[4:]}/v1/text-to-speech/{voice_id}/stream-input"
    with connect(url) as socket:
        for text in (" ", "Hello there. ", ""):
            socket.send(json.dumps({"text": text}))
        message = json.loads(socket.recv(timeout=TIMEOUT))
    assert base64.b64decode(message["audio"])
    assert get(server, f"/v1/voices/{voice_id}/preview").status_code == 200

    assert delete(server, f"/v1/voices/{voice_id}").status_code == 200
    assert voice_id not in _voice_ids(server)
    gone = post(server, f"/v1/text-to-speech/{voice_id}", json={"text": "Hi."})
    assert gone.status_code == 404 and gone.json()["detail"]["status"] == "voice_not_found"


@needs_kokoro
def test_a_blend_of_a_female_and_a_male_voice_has_a_pitch_between_theirs(kokoro_server):
    server = kokoro_server
    voice_id = _blend(server, (SARAH, 0.5), (MICHAEL, 0.5)).json()["voice_id"]
    female = _median_pitch(_pcm(server, SARAH))
    male = _median_pitch(_pcm(server, MICHAEL))
    mixed = _median_pitch(_pcm(server, voice_id))
    assert female > 1.4 * male  # the two voices are clearly apart
    gap = female - male
    assert male + 0.15 * gap < mixed < female - 0.15 * gap, (male, mixed, female)
    delete(server, f"/v1/voices/{voice_id}")


@needs_kokoro
def test_a_blend_survives_a_restart_and_speaks_the_same(kokoro_server, server_factory, tmp_path):
    # kokoro_server: the model (shared by the servers of this process) is loaded.
    first = server_factory(data_dir=tmp_path)
    voice_id = _blend(first, (BELLA, 2), (MICHAEL, 1), name="Kept").json()["voice_id"]
    before = _pcm(first, voice_id, "Still here.")
    first.stop()
    again = server_factory(data_dir=tmp_path)
    voice = get(again, f"/v1/voices/{voice_id}").json()
    assert voice["name"] == "Kept" and voice["labels"]["blend"] == "Bella 67% + Michael 33%"
    assert _pcm(again, voice_id, "Still here.") == before


@needs_kokoro
def test_a_stored_blend_without_the_kokoro_assets_says_how_to_install_and_can_be_deleted(
    kokoro_server, server_factory, tmp_path, monkeypatch
):
    first = server_factory(data_dir=tmp_path)
    voice_id = _blend(first, (BELLA, 1), (MICHAEL, 1), name="Orphan").json()["voice_id"]
    first.stop()
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path / "no-assets"))
    again = server_factory(data_dir=tmp_path)
    assert voice_id in _voice_ids(again)  # listed, so that it can be found and deleted
    take = post(again, f"/v1/text-to-speech/{voice_id}", json={"text": "Hi."})
    assert take.status_code == 404
    assert "`xiwidgets voices install`" in take.json()["detail"]["message"]
    assert delete(again, f"/v1/voices/{voice_id}").status_code == 200
    assert voice_id not in _voice_ids(again)


@pytest.mark.parametrize(
    ("voices", "location", "message"),
    [
        ([], ["body", "voices"], "at least 1 item"),
        ([(SARAH, 0), (MICHAEL, 0)], ["body", "voices"], "sum to a positive number"),
        ([(SARAH, -1)], ["body", "voices", 0, "weight"], "greater than or equal to 0"),
        ([(SARAH, 1), ("nosuchvoice12345678", 1)], ["body", "voices", 1, "voice_id"],
         "'nosuchvoice12345678' is not a premade voice"),
        ([(SARAH, 1), (JOE, 1)], ["body", "voices", 1, "voice_id"],
         "'Joe' is not a Kokoro voice"),
        ([(SARAH, 1), (SARAH, 1)], ["body", "voices"], "appears twice"),
    ],
)
@needs_kokoro
def test_a_bad_blend_is_a_422_that_says_why_and_stores_nothing(
    server, voices, location, message
):
    before = _voice_ids(server)
    response = _blend(server, *voices)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == location and message in error["msg"]
    assert _voice_ids(server) == before


def test_non_finite_weights_are_a_422(server):
    body = '{"name": "x", "voices": [{"voice_id": "' + SARAH + '", "weight": NaN}]}'
    response = post(server, "/v1/voices/blend", data=body,
                    headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "voices", 0, "weight"]


def test_a_blend_of_uninstalled_kokoro_voices_says_how_to_install(
    server_factory, tmp_path, monkeypatch
):
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path / "none"))
    server = server_factory()
    response = _blend(server, (SARAH, 1), (MICHAEL, 1))
    assert response.status_code == 404
    assert "`xiwidgets voices install`" in response.json()["detail"]["message"]
    assert not [v for v in get(server, "/v1/voices").json()["voices"] if v["is_mixed"]]


@needs_kokoro
def test_the_official_sdk_lists_and_speaks_a_blend(kokoro_server):
    elevenlabs_client = pytest.importorskip("elevenlabs.client")
    sdk = elevenlabs_client.ElevenLabs(api_key="x", base_url=kokoro_server.base_url,
                                       timeout=TIMEOUT)
    voice_id = _blend(kokoro_server, (SARAH, 1), (MICHAEL, 1), name="For the SDK").json()[
        "voice_id"]
    listed = {voice.voice_id: voice for voice in sdk.voices.get_all().voices}
    assert listed[voice_id].is_mixed is True and listed[voice_id].category == "generated"
    audio = b"".join(sdk.text_to_speech.convert(voice_id=voice_id, text="Hello.",
                                                output_format="pcm_24000"))
    assert len(audio) > 12000
    sdk.voices.delete(voice_id)
    assert voice_id not in _voice_ids(kokoro_server)

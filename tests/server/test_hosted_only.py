"""Operations only the hosted API performs answer a 400 that names it: no fake audio, no bill."""

from __future__ import annotations

import pytest

from tests.server.helpers import character_count, history_count, post, voice_id_named, wav_sample

elevenlabs_client = pytest.importorskip("elevenlabs.client")
from elevenlabs.core.api_error import ApiError  # noqa: E402

# One request per hosted-only family, as the official SDK sends it (method, path, form or JSON).
RAW_REQUESTS = [
    ("POST", "/v1/sound-generation", {"json": {"text": "rain on a tin roof"}}),
    ("POST", "/v1/speech-to-speech/VOICE", {"files": {"audio": ("a.wav", b"RIFF")}}),
    ("POST", "/v1/speech-to-speech/VOICE/stream", {"files": {"audio": ("a.wav", b"RIFF")}}),
    ("POST", "/v1/voice-changer/VOICE", {"files": {"audio": ("a.wav", b"RIFF")}}),
    ("POST", "/v1/audio-isolation", {"files": {"audio": ("a.wav", b"RIFF")}}),
    ("POST", "/v1/audio-isolation/stream", {"files": {"audio": ("a.wav", b"RIFF")}}),
    ("POST", "/v1/dubbing", {"data": {"target_lang": "de"}}),
    ("GET", "/v1/dubbing/abc123", {}),
    ("DELETE", "/v1/dubbing/abc123", {}),
    ("GET", "/v1/dubbing/abc123/audio/de", {}),
    ("POST", "/v1/music", {"json": {"prompt": "a calm piano"}}),
    ("POST", "/v1/music/stream", {"json": {"prompt": "a calm piano"}}),
]


def _hosted_only_message(body) -> str:
    detail = body["detail"]
    assert detail["status"] == "hosted_only"
    assert "hosted ElevenLabs API" in detail["message"]
    assert "https://api.elevenlabs.io" in detail["message"]
    return detail["message"]


@pytest.mark.parametrize(("method", "path", "payload"), RAW_REQUESTS)
def test_each_hosted_only_path_answers_400_naming_the_hosted_api(server, method, path, payload):
    import requests

    response = requests.request(method, server.base_url + path, timeout=30, **payload)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    _hosted_only_message(response.json())


def test_the_official_sdk_gets_an_api_error_and_nothing_is_billed_or_stored(server):
    sdk = elevenlabs_client.ElevenLabs(api_key="x", base_url=server.base_url)
    joe = voice_id_named(server, "Joe")
    sample = wav_sample(server, joe, "A short recording to convert.")
    used, items = character_count(server), history_count(server)
    calls = {
        "Sound effects": lambda: b"".join(sdk.text_to_sound_effects.convert(text="thunder")),
        "Speech to speech": lambda: b"".join(
            sdk.speech_to_speech.convert(joe, audio=("s.wav", sample))
        ),
        "Audio isolation": lambda: b"".join(sdk.audio_isolation.convert(audio=("s.wav", sample))),
        "Dubbing": lambda: sdk.dubbing.create(file=("s.wav", sample), target_lang="de"),
        "Music": lambda: b"".join(sdk.music.compose(prompt="a calm piano", music_length_ms=10_000)),
    }
    for name, call in calls.items():
        with pytest.raises(ApiError) as raised:
            call()
        assert raised.value.status_code == 400, name
        assert name.split()[0] in _hosted_only_message(raised.value.body), name
    assert character_count(server) == used
    assert history_count(server) == items


def test_a_wrong_key_is_refused_before_the_operation_is_named(server_factory):
    keyed = server_factory(api_keys=["right-key"])
    wrong = post(keyed, "/v1/sound-generation", json={"text": "x"}, headers={"xi-api-key": "no"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"]["status"] == "invalid_api_key"
    right = post(
        keyed, "/v1/sound-generation", json={"text": "x"}, headers={"xi-api-key": "right-key"}
    )
    assert right.status_code == 400


def test_paths_next_to_the_hosted_only_ones_are_still_unknown(server):
    response = post(server, "/v1/sound-generationx", json={})
    assert response.status_code == 404


def test_the_openapi_document_names_every_operation_once(server):
    # A route of several methods would give them one operationId: code generators for the
    # document (and FastAPI's own warning) trip over it.
    import requests

    document = requests.get(server.base_url + "/openapi.json", timeout=30).json()
    ids = [operation["operationId"] for path in document["paths"].values()
           for operation in path.values() if isinstance(operation, dict)]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert {"post", "get", "delete"} <= set(document["paths"]["/v1/dubbing"])

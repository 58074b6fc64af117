"""JSON nested past Python's recursion limit is bad input (400), not an internal error.

``json.loads`` raises ``RecursionError`` (not ``ValueError``) for a document nested a few
thousand levels deep; the routes that read JSON themselves (the OpenAI-compatible body, a
voice's ``labels`` form field, speech to text's ``additional_formats``) answered such a body
with a 500. The app's own JSON bodies and the websockets already refused it with a 400.
"""

from __future__ import annotations

import requests

from tests.server.helpers import character_count

DEEP = "[" * 100_000 + "]" * 100_000
NOT_AUDIO = b"RIFF0000WAVE"


def test_the_openai_speech_body_nested_too_deep_is_a_400(server):
    billed = character_count(server)
    response = requests.post(
        server.base_url + "/v1/audio/speech",
        data='{"input": "Hello.", "voice": "alloy", "model": "tts-1", "extra": ' + DEEP + "}",
        headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 400, response.text[:200]
    assert response.json()["error"]["code"] == "invalid_json"
    assert character_count(server) == billed


def test_voice_labels_nested_too_deep_are_a_400(server):
    response = requests.post(server.base_url + "/v1/voices/add",
                             data={"name": "Nested", "labels": DEEP},
                             files=[("files", ("a.wav", NOT_AUDIO, "audio/wav"))], timeout=60)
    assert response.status_code == 400, response.text[:200]
    assert response.json()["detail"]["status"] == "invalid_labels"


def test_additional_formats_nested_too_deep_are_refused_by_name(server):
    response = requests.post(server.base_url + "/v1/speech-to-text",
                             data={"model_id": "scribe_v1", "additional_formats": DEEP},
                             files=[("file", ("a.wav", NOT_AUDIO, "audio/wav"))], timeout=60)
    assert response.status_code == 400, response.text[:200]
    assert "additional_formats" in response.json()["detail"]["message"]

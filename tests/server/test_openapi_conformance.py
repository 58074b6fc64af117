"""Responses validate against the official OpenAPI subset (skipped when ``../shared`` is absent)."""

from __future__ import annotations

import json
import time

import pytest
from jsonschema import Draft202012Validator

from tests.server.helpers import delete, get, load_spec, post, voice_id_named, wav_sample

SPEC = load_spec()
pytestmark = pytest.mark.skipif(SPEC is None, reason="official OpenAPI subset not present")


def assert_conforms(payload, path: str, method: str = "get") -> None:
    schema = SPEC["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    validator = Draft202012Validator({**schema["schema"], "components": SPEC["components"]})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
    assert not errors, errors[:5]


def test_read_endpoints_conform(server):
    joe = voice_id_named(server, "Joe")
    now_ms = int(time.time() * 1000)
    for path, template in [
        ("/v1/voices", "/v1/voices"),
        ("/v2/voices?page_size=3&include_total_count=true", "/v2/voices"),
        (f"/v1/voices/{joe}", "/v1/voices/{voice_id}"),
        ("/v1/voices/settings/default", "/v1/voices/settings/default"),
        (f"/v1/voices/{joe}/settings", "/v1/voices/{voice_id}/settings"),
        ("/v1/models", "/v1/models"),
        ("/v1/user", "/v1/user"),
        ("/v1/user/subscription", "/v1/user/subscription"),
        (
            f"/v1/usage/character-stats?start_unix={now_ms - 86_400_000}&end_unix={now_ms}"
            "&breakdown_type=voice",
            "/v1/usage/character-stats",
        ),
    ]:
        response = get(server, path)
        assert response.status_code == 200, path
        assert_conforms(response.json(), template)


def test_take_and_history_endpoints_conform(server):
    joe = voice_id_named(server, "Joe")
    timed = post(server, f"/v1/text-to-speech/{joe}/with-timestamps", json={"text": "Hi, all."})
    assert_conforms(timed.json(), "/v1/text-to-speech/{voice_id}/with-timestamps", "post")
    lines = post(
        server, f"/v1/text-to-speech/{joe}/stream/with-timestamps", json={"text": "Yes, go on."}
    ).text.splitlines()
    for line in lines:
        assert_conforms(
            json.loads(line), "/v1/text-to-speech/{voice_id}/stream/with-timestamps", "post"
        )
    assert_conforms(get(server, "/v1/history").json(), "/v1/history")
    item_id = timed.headers["history-item-id"]
    assert_conforms(get(server, f"/v1/history/{item_id}").json(), "/v1/history/{history_item_id}")
    edited = post(server, f"/v1/voices/{joe}/settings/edit", json={"speed": 1.0})
    assert_conforms(edited.json(), "/v1/voices/{voice_id}/settings/edit", "post")
    deleted = delete(server, f"/v1/history/{item_id}")
    assert_conforms(deleted.json(), "/v1/history/{history_item_id}", "delete")


def test_voice_management_endpoints_conform(server):
    sample = wav_sample(server, voice_id_named(server, "Joe"), "Conformance sample, spoken aloud.")
    files = [("files", ("s.wav", sample))]
    added = post(server, "/v1/voices/add", data={"name": "Spec"}, files=files)
    assert_conforms(added.json(), "/v1/voices/add", "post")
    voice_id = added.json()["voice_id"]
    assert_conforms(get(server, f"/v1/voices/{voice_id}").json(), "/v1/voices/{voice_id}")
    edited = post(server, f"/v1/voices/{voice_id}/edit", data={"name": "Spec 2"})
    assert_conforms(edited.json(), "/v1/voices/{voice_id}/edit", "post")
    removed = delete(server, f"/v1/voices/{voice_id}")
    assert_conforms(removed.json(), "/v1/voices/{voice_id}", "delete")

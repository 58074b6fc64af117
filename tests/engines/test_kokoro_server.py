"""Kokoro voices over HTTP: missing or refused assets give a 404 that says how to fix it."""

from __future__ import annotations

import base64

import pytest
import requests

from xiwidgets.server.catalog import KOKORO_VOICES
from xiwidgets.server.engines.kokoro_assets import (
    ASSETS_ENV,
    MODEL_FILE,
    VOICES_FILE,
    check_assets,
)

HEART = next(voice for voice in KOKORO_VOICES if voice.spec.engine_voice == "af_heart")
JOE_ID = "WK59PFkl0JfI2yyVlbPe"
TIMEOUT = 120


def _post_tts(server, voice_id: str, text: str = "Hello there.") -> requests.Response:
    return requests.post(
        f"{server.base_url}/v1/text-to-speech/{voice_id}", json={"text": text}, timeout=TIMEOUT
    )


def _voice_names(server) -> set[str]:
    voices = requests.get(f"{server.base_url}/v1/voices", timeout=TIMEOUT).json()["voices"]
    return {voice["name"] for voice in voices}


def test_a_kokoro_voice_without_its_assets_is_a_404_saying_how_to_install(
    server_factory, tmp_path, monkeypatch
):
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path / "none"))
    server = server_factory()
    response = _post_tts(server, HEART.voice_id)
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail["status"] == "voice_not_found"
    assert "Heart" in detail["message"] and "`xiwidgets voices install`" in detail["message"]
    looked_up = requests.get(f"{server.base_url}/v1/voices/{HEART.voice_id}", timeout=TIMEOUT)
    assert looked_up.status_code == 404 and "voices install" in looked_up.text
    names = _voice_names(server)
    assert "Joe" in names and "Heart" not in names
    assert _post_tts(server, JOE_ID).status_code == 200


def test_corrupt_assets_are_refused_at_start_and_the_other_voices_still_speak(
    server_factory, tmp_path, monkeypatch
):
    (tmp_path / MODEL_FILE).write_bytes(b"\0" * 4096)
    (tmp_path / VOICES_FILE).write_bytes(b"\0" * 4096)
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path))
    server = server_factory()
    response = _post_tts(server, HEART.voice_id)
    assert response.status_code == 404
    message = response.json()["detail"]["message"]
    assert "refused" in message and f"{MODEL_FILE} is 4096 bytes" in message
    assert "`xiwidgets voices install --force`" in message
    assert "Heart" not in _voice_names(server)
    assert _post_tts(server, JOE_ID).status_code == 200


@pytest.mark.skipif(check_assets().assets is None, reason="Kokoro assets not installed")
def test_an_installed_kokoro_voice_speaks_with_timestamps(server):
    assert {"Heart", "George", "Siwis"} <= _voice_names(server)
    text = "Good evening, Anna."
    response = requests.post(
        f"{server.base_url}/v1/text-to-speech/{HEART.voice_id}/with-timestamps",
        json={"text": text}, timeout=TIMEOUT,
    )
    assert response.status_code == 200
    body = response.json()
    assert len(base64.b64decode(body["audio_base64"])) > 1000
    alignment = body["alignment"]
    assert "".join(alignment["characters"]) == text
    starts = alignment["character_start_times_seconds"]
    assert starts == sorted(starts) and starts[-1] > 0.3

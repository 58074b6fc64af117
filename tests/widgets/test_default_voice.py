"""The default voice of the Studio and the pickers: the best English voice by measurement."""

from __future__ import annotations

from typing import Any

import pytest

from xiwidgets.client import Client
from xiwidgets.server.catalog import KOKORO_VOICES
from xiwidgets.server.engines.kokoro_assets import ASSETS_ENV, check_assets
from xiwidgets.widgets import Studio, VoicePicker

# benchmarks/voices.py: of the English voices, the lowest WER and then the highest DNSMOS.
MEASURED_BEST = next(v for v in KOKORO_VOICES if v.spec.engine_voice == "af_sarah")


@pytest.mark.skipif(check_assets().assets is None, reason="Kokoro assets not installed")
def test_the_studio_and_the_picker_start_on_the_measured_best_voice(
    frontend: Any, client: Any
) -> None:
    assert VoicePicker(client=client).voice.name == MEASURED_BEST.name
    studio = Studio(client=client)
    assert studio.voice_picker.voice_id == MEASURED_BEST.voice_id
    assert client.voices.list()[0].voice_id == MEASURED_BEST.voice_id  # %%speak's default


def test_without_the_kokoro_voices_the_default_is_joe(
    frontend: Any, server_factory: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path / "none"))
    server = server_factory()
    studio = Studio(client=Client(base_url=server.base_url))
    assert studio.voice_picker.voice.name == "Joe"

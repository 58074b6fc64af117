"""Kokoro honours a voice's pitch_factor (voice design's deeper and higher voices) at its pace."""

from __future__ import annotations

from dataclasses import replace

import pytest
from engine_voices import KOKORO, needs_kokoro_assets

from xiwidgets.server.cloning import median_f0

SENTENCE = "The boats came home with the evening tide, one by one."


@needs_kokoro_assets
def test_pitch_factor_moves_the_pitch_and_keeps_the_length(take):
    low_samples, rate, _ = take(SENTENCE, replace(KOKORO, pitch_factor=0.8))
    high_samples, _, _ = take(SENTENCE, replace(KOKORO, pitch_factor=1.25))
    ratio = median_f0(high_samples, rate) / median_f0(low_samples, rate)
    assert ratio == pytest.approx(1.25 / 0.8, rel=0.12)
    # Varispeed shortens by the factor; the model spoke that much slower first.
    assert len(high_samples) / len(low_samples) == pytest.approx(1.0, rel=0.15)

"""Fixtures for the engine tests: one warmed-up synthesizer for the whole session."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from xiwidgets.server.engines import AudioChunk, SynthesisSettings, Synthesizer, VoiceSpec


@pytest.fixture(scope="session")
def synthesizer() -> Synthesizer:
    """A synthesizer with both engines loaded."""
    synth = Synthesizer()
    synth.warm_up()
    return synth


@pytest.fixture(scope="session")
def take(synthesizer: Synthesizer) -> Callable[..., tuple[np.ndarray, int, list[AudioChunk]]]:
    """``take(text, voice, **settings)`` → (int16 samples of the whole take, rate, chunks)."""

    def run(text: str, voice: VoiceSpec, **settings) -> tuple[np.ndarray, int, list[AudioChunk]]:
        chunks = list(synthesizer.synthesize(text, voice, SynthesisSettings(**settings)))
        return np.concatenate([c.pcm for c in chunks]), chunks[0].sample_rate, chunks

    return run

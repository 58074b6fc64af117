"""Signal processing shared by the engines."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import soxr

if TYPE_CHECKING:
    from ..audio import FloatAudio


def varispeed(samples: FloatAudio, sample_rate: int, pitch_factor: float) -> FloatAudio:
    """Raise pitch by ``pitch_factor`` by resampling, like playing a tape faster.

    The samples are treated as if recorded at ``sample_rate * pitch_factor`` and resampled to
    ``sample_rate``: every frequency (F0 and formants) is multiplied by ``pitch_factor`` and
    the duration divided by it. Engines compensate the duration by asking the model for
    speech ``pitch_factor`` times slower beforehand.

    Parameters
    ----------
    samples : numpy.ndarray
        float32 mono audio.
    sample_rate : int
        Rate of ``samples`` (and of the result).
    pitch_factor : float
        > 1 raises the pitch, < 1 lowers it.

    Returns
    -------
    numpy.ndarray
        float32 audio, ``len(samples) / pitch_factor`` samples long.
    """
    if len(samples) == 0 or pitch_factor == 1.0:
        return samples
    resampled: FloatAudio = soxr.resample(
        samples, sample_rate * pitch_factor, sample_rate, quality="HQ"
    ).astype(np.float32)
    return resampled

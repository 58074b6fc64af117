"""Voices from uploaded samples: decode, measure pitch and speaking rate, pick an engine voice.

Method
------
* Decode every sample with PyAV (any container/codec FFmpeg knows) to 16 kHz mono float.
* Pitch: YIN (de Cheveigné & Kawahara 2002) on 32 ms frames every 10 ms, 60–400 Hz,
  threshold 0.15; the voice's pitch is the median F0 of the voiced frames.
* Speaking rate: syllable nuclei per second of phonation (after de Jong & Wempe 2009): peaks of
  the smoothed intensity contour, at least 2 dB above the dip to their neighbour, louder than
  25 dB below the loudest frame, and voiced.
* Engine voice: Joe (Piper) when the pitch lies within [0.8, 1.45] × Joe's, otherwise the
  English espeak-ng variant whose pitch is nearest. ``pitch_factor`` = sample F0 / engine
  voice F0 and ``rate_factor`` = sample rate / engine voice rate (both measured with the
  functions below on the engine voice's own speech: the constants in ``BASE_VOICES`` are
  checked by the tests). The engines apply them by varispeed resampling with duration
  compensation (``engines.dsp.varispeed``).
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .engines.base import VoiceSpec

ANALYSIS_RATE = 16000
_HOP = ANALYSIS_RATE // 100  # 10 ms
_YIN_WINDOW = 512
_F0_MIN, _F0_MAX = 60.0, 400.0
_YIN_THRESHOLD = 0.15
_YIN_VOICED_LIMIT = 0.35
_PAUSE_SECONDS = 0.25
_MIN_VOICED_SECONDS = 0.5
PITCH_FACTOR_RANGE = (0.5, 2.0)
RATE_FACTOR_RANGE = (0.6, 1.6)
_JOE_PITCH_RANGE = (0.8, 1.45)


class SampleError(ValueError):
    """An uploaded sample that cannot be used (not audio, silent, too short)."""


@dataclass(frozen=True)
class BaseVoice:
    """An engine voice a cloned voice can be built on, with its measured pitch and rate."""

    spec: VoiceSpec
    median_f0_hz: float
    syllables_per_second: float


# The text the constants below were measured on (default settings, seed 3); the tests
# re-measure them.
REFERENCE_TEXT = (
    "The morning train was late again, so Maria walked to the office along the river. "
    "She counted the boats, watched a heron fish in the shallow water, and arrived with a "
    "smile. Nobody noticed that she had missed the first meeting."
)
BASE_VOICES: tuple[BaseVoice, ...] = (
    BaseVoice(VoiceSpec("piper", "en_US-joe-medium", "en"), 89.9, 4.52),
    BaseVoice(VoiceSpec("espeak", "en-us", "en", variant="f1"), 181.5, 4.93),
    BaseVoice(VoiceSpec("espeak", "en-us", "en", variant="f2"), 199.1, 5.04),
    BaseVoice(VoiceSpec("espeak", "en-us", "en", variant="f3"), 216.2, 5.16),
)


@dataclass
class VoiceProfile:
    """What the samples of a cloned voice measure, and the engine voice that imitates them.

    JSON-serialisable through ``to_dict`` / ``from_dict`` so the server can store it.
    """

    median_f0_hz: float
    syllables_per_second: float
    speech_seconds: float
    engine: str
    engine_voice: str
    language: str
    variant: str | None
    pitch_factor: float
    rate_factor: float
    sample_durations: dict[str, float] = field(default_factory=dict)

    def voice_spec(self) -> VoiceSpec:
        """The engine voice with this profile's pitch and rate factors."""
        return VoiceSpec(
            self.engine,
            self.engine_voice,
            self.language,
            pitch_factor=self.pitch_factor,
            rate_factor=self.rate_factor,
            variant=self.variant,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VoiceProfile:
        """Rebuild a profile stored with ``to_dict``."""
        return cls(**data)


def analyse_samples(files: list[tuple[str, bytes]]) -> VoiceProfile:
    """Measure uploaded samples and choose the engine voice that imitates them.

    Parameters
    ----------
    files : list of (str, bytes)
        File name and content of each sample (any audio format PyAV decodes).

    Returns
    -------
    VoiceProfile

    Raises
    ------
    SampleError
        A file is not decodable audio, or the samples hold too little voiced speech.
    """
    if not files:
        raise SampleError("Upload at least one audio sample of the voice.")
    f0_frames: list[np.ndarray] = []
    nuclei = 0
    phonation = 0.0
    durations: dict[str, float] = {}
    for name, data in files:
        samples = decode_audio(data, name)
        durations[name] = round(len(samples) / ANALYSIS_RATE, 3)
        f0 = f0_track(samples)
        f0_frames.append(f0[f0 > 0])
        count, seconds = syllable_nuclei(samples, f0)
        nuclei += count
        phonation += seconds
    voiced = np.concatenate(f0_frames)
    if len(voiced) * _HOP / ANALYSIS_RATE < _MIN_VOICED_SECONDS:
        raise SampleError(
            "The samples contain less than half a second of voiced speech; upload a recording "
            "of someone speaking (10 seconds or more works best)."
        )
    median_f0 = float(np.median(voiced))
    rate = nuclei / phonation if phonation > 0 else 0.0
    base = _choose_base_voice(median_f0)
    pitch_factor = float(np.clip(median_f0 / base.median_f0_hz, *PITCH_FACTOR_RANGE))
    rate_factor = 1.0
    if rate > 0:
        rate_factor = float(np.clip(rate / base.syllables_per_second, *RATE_FACTOR_RANGE))
    return VoiceProfile(
        median_f0_hz=round(median_f0, 2),
        syllables_per_second=round(rate, 3),
        speech_seconds=round(sum(durations.values()), 3),
        engine=base.spec.engine,
        engine_voice=base.spec.engine_voice,
        language=base.spec.language,
        variant=base.spec.variant,
        pitch_factor=round(pitch_factor, 4),
        rate_factor=round(rate_factor, 4),
        sample_durations=durations,
    )


def _choose_base_voice(median_f0: float) -> BaseVoice:
    joe = BASE_VOICES[0]
    low, high = _JOE_PITCH_RANGE
    if low <= median_f0 / joe.median_f0_hz <= high:
        return joe
    return min(BASE_VOICES, key=lambda voice: abs(np.log(median_f0 / voice.median_f0_hz)))


def decode_audio(data: bytes, name: str = "sample") -> np.ndarray:
    """Decode any audio file to float32 mono at ``ANALYSIS_RATE``.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        Used in error messages only.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    SampleError
        ``data`` is not audio PyAV can decode, or holds no samples.
    """
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise SampleError(f"{name!r} has no audio track.")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=ANALYSIS_RATE)
            pieces = []
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
    except SampleError:
        raise
    except (av.FFmpegError, ValueError, OSError):
        raise SampleError(
            f"{name!r} is not an audio file that can be decoded (mp3, wav, ogg, flac, m4a, "
            "webm, ... are accepted)."
        ) from None
    if not pieces:
        raise SampleError(f"{name!r} contains no audio samples.")
    return np.concatenate(pieces).astype(np.float32)


def f0_track(samples: np.ndarray, sample_rate: int = ANALYSIS_RATE) -> np.ndarray:
    """F0 in Hz every 10 ms by YIN; 0 for unvoiced or silent frames.

    Parameters
    ----------
    samples : numpy.ndarray
        float mono audio.
    sample_rate : int
        Rate of ``samples``; resampled to ``ANALYSIS_RATE`` if different.

    Returns
    -------
    numpy.ndarray
        One value per 10 ms frame.
    """
    samples = _at_analysis_rate(samples, sample_rate)
    lag_min = int(ANALYSIS_RATE / _F0_MAX)
    lag_max = int(ANALYSIS_RATE / _F0_MIN) + 1
    length = _YIN_WINDOW + lag_max
    if len(samples) < length:
        return np.zeros(0)
    starts = np.arange(0, len(samples) - length + 1, _HOP)
    frames = samples[starts[:, None] + np.arange(length)].astype(np.float64)
    window = frames[:, :_YIN_WINDOW]
    size = 1 << int(np.ceil(np.log2(length + _YIN_WINDOW)))
    correlation = np.fft.irfft(
        np.fft.rfft(frames, size) * np.conj(np.fft.rfft(window, size)), size
    )[:, : lag_max + 1]
    squares = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames**2, axis=1)], axis=1)
    energy_start = squares[:, _YIN_WINDOW][:, None]
    lags = np.arange(lag_max + 1)
    energy_lagged = squares[:, lags + _YIN_WINDOW] - squares[:, lags]
    difference = energy_start + energy_lagged - 2 * correlation
    difference[:, 0] = 0.0
    cumulative = np.cumsum(difference[:, 1:], axis=1)
    normalized = np.ones_like(difference)
    normalized[:, 1:] = difference[:, 1:] * lags[1:] / np.maximum(cumulative, 1e-12)
    loudness = np.sqrt(energy_start[:, 0] / _YIN_WINDOW)
    silent = loudness < max(1e-4, 0.02 * np.max(loudness, initial=0.0))
    f0 = np.zeros(len(frames))
    for index in np.flatnonzero(~silent):
        curve = normalized[index]
        below = np.flatnonzero(curve[lag_min:lag_max] < _YIN_THRESHOLD)
        if len(below):
            lag = lag_min + below[0]
        else:
            # No dip under the threshold: YIN's fallback, the best period if clear enough.
            lag = lag_min + int(np.argmin(curve[lag_min:lag_max]))
            if curve[lag] >= _YIN_VOICED_LIMIT:
                continue
        while lag + 1 < lag_max and curve[lag + 1] < curve[lag]:
            lag += 1
        f0[index] = ANALYSIS_RATE / _parabolic_minimum(curve, lag)
    return f0


def _parabolic_minimum(curve: np.ndarray, lag: int) -> float:
    if lag <= 0 or lag >= len(curve) - 1:
        return float(lag)
    left, middle, right = curve[lag - 1], curve[lag], curve[lag + 1]
    denominator = left - 2 * middle + right
    return lag + (0.5 * (left - right) / denominator if denominator > 0 else 0.0)


def median_f0(samples: np.ndarray, sample_rate: int) -> float:
    """Median F0 (Hz) of the voiced frames of ``samples``; 0.0 when nothing is voiced."""
    f0 = f0_track(samples, sample_rate)
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if len(voiced) else 0.0


def syllable_nuclei(samples: np.ndarray, f0: np.ndarray) -> tuple[int, float]:
    """Count syllable nuclei and seconds of phonation in 16 kHz audio (see module doc).

    Parameters
    ----------
    samples : numpy.ndarray
        float mono audio at ``ANALYSIS_RATE``.
    f0 : numpy.ndarray
        Its ``f0_track``.

    Returns
    -------
    tuple of (int, float)
        Number of nuclei and seconds of audio above the intensity threshold.
    """
    frame = 2 * _HOP
    count = (len(samples) - frame) // _HOP + 1
    if count <= 2:
        return 0, 0.0
    # Vowels carry their energy between 300 Hz and 3 kHz; fricatives and hum do not.
    spectrum = np.fft.rfft(samples)
    frequencies = np.fft.rfftfreq(len(samples), 1.0 / ANALYSIS_RATE)
    spectrum[(frequencies < 300) | (frequencies > 3000)] = 0
    vowel_band = np.fft.irfft(spectrum, len(samples))
    starts = np.arange(count) * _HOP
    power = np.mean(vowel_band[starts[:, None] + np.arange(frame)] ** 2, axis=1)
    intensity = np.convolve(10 * np.log10(power + 1e-10), np.ones(3) / 3, mode="same")
    above = intensity > np.max(intensity) - 25.0
    nuclei: list[int] = []
    for peak in range(1, count - 1):
        if not (above[peak] and intensity[peak - 1] <= intensity[peak] > intensity[peak + 1]):
            continue
        if nuclei:
            dip = np.min(intensity[nuclei[-1] : peak + 1])
            if min(intensity[nuclei[-1]], intensity[peak]) - dip < 2.0:
                if intensity[peak] > intensity[nuclei[-1]]:
                    nuclei[-1] = peak
                continue
        nuclei.append(peak)
    # f0 frames are 32 ms + lag long and start with the intensity frames: centre them.
    offset = (_YIN_WINDOW // 2 - frame // 2) // _HOP
    voiced = np.zeros(count, dtype=bool)
    voiced_index = np.flatnonzero(f0 > 0) + offset
    voiced[voiced_index[voiced_index < count]] = True
    near_voiced = np.convolve(voiced, np.ones(9), mode="same") > 0
    syllables = sum(1 for peak in nuclei if near_voiced[peak])
    return syllables, _speech_seconds(above)


def _speech_seconds(above: np.ndarray) -> float:
    """Seconds of speech: loud frames plus the gaps between them shorter than a pause."""
    loud = np.flatnonzero(above)
    if len(loud) == 0:
        return 0.0
    gaps = np.diff(loud) - 1
    pauses = gaps[gaps * _HOP >= _PAUSE_SECONDS * ANALYSIS_RATE]
    return float(loud[-1] - loud[0] + 1 - np.sum(pauses)) * _HOP / ANALYSIS_RATE


def syllable_rate(samples: np.ndarray, sample_rate: int) -> float:
    """Syllable nuclei per second of phonation of ``samples``."""
    samples = _at_analysis_rate(samples, sample_rate)
    count, seconds = syllable_nuclei(samples, f0_track(samples))
    return count / seconds if seconds > 0 else 0.0


def _at_analysis_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.dtype == np.int16:
        samples = samples.astype(np.float32) / 32768.0
    if sample_rate == ANALYSIS_RATE:
        return samples.astype(np.float32)
    import soxr

    return soxr.resample(samples.astype(np.float32), sample_rate, ANALYSIS_RATE)

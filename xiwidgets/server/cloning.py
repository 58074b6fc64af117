"""Voices from uploaded samples: decode, measure pitch and speaking rate, pick an engine voice.

Method
------
* Decode every sample with PyAV (any container/codec FFmpeg knows) to 16 kHz mono float,
  packet by packet: the analysis below runs on blocks of frames and keeps only per-frame
  results (a few bytes per 10 ms), so memory does not grow with a sample's length.
* At most ``MAX_ANALYSED_SECONDS`` of audio are analysed per request, shared out over the
  samples in upload order (each gets the budget left divided by the samples left); the rest of
  a longer sample is neither decoded nor measured. ``VoiceProfile.analysed_seconds`` records
  how much was.
* Pitch: YIN (de Cheveigné & Kawahara 2002) on 32 ms frames every 10 ms, 60–400 Hz,
  threshold 0.15; the voice's pitch is the median F0 of the voiced frames.
* Speaking rate: syllable nuclei per second of phonation (after de Jong & Wempe 2009): peaks of
  the smoothed intensity contour of the 300–3000 Hz band, at least 2 dB above the dip to their
  neighbour, louder than 25 dB below the loudest frame, and voiced.
* Engine voice: Joe (Piper) when the pitch lies within [0.8, 1.45] × Joe's, otherwise the
  English espeak-ng variant whose pitch is nearest. ``pitch_factor`` = sample F0 / engine
  voice F0 and ``rate_factor`` = sample rate / engine voice rate (both measured with the
  functions below on the engine voice's own speech: the constants in ``BASE_VOICES`` are
  checked by the tests). The engines apply them by varispeed resampling with duration
  compensation (``engines.dsp.varispeed``).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Generator, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .engines.base import VoiceSpec

if TYPE_CHECKING:
    from av.container import InputContainer

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
# Audio analysed per request: five minutes of speech give a stable median pitch and rate
# (instant cloning asks for one or two), and keep a request's analysis to a few CPU seconds.
MAX_ANALYSED_SECONDS = 300.0
# YIN frames measured per numpy batch: the batch's matrices take a few MB whatever the length.
_YIN_BATCH_FRAMES = 256
# The 300-3000 Hz band is cut by FFT on overlapping segments; the context each side is long
# enough that the brick-wall filter's ringing beyond it is below -40 dB.
_BAND_SEGMENT = 1 << 16
_BAND_CONTEXT = ANALYSIS_RATE // 2
_INTENSITY_FRAME = 2 * _HOP

SampleSource = bytes | str | os.PathLike[str] | IO[bytes]


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
    # Seconds of each sample in upload order (None: longer than what was analysed, and the
    # file does not say how long it is); profiles stored before 0.x hold a name → seconds dict.
    sample_durations: list[float | None] = field(default_factory=list)
    # Seconds of audio the pitch and rate were measured on (see ``MAX_ANALYSED_SECONDS``).
    analysed_seconds: float | None = None

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


def analyse_samples(
    files: Iterable[tuple[str, SampleSource]], max_seconds: float = MAX_ANALYSED_SECONDS
) -> VoiceProfile:
    """Measure uploaded samples and choose the engine voice that imitates them.

    Parameters
    ----------
    files : iterable of (str, bytes or path or binary file)
        File name and content of each sample (any audio format PyAV decodes). A file object
        is read from its start.
    max_seconds : float
        Audio analysed in all: each sample gets what is left divided by the samples left, and
        the rest of a longer sample is not decoded.

    Returns
    -------
    VoiceProfile

    Raises
    ------
    SampleError
        A file is not decodable audio, or the samples hold too little voiced speech.
    """
    files = list(files)
    if not files:
        raise SampleError("Upload at least one audio sample of the voice.")
    voiced_parts: list[np.ndarray] = []
    nuclei = 0
    phonation = 0.0
    durations: list[float | None] = []
    analysed = 0.0
    for index, (name, source) in enumerate(files):
        measured = _measure_sample(source, name, (max_seconds - analysed) / (len(files) - index))
        analysed += measured.analysed_seconds
        durations.append(measured.duration_seconds)
        voiced_parts.append(measured.voiced_f0)
        nuclei += measured.nuclei
        phonation += measured.phonation_seconds
    voiced = np.concatenate(voiced_parts)
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
        speech_seconds=round(sum(seconds or 0.0 for seconds in durations), 3),
        engine=base.spec.engine,
        engine_voice=base.spec.engine_voice,
        language=base.spec.language,
        variant=base.spec.variant,
        pitch_factor=round(pitch_factor, 4),
        rate_factor=round(rate_factor, 4),
        sample_durations=[None if seconds is None else round(seconds, 3) for seconds in durations],
        analysed_seconds=round(analysed, 3),
    )


@dataclass
class _SampleMeasure:
    voiced_f0: np.ndarray
    nuclei: int
    phonation_seconds: float
    analysed_seconds: float
    duration_seconds: float | None


def _measure_sample(source: SampleSource, name: str, max_seconds: float) -> _SampleMeasure:
    """Pitch and syllables of the first ``max_seconds`` of one sample, decoded block by block."""
    analyser = FrameAnalyser()
    left = int(max_seconds * ANALYSIS_RATE)
    with _open_audio(source, name) as container:
        reported = _reported_seconds(container)
        with contextlib.closing(_decoded_blocks(container)) as blocks:
            for block in blocks:
                analyser.feed(block[:left])
                left -= len(block)
                if left <= 0:
                    break
    analysed = analyser.samples / ANALYSIS_RATE
    duration: float | None = analysed
    if left <= 0:
        # Cut short: only the container can tell the full length (estimated for some codecs).
        duration = max(reported, analysed) if reported is not None else None
    f0, power = analyser.finish()
    if analyser.samples == 0:
        raise SampleError(f"{name!r} contains no audio samples.")
    nuclei, phonation = _syllable_nuclei(power, f0)
    return _SampleMeasure(f0[f0 > 0], nuclei, phonation, analysed, duration)


def _choose_base_voice(median_f0: float) -> BaseVoice:
    joe = BASE_VOICES[0]
    low, high = _JOE_PITCH_RANGE
    if low <= median_f0 / joe.median_f0_hz <= high:
        return joe
    return min(BASE_VOICES, key=lambda voice: abs(np.log(median_f0 / voice.median_f0_hz)))


@contextlib.contextmanager
def _open_audio(source: SampleSource, name: str) -> Iterator[InputContainer]:
    """The PyAV container of a sample; PyAV's errors (opening or decoding) become
    ``SampleError``."""
    import av

    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(source)
    elif isinstance(source, os.PathLike):
        source = os.fspath(source)
    elif not isinstance(source, str):
        source.seek(0)
    try:
        container = av.open(source, mode="r")
    except (av.FFmpegError, ValueError, OSError):
        raise _undecodable(name) from None
    try:
        if not container.streams.audio:
            raise SampleError(f"{name!r} has no audio track.")
        yield container
    except SampleError:
        raise
    except (av.FFmpegError, ValueError, OSError):
        raise _undecodable(name) from None
    finally:
        container.close()


def _undecodable(name: str) -> SampleError:
    return SampleError(
        f"{name!r} is not an audio file that can be decoded (mp3, wav, ogg, flac, m4a, "
        "webm, ... are accepted)."
    )


def _reported_seconds(container: InputContainer) -> float | None:
    """The duration a container declares (exact for WAV, estimated for some codecs)."""
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _decoded_blocks(container: InputContainer) -> Generator[np.ndarray, None, None]:
    """float32 mono blocks at ``ANALYSIS_RATE``, one per decoded frame (tens of ms each)."""
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=ANALYSIS_RATE)
    for frame in container.decode(audio=0):
        for out in resampler.resample(frame):
            yield out.to_ndarray().reshape(-1)
    for out in resampler.resample(None):
        yield out.to_ndarray().reshape(-1)


def decode_audio(data: SampleSource, name: str = "sample") -> np.ndarray:
    """Decode a whole audio file to float32 mono at ``ANALYSIS_RATE``.

    For short audio (tests, tools): the server's analysis never holds a whole sample.

    Parameters
    ----------
    data : bytes or path or binary file
        The file.
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
    with _open_audio(data, name) as container:
        pieces = list(_decoded_blocks(container))
    if not pieces:
        raise SampleError(f"{name!r} contains no audio samples.")
    return np.concatenate(pieces).astype(np.float32)


class FrameAnalyser:
    """Per-frame YIN pitch and vowel-band power of one recording, fed block by block.

    Holds only the samples a frame still needs and one number or two per 10 ms frame, so a
    recording of any length is measured in the same few MB. ``feed`` the 16 kHz float audio in
    any block sizes, then ``finish`` once.
    """

    def __init__(self) -> None:
        self.samples = 0
        self._lag_min = int(ANALYSIS_RATE / _F0_MAX)
        self._lag_max = int(ANALYSIS_RATE / _F0_MIN) + 1
        self._yin_length = _YIN_WINDOW + self._lag_max
        # Lags up to lag_max of a window that lies inside its frame never wrap around, so a
        # circular correlation of frame length is exact; pocketfft is fastest on 5-smooth sizes.
        self._yin_fft = _fast_fft_size(self._yin_length)
        self._yin_pending = _Pending()
        self._candidates: list[np.ndarray] = []
        self._loudness: list[np.ndarray] = []
        self._band = _VowelBand()
        self._band_rest = np.zeros(0)
        self._hop_energy: list[np.ndarray] = []

    def feed(self, block: np.ndarray) -> None:
        """Add the next samples (float mono at ``ANALYSIS_RATE``)."""
        if len(block) == 0:
            return
        self.samples += len(block)
        self._yin_pending.add(block)
        batch = _YIN_BATCH_FRAMES * _HOP + self._yin_length - _HOP
        if len(self._yin_pending) >= batch:
            self._run_yin()
        for filtered in self._band.feed(block):
            self._add_band(filtered)

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """F0 per 10 ms frame (0 when unvoiced or silent) and band power per 20 ms frame."""
        self._run_yin()
        for filtered in self._band.finish():
            self._add_band(filtered)
        candidates = np.concatenate([np.zeros(0), *self._candidates])
        loudness = np.concatenate([np.zeros(0), *self._loudness])
        # Silence is relative to the loudest frame of the whole recording, so it is decided
        # here, once every frame has been measured.
        silent = loudness < max(1e-4, 0.02 * np.max(loudness, initial=0.0))
        f0 = np.where(silent, 0.0, candidates)
        hops = np.concatenate([np.zeros(0), *self._hop_energy])
        power = (hops[:-1] + hops[1:]) / _INTENSITY_FRAME if len(hops) > 1 else np.zeros(0)
        return f0, power

    def _run_yin(self) -> None:
        samples = self._yin_pending.take()
        count = (len(samples) - self._yin_length) // _HOP + 1
        for first in range(0, max(count, 0), _YIN_BATCH_FRAMES):
            frames = min(_YIN_BATCH_FRAMES, count - first)
            candidates, loudness = self._yin_frames(samples, first * _HOP, frames)
            self._candidates.append(candidates)
            self._loudness.append(loudness)
        consumed = max(count, 0) * _HOP
        self._yin_pending.add(samples[consumed:])

    def _yin_frames(
        self, samples: np.ndarray, start: int, count: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """YIN F0 candidate and loudness of ``count`` frames from ``start``."""
        lag_min, lag_max = self._lag_min, self._lag_max
        starts = start + np.arange(count) * _HOP
        frames = samples[starts[:, None] + np.arange(self._yin_length)].astype(np.float64)
        window = frames[:, :_YIN_WINDOW]
        size = self._yin_fft
        correlation = np.fft.irfft(
            np.fft.rfft(frames, size) * np.conj(np.fft.rfft(window, size)), size
        )[:, : lag_max + 1]
        squares = np.concatenate([np.zeros((count, 1)), np.cumsum(frames**2, axis=1)], axis=1)
        energy_start = squares[:, _YIN_WINDOW][:, None]
        lags = np.arange(lag_max + 1)
        energy_lagged = squares[:, lags + _YIN_WINDOW] - squares[:, lags]
        difference = energy_start + energy_lagged - 2 * correlation
        difference[:, 0] = 0.0
        cumulative = np.cumsum(difference[:, 1:], axis=1)
        normalized = np.ones_like(difference)
        normalized[:, 1:] = difference[:, 1:] * lags[1:] / np.maximum(cumulative, 1e-12)
        loudness = np.sqrt(energy_start[:, 0] / _YIN_WINDOW)
        region = normalized[:, lag_min:lag_max]
        below = region < _YIN_THRESHOLD
        has_dip = below.any(axis=1)
        # The first dip under the threshold; without one, YIN's fallback: the best period if
        # clear enough.
        lag = lag_min + np.where(has_dip, np.argmax(below, axis=1), np.argmin(region, axis=1))
        rows = np.arange(count)
        voiced = has_dip | (normalized[rows, lag] < _YIN_VOICED_LIMIT)
        # Walk down to the bottom of the dip.
        while True:
            step = (lag + 1 < lag_max) & (
                normalized[rows, np.minimum(lag + 1, lag_max)] < normalized[rows, lag]
            )
            if not step.any():
                break
            lag = lag + step
        left = normalized[rows, lag - 1]
        middle = normalized[rows, lag]
        right = normalized[rows, lag + 1]
        denominator = left - 2 * middle + right
        curved = denominator > 0
        shift = np.zeros(count)
        shift[curved] = 0.5 * (left - right)[curved] / denominator[curved]
        candidates = np.where(voiced, ANALYSIS_RATE / (lag + shift), 0.0)
        return candidates, loudness

    def _add_band(self, filtered: np.ndarray) -> None:
        samples = np.concatenate([self._band_rest, filtered])
        whole = len(samples) // _HOP * _HOP
        self._hop_energy.append(np.sum(samples[:whole].reshape(-1, _HOP) ** 2, axis=1))
        self._band_rest = samples[whole:]


def _fast_fft_size(minimum: int) -> int:
    """The smallest 2^a·3^b·5^c that is at least ``minimum``."""
    size = minimum
    while True:
        rest = size
        for factor in (2, 3, 5):
            while rest % factor == 0:
                rest //= factor
        if rest == 1:
            return size
        size += 1


class _Pending:
    """Blocks of samples waiting to be processed, joined only when they are used."""

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] = []
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def add(self, block: np.ndarray) -> None:
        if len(block):
            self._blocks.append(block)
            self._length += len(block)

    def take(self) -> np.ndarray:
        joined = np.concatenate([np.zeros(0, np.float32), *self._blocks])
        self._blocks, self._length = [], 0
        return joined


class _VowelBand:
    """The 300–3000 Hz band of a stream, where vowels carry their energy and fricatives do not.

    A brick-wall FFT filter on overlapping segments: each segment's middle is kept, with
    ``_BAND_CONTEXT`` samples of audio (or of silence before the start and after the end) on
    each side, which makes it match one FFT of the whole recording.
    """

    def __init__(self) -> None:
        frequencies = np.fft.rfftfreq(_BAND_SEGMENT, 1.0 / ANALYSIS_RATE)
        self._stop = (frequencies < 300) | (frequencies > 3000)
        self._core = _BAND_SEGMENT - 2 * _BAND_CONTEXT
        self._pending = _Pending()
        self._pending.add(np.zeros(_BAND_CONTEXT, np.float32))
        self._fed = 0
        self._given = 0

    def feed(self, block: np.ndarray) -> list[np.ndarray]:
        """Filtered samples that ``block`` completed (possibly none)."""
        self._fed += len(block)
        self._pending.add(block)
        if len(self._pending) < _BAND_SEGMENT:
            return []
        return self._filter_segments()

    def finish(self) -> list[np.ndarray]:
        """The filtered rest of the stream."""
        self._pending.add(np.zeros(self._core + _BAND_CONTEXT, np.float32))
        return self._filter_segments()

    def _filter_segments(self) -> list[np.ndarray]:
        samples = self._pending.take()
        out = []
        start = 0
        while start + _BAND_SEGMENT <= len(samples) and self._given < self._fed:
            spectrum = np.fft.rfft(samples[start : start + _BAND_SEGMENT])
            spectrum[self._stop] = 0
            middle = np.fft.irfft(spectrum, _BAND_SEGMENT)[_BAND_CONTEXT : -_BAND_CONTEXT]
            middle = middle[: self._fed - self._given]
            self._given += len(middle)
            out.append(middle)
            start += self._core
        self._pending.add(samples[start:])
        return out


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
    analyser = FrameAnalyser()
    analyser.feed(_at_analysis_rate(samples, sample_rate))
    return analyser.finish()[0]


def median_f0(samples: np.ndarray, sample_rate: int) -> float:
    """Median F0 (Hz) of the voiced frames of ``samples``; 0.0 when nothing is voiced."""
    f0 = f0_track(samples, sample_rate)
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if len(voiced) else 0.0


def _syllable_nuclei(power: np.ndarray, f0: np.ndarray) -> tuple[int, float]:
    """Syllable nuclei and seconds of phonation from per-frame band power and F0 (module doc).

    Parameters
    ----------
    power : numpy.ndarray
        Mean square of the 300–3000 Hz band per 20 ms frame, every 10 ms.
    f0 : numpy.ndarray
        ``f0_track`` of the same audio.

    Returns
    -------
    tuple of (int, float)
        Number of nuclei and seconds of audio above the intensity threshold.
    """
    count = len(power)
    if count <= 2:
        return 0, 0.0
    intensity = np.convolve(10 * np.log10(power + 1e-10), np.ones(3) / 3, mode="same")
    above = intensity > np.max(intensity) - 25.0
    nuclei = _intensity_peaks(intensity.tolist(), above.tolist())
    # f0 frames are 32 ms + lag long and start with the intensity frames: centre them.
    offset = (_YIN_WINDOW // 2 - _INTENSITY_FRAME // 2) // _HOP
    voiced = np.zeros(count, dtype=bool)
    voiced_index = np.flatnonzero(f0 > 0) + offset
    voiced[voiced_index[voiced_index < count]] = True
    near_voiced = np.convolve(voiced, np.ones(9), mode="same") > 0
    syllables = sum(1 for peak in nuclei if near_voiced[peak])
    return syllables, _speech_seconds(above)


def _intensity_peaks(intensity: list[float], above: list[bool]) -> list[int]:
    """Loud local maxima at least 2 dB above the dip to the previous one (louder one kept)."""
    nuclei: list[int] = []
    dip = float("inf")  # lowest intensity since the last nucleus, that nucleus included
    for peak in range(1, len(intensity) - 1):
        level = intensity[peak]
        dip = min(dip, level)
        if not (above[peak] and intensity[peak - 1] <= level > intensity[peak + 1]):
            continue
        if nuclei:
            last = intensity[nuclei[-1]]
            if min(last, level) - dip < 2.0:
                if level > last:
                    nuclei[-1] = peak
                    dip = level
                continue
        nuclei.append(peak)
        dip = level
    return nuclei


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
    analyser = FrameAnalyser()
    analyser.feed(_at_analysis_rate(samples, sample_rate))
    f0, power = analyser.finish()
    count, seconds = _syllable_nuclei(power, f0)
    return count / seconds if seconds > 0 else 0.0


def _at_analysis_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.dtype == np.int16:
        samples = samples.astype(np.float32) / 32768.0
    if sample_rate == ANALYSIS_RATE:
        return samples.astype(np.float32)
    import soxr

    return np.asarray(soxr.resample(samples.astype(np.float32), sample_rate, ANALYSIS_RATE))

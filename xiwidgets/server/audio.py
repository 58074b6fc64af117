"""Streaming encoders for the API's output formats (``xiwidgets.formats``), and loudness
normalization.

One encoder object serves one stream: it resamples with a streaming soxr resampler and, for
MP3, feeds a single LAME encoder chunk by chunk, so the clauses of a take join without gaps
or extra MP3 headers.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeAlias

import lameenc
import numpy as np
import soxr
from numpy.typing import NDArray

from xiwidgets.formats import OutputFormat
from xiwidgets.wav import wav_bytes

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame
    from av.audio.stream import AudioStream
    from av.container import OutputContainer
    from typing_extensions import Buffer

Int16Audio: TypeAlias = NDArray[np.int16]
"""Mono samples as 16-bit integers (what the encoders take)."""
FloatAudio: TypeAlias = NDArray[np.float32]
"""Mono samples as floats in [-1, 1] (what the engines make)."""


class StreamEncoder(Protocol):
    """Encodes one stream of int16 mono audio, chunk by chunk."""

    def encode(self, pcm: Int16Audio) -> bytes:
        """Encode the next chunk; returns the bytes ready so far (may be empty)."""

    def finish(self) -> bytes:
        """Flush and return the remaining bytes; the encoder is then spent."""


def make_encoder(fmt: OutputFormat, input_rate: int) -> StreamEncoder:
    """Create the encoder for one stream.

    Parameters
    ----------
    fmt : OutputFormat
        The requested output format.
    input_rate : int
        Sample rate of the int16 chunks that will be passed to ``encode``.

    Returns
    -------
    StreamEncoder
    """
    resampler = _Resampler(input_rate, fmt.sample_rate)
    if fmt.codec == "mp3":
        return _Mp3Encoder(resampler, fmt)
    if fmt.codec == "opus":
        return _OpusEncoder(resampler, fmt)
    if fmt.codec == "wav":
        return _WavEncoder(resampler, fmt.sample_rate)
    return _SampleEncoder(resampler, _SAMPLE_CODECS[fmt.codec])


class _Resampler:
    """Streaming int16 resampler (soxr keeps its filter state between chunks)."""

    def __init__(self, input_rate: int, output_rate: int) -> None:
        self._stream: soxr.ResampleStream | None = None
        if input_rate != output_rate:
            self._stream = soxr.ResampleStream(input_rate, output_rate, 1, dtype="float32")

    def push(self, pcm: Int16Audio, *, last: bool = False) -> Int16Audio:
        pcm = np.asarray(pcm, dtype=np.int16)
        if self._stream is None:
            return pcm
        out: FloatAudio = self._stream.resample_chunk(pcm.astype(np.float32) / 32768.0, last=last)
        return float_to_int16(out)


class _SampleEncoder:
    def __init__(self, resampler: _Resampler, codec: Callable[[Int16Audio], bytes]) -> None:
        self._resampler = resampler
        self._codec = codec

    def encode(self, pcm: Int16Audio) -> bytes:
        return self._codec(self._resampler.push(pcm))

    def finish(self) -> bytes:
        return self._codec(self._resampler.push(np.zeros(0, np.int16), last=True))


def _bitrate(fmt: OutputFormat) -> int:
    """kbit/s of an MP3 or Opus format (every name of those codecs has one)."""
    if fmt.bitrate is None:
        raise ValueError(f"output_format {fmt.name!r} names no bitrate")
    return fmt.bitrate


class _Mp3Encoder:
    def __init__(self, resampler: _Resampler, fmt: OutputFormat) -> None:
        self._resampler = resampler
        self._lame = lameenc.Encoder()
        self._lame.set_bit_rate(_bitrate(fmt))
        self._lame.set_in_sample_rate(fmt.sample_rate)
        self._lame.set_out_sample_rate(fmt.sample_rate)
        self._lame.set_channels(1)
        self._lame.set_quality(5)

    def encode(self, pcm: Int16Audio) -> bytes:
        return bytes(self._lame.encode(self._resampler.push(pcm).tobytes()))

    def finish(self) -> bytes:
        tail = self._resampler.push(np.zeros(0, np.int16), last=True)
        return bytes(self._lame.encode(tail.tobytes())) + bytes(self._lame.flush())


class _ByteSink(io.RawIOBase):
    """Write-only file that hands out what has been written since the last ``take``."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        size = memoryview(data).nbytes
        self._pending += data
        self._position += size
        return size

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = bytes(self._pending)
        self._pending.clear()
        return data


class _OpusEncoder:
    """Ogg/Opus through PyAV (libopus), muxed as it goes: short Ogg pages stream promptly."""

    def __init__(self, resampler: _Resampler, fmt: OutputFormat) -> None:
        # Imported here: PyAV takes about a tenth of a second to import, and only Opus needs it.
        import av

        self._frame_class: type[AudioFrame] = av.AudioFrame
        self._resampler = resampler
        self._sink = _ByteSink()
        # 60 ms pages: the muxer's default (1 s) would hold the first audio back.
        self._container: OutputContainer = av.open(
            self._sink, mode="w", format="ogg", options={"page_duration": "60000"}
        )
        self._stream: AudioStream = self._container.add_stream(
            "libopus", rate=fmt.sample_rate, layout="mono")
        self._stream.bit_rate = _bitrate(fmt) * 1000
        self._rate = fmt.sample_rate
        self._pts = 0

    def _mux(self, pcm: Int16Audio | None) -> bytes:
        frame = None
        if pcm is not None and len(pcm):
            frame = self._frame_class.from_ndarray(
                pcm.reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = self._rate
            frame.pts = self._pts
            self._pts += len(pcm)
        if frame is not None or pcm is None:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        return self._sink.take()

    def encode(self, pcm: Int16Audio) -> bytes:
        return self._mux(self._resampler.push(pcm))

    def finish(self) -> bytes:
        data = self._mux(self._resampler.push(np.zeros(0, np.int16), last=True))
        data += self._mux(None)
        self._container.close()
        return data + self._sink.take()


class _WavEncoder:
    """Whole-file WAV: the header needs the total length, so everything comes at finish."""

    def __init__(self, resampler: _Resampler, sample_rate: int) -> None:
        self._resampler = resampler
        self._sample_rate = sample_rate
        self._data = io.BytesIO()

    def encode(self, pcm: Int16Audio) -> bytes:
        self._data.write(self._resampler.push(pcm).tobytes())
        return b""

    def finish(self) -> bytes:
        self._data.write(self._resampler.push(np.zeros(0, np.int16), last=True).tobytes())
        return wav_bytes(self._data.getvalue(), self._sample_rate)


def float_to_int16(samples: FloatAudio) -> Int16Audio:
    """Convert float audio in [-1, 1] to int16, clipping what lies outside."""
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def _pcm_s16le(pcm: Int16Audio) -> bytes:
    return pcm.astype("<i2").tobytes()


# G.711 segment ends (ITU-T G.711 / Sun's reference g711.c), on the 13-bit (A-law) and
# 14-bit (mu-law) magnitudes.
_ALAW_SEGMENT_ENDS = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
_ULAW_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ULAW_BIAS = 0x84 >> 2
_ULAW_CLIP = 8159


def linear_to_ulaw(pcm: Int16Audio) -> bytes:
    """Encode int16 samples as G.711 mu-law bytes."""
    value = pcm.astype(np.int32) >> 2
    mask = np.where(value < 0, 0x7F, 0xFF)
    value = np.minimum(np.abs(value), _ULAW_CLIP) + _ULAW_BIAS
    segment = np.searchsorted(_ULAW_SEGMENT_ENDS, value, side="left")
    code = (segment << 4) | ((value >> (segment + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8).tobytes()


def linear_to_alaw(pcm: Int16Audio) -> bytes:
    """Encode int16 samples as G.711 A-law bytes."""
    value = pcm.astype(np.int32) >> 3
    mask = np.where(value >= 0, 0xD5, 0x55)
    value = np.where(value >= 0, value, -value - 1)
    segment = np.searchsorted(_ALAW_SEGMENT_ENDS, value, side="left")
    shift = np.where(segment < 2, 1, segment)
    code = (np.minimum(segment, 7) << 4) | ((value >> shift) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8).tobytes()


_SAMPLE_CODECS: dict[str, Callable[[Int16Audio], bytes]] = {
    "pcm": _pcm_s16le, "ulaw": linear_to_ulaw, "alaw": linear_to_alaw,
}


def normalize_loudness(
    samples: FloatAudio, target_dbfs: float = -20.0, peak_dbfs: float = -1.0
) -> FloatAudio:
    """Scale float audio so its speech RMS is ``target_dbfs``, peaks kept under ``peak_dbfs``.

    The RMS is measured over 20 ms frames louder than -50 dBFS (speech, not pauses), so
    clauses with long pauses are not boosted more than others.

    Parameters
    ----------
    samples : numpy.ndarray
        float32 mono audio.
    target_dbfs : float
        Wanted RMS level of the speech frames.
    peak_dbfs : float
        Ceiling for the absolute peak after scaling.

    Returns
    -------
    numpy.ndarray
        Scaled float32 audio (unchanged if silent).
    """
    level = speech_rms(samples)
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if level <= 0.0 or peak <= 0.0:
        return samples
    gain = min(10 ** (target_dbfs / 20) / level, 10 ** (peak_dbfs / 20) / peak)
    return (samples * gain).astype(np.float32)


def speech_rms(samples: FloatAudio, frame: int = 441) -> float:
    """RMS over the frames louder than -50 dBFS (0.0 for silence)."""
    count = len(samples) // frame
    if count == 0:
        return float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0
    frames = samples[: count * frame].reshape(count, frame).astype(np.float64)
    energy = np.mean(np.square(frames), axis=1)
    loud = energy > 10 ** (-50 / 10)
    return float(np.sqrt(np.mean(energy[loud]))) if np.any(loud) else 0.0

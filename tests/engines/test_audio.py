"""Output formats: parse, encode chunk by chunk, decode with PyAV and check what came out."""

from __future__ import annotations

import io
import itertools

import av
import numpy as np
import pytest

from xiwidgets.formats import OutputFormat, supported_names
from xiwidgets.server.audio import linear_to_alaw, linear_to_ulaw, make_encoder

RATE = 22050
REFERENCE_FORMATS = [
    "mp3_22050_32", "mp3_24000_48", "mp3_44100_32", "mp3_44100_64", "mp3_44100_96",
    "mp3_44100_128", "mp3_44100_192", "pcm_8000", "pcm_16000", "pcm_22050", "pcm_24000",
    "pcm_32000", "pcm_44100", "pcm_48000", "ulaw_8000", "alaw_8000", "opus_48000_32",
    "opus_48000_64", "opus_48000_96", "opus_48000_128", "opus_48000_192",
]
WAV_FORMATS = [f"wav_{r}" for r in (8000, 16000, 22050, 24000, 32000, 44100, 48000)]


def _tone_chunks(seconds=(0.4, 0.7, 0.3), frequency=330.0) -> list[np.ndarray]:
    """A continuous sine split into chunks of the given lengths (like clauses)."""
    total = np.arange(int(sum(seconds) * RATE))
    signal = (0.4 * 32767 * np.sin(2 * np.pi * frequency * total / RATE)).astype(np.int16)
    bounds = np.cumsum([0] + [int(s * RATE) for s in seconds])
    return [signal[a:b] for a, b in itertools.pairwise(bounds)]


def _encode(name: str, chunks: list[np.ndarray], streaming: bool = True) -> tuple[bytes, list]:
    encoder = make_encoder(OutputFormat.parse(name, streaming=streaming), RATE)
    pieces = [encoder.encode(chunk) for chunk in chunks]
    pieces.append(encoder.finish())
    return b"".join(pieces), pieces


def _decode(data: bytes, container_format: str | None = None, **options) -> tuple[np.ndarray, int]:
    with av.open(io.BytesIO(data), format=container_format, options=options) as container:
        stream = container.streams.audio[0]
        frames = [frame.to_ndarray().reshape(-1) for frame in container.decode(stream)]
        return np.concatenate(frames), stream.codec_context.sample_rate


def test_every_reference_format_is_accepted_for_streaming():
    assert set(REFERENCE_FORMATS) <= set(supported_names(streaming=True))
    assert set(REFERENCE_FORMATS + WAV_FORMATS) <= set(supported_names(streaming=False))


@pytest.mark.parametrize(
    ("name", "streaming"),
    [("wav_44100", True), ("mp3_44100_999", False), ("flac_44100", False), ("", True),
     ("pcm_11025", False), ("mp3_44100", True)],
)
def test_unsupported_formats_raise_a_readable_value_error(name, streaming):
    with pytest.raises(ValueError, match="Unsupported output_format") as error:
        OutputFormat.parse(name, streaming=streaming)
    assert "mp3_44100_128" in str(error.value)


def test_wav_is_refused_on_streaming_endpoints_with_a_reason():
    with pytest.raises(ValueError, match="on streaming endpoints"):
        OutputFormat.parse("wav_16000", streaming=True)


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("mp3_44100_128", "audio/mpeg"), ("pcm_16000", "audio/pcm"), ("ulaw_8000", "audio/basic"),
     ("alaw_8000", "audio/alaw"), ("opus_48000_64", "audio/ogg")],
)
def test_media_types(name, media_type):
    assert OutputFormat.parse(name, streaming=True).media_type == media_type
    assert OutputFormat.parse("wav_8000", streaming=False).media_type == "audio/wav"


@pytest.mark.parametrize("name", sorted(n for n in REFERENCE_FORMATS if n.startswith("mp3")))
def test_mp3_decodes_at_the_format_rate_and_length(name):
    data, _ = _encode(name, _tone_chunks())
    samples, rate = _decode(data)
    fmt = OutputFormat.parse(name, streaming=True)
    assert rate == fmt.sample_rate
    # LAME adds encoder delay and padding (< 2 frames of 1152 samples).
    assert abs(len(samples) / rate - 1.4) < 2 * 1152 / rate + 0.01


def test_chunked_mp3_is_one_continuous_stream_identical_to_a_one_shot_encoding():
    chunks = _tone_chunks(seconds=(0.13, 0.9, 0.05, 0.61))
    streamed, pieces = _encode("mp3_44100_128", chunks)
    one_shot, _ = _encode("mp3_44100_128", [np.concatenate(chunks)])
    assert streamed == one_shot
    assert sum(1 for piece in pieces[:-1] if piece) >= 2  # bytes leave before the end
    samples, rate = _decode(streamed)
    # A pure tone has no quiet stretch anywhere: no gap at the joins.
    body = samples[int(0.1 * rate) : int(1.6 * rate)]
    window = int(0.01 * rate)
    levels = np.sqrt(np.mean(body[: len(body) // window * window].reshape(-1, window) ** 2, 1))
    assert levels.min() > 0.5 * np.median(levels)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 32000, 44100, 48000])
def test_pcm_is_s16le_mono_at_the_format_rate(rate):
    chunks = _tone_chunks()
    data, _ = _encode(f"pcm_{rate}", chunks)
    samples = np.frombuffer(data, dtype="<i2")
    assert len(samples) == pytest.approx(1.4 * rate, abs=2)
    # The 330 Hz tone survives resampling: its spectrum peaks at 330 Hz.
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    assert np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)] == pytest.approx(330, 2)


@pytest.mark.parametrize(("name", "container"), [("ulaw_8000", "mulaw"), ("alaw_8000", "alaw")])
def test_g711_decodes_back_to_the_signal(name, container):
    chunks = _tone_chunks()
    data, _ = _encode(name, chunks)
    assert len(data) == pytest.approx(1.4 * 8000, abs=2)
    decoded, _ = _decode(data, container, sample_rate="8000", ch_layout="mono")
    reference = np.frombuffer(_encode("pcm_8000", chunks)[0], dtype="<i2").astype(np.float64)
    error = decoded.astype(np.float64) - reference
    snr = 10 * np.log10(np.sum(reference**2) / np.sum(error**2))
    assert snr > 30


def test_g711_reference_values():
    samples = np.array([0, -1, 32767, -32768, 1000], dtype=np.int16)
    # Sun's reference g711.c (and CPython's deprecated audioop) give these codes.
    assert linear_to_ulaw(samples) == bytes([0xFF, 0x7E, 0x80, 0x00, 0xCE])
    assert linear_to_alaw(samples) == bytes([0xD5, 0x55, 0xAA, 0x2A, 0xFA])


@pytest.mark.parametrize("name", WAV_FORMATS)
def test_wav_is_a_whole_file_at_the_format_rate(name):
    data, pieces = _encode(name, _tone_chunks(), streaming=False)
    assert all(piece == b"" for piece in pieces[:-1])
    samples, rate = _decode(data)
    assert rate == OutputFormat.parse(name, streaming=False).sample_rate
    assert len(samples) == pytest.approx(1.4 * rate, abs=2)


@pytest.mark.parametrize("name", ["opus_48000_32", "opus_48000_128"])
def test_opus_streams_ogg_pages_as_it_goes_and_decodes(name):
    data, pieces = _encode(name, _tone_chunks())
    assert sum(1 for piece in pieces[:-1] if piece) >= 2
    assert data.startswith(b"OggS")
    samples, rate = _decode(data)
    assert rate == 48000
    assert len(samples) / rate == pytest.approx(1.4, abs=0.03)

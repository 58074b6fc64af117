"""Just enough audio parsing for the player: the duration of an MP3 or WAV take."""

from __future__ import annotations

import struct

from xiwidgets.formats import codec_of_media_type

# MPEG audio frame header tables (ISO 11172-3 / 13818-3), indexed by the header's bit fields.
_BITRATES_KBPS = {
    # (mpeg1?, layer) -> bitrate index table
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _skip_id3(data: bytes) -> int:
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    return 10 + size


def mp3_duration(data: bytes) -> float:
    """Seconds of audio in an MP3 (layer III) byte string, by walking its frame headers.

    Parameters
    ----------
    data : bytes
        An MP3 file or stream (an ID3v2 tag at the start is skipped).

    Returns
    -------
    float
        The duration; 0.0 when no frame is found.
    """
    position = _skip_id3(data)
    seconds = 0.0
    while position + 4 <= len(data):
        header = int.from_bytes(data[position:position + 4], "big")
        if header >> 21 != 0x7FF:
            position += 1
            continue
        version = (header >> 19) & 0b11
        layer = 4 - ((header >> 17) & 0b11)
        bitrate_index = (header >> 12) & 0xF
        rate_index = (header >> 10) & 0b11
        if layer != 3 or version == 1 or rate_index == 3 or bitrate_index in (0, 15):
            position += 1
            continue
        mpeg1 = version == 3
        bitrate = _BITRATES_KBPS[(mpeg1, 3)][bitrate_index] * 1000
        sample_rate = _SAMPLE_RATES[version][rate_index]
        samples = 1152 if mpeg1 else 576
        padding = (header >> 9) & 1
        frame_length = samples // 8 * bitrate // sample_rate + padding
        seconds += samples / sample_rate
        position += max(frame_length, 4)
    return seconds


def wav_duration(data: bytes) -> float:
    """Seconds of audio in a PCM WAV byte string (0.0 when it is not one)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return 0.0
    position, byte_rate, data_size = 12, 0, 0
    while position + 8 <= len(data):
        chunk_id, chunk_size = data[position:position + 4], struct.unpack(
            "<I", data[position + 4:position + 8])[0]
        if chunk_id == b"fmt ":
            byte_rate = struct.unpack("<I", data[position + 16:position + 20])[0]
        elif chunk_id == b"data":
            data_size = min(chunk_size, len(data) - position - 8)
            break
        position += 8 + chunk_size + (chunk_size & 1)
    return data_size / byte_rate if byte_rate else 0.0


def duration(data: bytes, content_type: str) -> float:
    """Seconds of audio in ``data`` of media type ``content_type`` (MP3 or WAV; else 0.0)."""
    codec = codec_of_media_type(content_type)
    measure = _DURATIONS.get(codec.name) if codec is not None else None
    return measure(data) if measure is not None else 0.0


# Keyed by ``xiwidgets.formats`` codec name: the codecs whose durations can be read here.
_DURATIONS = {"mp3": mp3_duration, "wav": wav_duration}

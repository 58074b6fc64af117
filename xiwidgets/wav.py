"""The 16-bit mono WAV file, written in one place for the client and the server.

The server's ``wav_*`` takes and history downloads and the client's playable copy of raw PCM or
μ-law takes are all this file: a 44-byte RIFF/WAVE header (PCM, one channel, 16 bits) and the
samples. It imports nothing of xiwidgets, so every layer may read it.
"""

from __future__ import annotations

import struct


def wav_bytes(pcm_bytes: bytes, sample_rate: int) -> bytes:
    """Wrap s16le mono samples in a RIFF/WAVE header.

    Parameters
    ----------
    pcm_bytes : bytes
        Little-endian 16-bit samples, one channel.
    sample_rate : int
        Samples per second.

    Returns
    -------
    bytes
        The whole WAV file (the same bytes the standard library's ``wave`` module writes).
    """
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(pcm_bytes), b"WAVE", b"fmt ", 16, 1, 1,
        sample_rate, sample_rate * 2, 2, 16, b"data", len(pcm_bytes),
    )
    return header + pcm_bytes

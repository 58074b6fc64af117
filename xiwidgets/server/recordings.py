"""Uploaded recordings decoded for speech recognition: 16 kHz mono float32, bounded in length.

Any container and codec PyAV (FFmpeg) reads is accepted — WAV, MP3, Ogg/Opus, FLAC, M4A/AAC,
WebM, a video's sound track. Decoding stops as soon as the recording passes the length limit, so
a long or hostile file costs at most ``max_seconds`` of samples (64 kB per second) of memory.
"""

from __future__ import annotations

from typing import IO

import numpy as np

from xiwidgets.server.domain_errors import AudioTooLongError, InvalidAudioError
from xiwidgets.whisper_model import WHISPER_RATE


def decode_recording(file: IO[bytes], max_seconds: float, *, raw_pcm: bool = False) -> np.ndarray:
    """Decode ``file`` to float32 mono samples at :data:`~xiwidgets.whisper_model.WHISPER_RATE`.

    Parameters
    ----------
    file : binary file
        The upload, positioned anywhere (it is rewound).
    max_seconds : float
        Longest recording accepted.
    raw_pcm : bool
        ``file`` is headerless 16-bit little-endian mono PCM at 16 kHz (the API's
        ``file_format=pcm_s16le_16``) rather than a container.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    InvalidAudioError
        Not audio PyAV can decode, or no samples in it.
    AudioTooLongError
        Longer than ``max_seconds``.
    """
    limit = int(max_seconds * WHISPER_RATE)
    file.seek(0)
    if raw_pcm:
        data = file.read(2 * limit + 2)
        if len(data) > 2 * limit:
            raise AudioTooLongError(max_seconds)
        samples = np.frombuffer(data[: len(data) // 2 * 2], "<i2").astype(np.float32) / 32768
    else:
        samples = _decode_container(file, limit, max_seconds)
    if len(samples) == 0:
        raise InvalidAudioError("The recording contains no audio samples.")
    return samples


def _decode_container(file: IO[bytes], limit: int, max_seconds: float) -> np.ndarray:
    import av

    blocks: list[np.ndarray] = []
    held = 0
    try:
        with av.open(file, mode="r") as container:
            if not container.streams.audio:
                raise InvalidAudioError("The file has no audio track.")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=WHISPER_RATE)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    block = out.to_ndarray().reshape(-1)
                    held += len(block)
                    if held > limit:
                        raise AudioTooLongError(max_seconds)
                    blocks.append(block)
            blocks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except (av.FFmpegError, ValueError, OSError):
        raise InvalidAudioError(
            "The file is not audio the server can decode (WAV, MP3, Ogg, FLAC, M4A, WebM, ... "
            "are accepted)."
        ) from None
    if not blocks:
        return np.zeros(0, np.float32)
    return np.concatenate(blocks).astype(np.float32)[:limit]

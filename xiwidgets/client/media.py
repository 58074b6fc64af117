"""A take's audio as data: decoded samples, and the player a notebook shows for it.

Decoding goes through PyAV (FFmpeg's decoders: MP3, Ogg Opus, WAV, raw PCM, μ-law, A-law), the
library the local server already uses to write Opus. It is an optional dependency of the client
(the ``audio`` extra, also pulled in by ``local`` and ``eval``) so that a client that only saves
files needs nothing compiled.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from xiwidgets.formats import CODECS, codec_of_format, codec_of_media_type
from xiwidgets.wav import wav_bytes

if TYPE_CHECKING:
    import numpy as np

INSTALL_HINT = "pip install 'xiwidgets[audio]'"

# Raw sample formats: FFmpeg's demuxer name; they carry no header, so the rate must be known.
_RAW_DEMUXERS = {"pcm": "s16le", "ulaw": "mulaw", "alaw": "alaw"}
# What a notebook's <audio> element plays as it is (IPython.display.Audio's types); raw samples
# are wrapped in WAV first.
_PLAYABLE = frozenset({"mp3", "opus", "wav"})


class AudioFormat(NamedTuple):
    """What a decoder needs to know of a take: its codec and, for raw samples, the rate."""

    codec: str | None
    sample_rate: int | None


def audio_format(output_format: str | None, content_type: str | None = None) -> AudioFormat:
    """The codec and sample rate of ``output_format`` (e.g. ``"pcm_16000"``).

    Falls back on the media type when the output format is unknown (a take built by hand);
    the codec is ``None`` when neither says.
    """
    if output_format:
        codec, _, rest = output_format.partition("_")
        rate = rest.split("_", 1)[0]
        return AudioFormat(codec, int(rate) if rate.isdigit() else None)
    known = codec_of_media_type(content_type)
    return AudioFormat(known.name if known is not None else None, None)


def media_type(output_format: str) -> str | None:
    """The media type of audio in ``output_format`` (``None`` for an unknown codec)."""
    codec = codec_of_format(output_format)
    return codec.media_type if codec is not None else None


def _require_av() -> Any:
    try:
        import av
        import numpy  # noqa: F401
    except ImportError:
        raise ImportError(
            f"Decoding a take needs PyAV and numpy: {INSTALL_HINT}") from None
    return av


def decode(audio: bytes, fmt: AudioFormat) -> tuple[np.ndarray, int]:
    """Decode ``audio`` to mono float32 samples in [-1, 1] and their sample rate.

    Parameters
    ----------
    audio : bytes
        The encoded take.
    fmt : AudioFormat
        Its codec and (needed for ``pcm``, ``ulaw`` and ``alaw``) sample rate.

    Returns
    -------
    (numpy.ndarray, int)
        Samples (channels mixed down) and the rate they are at.

    Raises
    ------
    ImportError
        PyAV or numpy is not installed (the message names the extra).
    ValueError
        The format is unknown, or the bytes are not audio of that format.
    """
    av = _require_av()
    import numpy as np

    if fmt.codec in _RAW_DEMUXERS and not fmt.sample_rate:
        raise ValueError(f"{fmt.codec} audio carries no sample rate: the take needs its "
                         "output_format (e.g. 'pcm_16000') to be decoded.")
    if fmt.codec is None:
        raise ValueError("The take's format is unknown (no output_format and no audio media "
                         "type): build it with output_format=... to decode it.")
    if not audio:
        return np.zeros(0, dtype=np.float32), fmt.sample_rate or 0
    options: dict[str, Any] = {}
    if fmt.codec in _RAW_DEMUXERS:
        options = {"format": _RAW_DEMUXERS[fmt.codec],
                   "options": {"sample_rate": str(fmt.sample_rate), "ch_layout": "mono"}}
    pieces: list[np.ndarray] = []
    try:
        with av.open(io.BytesIO(audio), **options) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono")
            rate = stream.rate
            for frame in container.decode(stream):
                pieces.extend(out.to_ndarray()[0] for out in resampler.resample(frame))
            pieces.extend(out.to_ndarray()[0] for out in resampler.resample(None))
    except (av.error.FFmpegError, IndexError) as exc:
        raise ValueError(f"The take's bytes are not {fmt.codec} audio: {exc}") from None
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return np.clip(samples, -1.0, 1.0).astype(np.float32, copy=False), rate


def wav_from_samples(samples: np.ndarray, rate: int) -> bytes:
    """16-bit mono WAV bytes of float samples (what a browser plays of raw PCM or μ-law)."""
    import numpy as np

    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    return wav_bytes(pcm.tobytes(), rate)


def playable(audio: bytes, fmt: AudioFormat,
             samples: Callable[[], tuple[np.ndarray, int]]) -> tuple[bytes, str]:
    """Bytes a browser's ``<audio>`` plays, and their media type.

    MP3, Opus and WAV are kept as they are (compressed takes stay compressed in the notebook);
    raw PCM, μ-law and A-law, which no browser plays, become 16-bit WAV. ``samples`` returns
    the take's decoded ``(samples, rate)``; it is called only for raw formats.
    """
    if fmt.codec in _PLAYABLE:
        return audio, CODECS[str(fmt.codec)].media_type
    pcm, rate = samples()
    return wav_from_samples(pcm, rate), "audio/wav"


def player_html(audio: bytes, media_type: str, caption: str) -> str:
    """An ``<audio>`` player with the audio inline and one line of ``caption`` below it."""
    data = base64.b64encode(audio).decode("ascii")
    return (f'<div class="xi-take"><audio controls preload="metadata" '
            f'aria-label="{html.escape("Take: " + caption)}" '
            f'src="data:{media_type};base64,{data}"></audio>'
            f'<div style="font-size:12px;color:var(--jp-ui-font-color2, var(--vscode-'
            f'descriptionForeground, CanvasText));">{html.escape(caption)}</div></div>')


def caption_line(*, voice: str | None, model_id: str | None, duration: float | None,
                 character_cost: int | None, request_id: str | None) -> str:
    """The metadata line under a take's player: voice · model · duration · cost · request."""
    parts = [voice or "unknown voice", model_id or "default model"]
    if duration is not None:
        parts.append(f"{duration:.2f} s")
    if character_cost is not None:
        parts.append(f"{character_cost:,} characters billed")
    if request_id:
        parts.append(f"request {request_id}")
    return " · ".join(parts)

"""Output formats: every ``output_format`` value, and what each part of xiwidgets needs to know
about one (codec, sample rate, bitrate, media type, file extension, where it plays).

This is the one table of formats. The server's accepted set and its encoders, the client's
defaults, the batch runner's file names, history downloads, the Player (and its JavaScript, which
gets the media type and extension from Python), ``%%speak`` and the Studio all read it: adding a
format is a name in :data:`CODECS` (and, for a new codec, a row there plus its encoder in
``xiwidgets.server.audio``).

The client looks formats up leniently (:func:`codec_of_format`): it passes any
``output_format`` on to the API, because the hosted API may accept variants not listed here.
Only the local server refuses names outside the table (:meth:`OutputFormat.parse`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_OUTPUT_FORMAT = "mp3_44100_128"
"""What the API, the client and the server use when no ``output_format`` is given."""

HISTORY_OUTPUT_FORMAT = "mp3_44100_128"
"""What the history keeps every take in, whatever format it was asked for (as the hosted API)."""

# What the Studio and %%speak ask for: speech at 64 kb/s MP3 is clear, and an embedded take costs
# under a tenth of the WAV that IPython.display.Audio would store (128 kb/s is 0.18x).
NOTEBOOK_OUTPUT_FORMAT = "mp3_44100_64"

_NAME_PATTERN = re.compile(r"^([a-z0-9]+)_(\d+)(?:_(\d+))?$")
_SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)


def _mp3_start(head: bytes) -> bool:
    """An ID3v2 tag or an MPEG audio frame sync (11 set bits)."""
    return head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _riff_start(head: bytes) -> bool:
    return head[:4] == b"RIFF"


@dataclass(frozen=True)
class Codec:
    """One codec and everything its formats share but the sample rate and bitrate.

    Parameters
    ----------
    name : str
        The first part of its format names (``"mp3"`` in ``mp3_44100_128``).
    media_type : str
        The HTTP ``Content-Type`` of its audio.
    extension : str
        File name suffix for its audio, with the dot (``".mp3"``).
    names : tuple of str
        Its ``output_format`` values, ``codec_samplerate[_bitrate]``.
    streamable : bool
        Offered on streaming endpoints (a WAV header needs the length, so WAV is not).
    live_in_browser : bool
        A browser's MediaSource plays it while it arrives (what the Studio streams).
    media_type_aliases : tuple of str
        Other media types that servers send for the same audio.
    starts_like : callable
        ``starts_like(first_four_bytes)``: whether a file's start looks like this codec.
    """

    name: str
    media_type: str
    extension: str
    names: tuple[str, ...]
    streamable: bool = True
    live_in_browser: bool = False
    media_type_aliases: tuple[str, ...] = ()
    starts_like: Callable[[bytes], bool] = bool


CODECS: dict[str, Codec] = {codec.name: codec for codec in (
    # MP3 names in the order the server's error message has always listed them.
    Codec("mp3", "audio/mpeg", ".mp3", (
        "mp3_22050_32", "mp3_24000_48", "mp3_44100_128", "mp3_44100_192", "mp3_44100_32",
        "mp3_44100_64", "mp3_44100_96",
    ), live_in_browser=True, media_type_aliases=("audio/mp3",), starts_like=_mp3_start),
    Codec("pcm", "audio/pcm", ".pcm", tuple(f"pcm_{rate}" for rate in _SAMPLE_RATES)),
    Codec("ulaw", "audio/basic", ".ulaw", ("ulaw_8000",)),
    Codec("alaw", "audio/alaw", ".alaw", ("alaw_8000",)),
    Codec("opus", "audio/ogg", ".opus",
          tuple(f"opus_48000_{kbps}" for kbps in (32, 64, 96, 128, 192)),
          media_type_aliases=("audio/opus",)),
    Codec("wav", "audio/wav", ".wav", tuple(f"wav_{rate}" for rate in _SAMPLE_RATES),
          streamable=False, media_type_aliases=("audio/x-wav", "audio/wave"),
          starts_like=_riff_start),
)}


def supported_names(*, streaming: bool) -> list[str]:
    """All ``output_format`` values the local server accepts.

    Parameters
    ----------
    streaming : bool
        True for streaming endpoints, which offer only the streamable codecs.

    Returns
    -------
    list of str
    """
    return [name for codec in CODECS.values() if codec.streamable or not streaming
            for name in codec.names]


@dataclass(frozen=True)
class OutputFormat:
    """One ``output_format`` value, parsed.

    Parameters
    ----------
    name : str
        The API value, e.g. ``"mp3_44100_128"``.
    codec : str
        A key of :data:`CODECS` (``"mp3"``, ``"pcm"``, ``"ulaw"``, ``"alaw"``, ``"wav"``…).
    sample_rate : int
        Output samples per second.
    bitrate : int or None
        kbit/s for mp3 and opus, None otherwise.
    """

    name: str
    codec: str
    sample_rate: int
    bitrate: int | None = None

    @property
    def media_type(self) -> str:
        """The HTTP ``Content-Type`` of audio in this format."""
        return CODECS[self.codec].media_type

    @property
    def extension(self) -> str:
        """File name suffix for audio in this format, with the dot."""
        return CODECS[self.codec].extension

    @property
    def streamable(self) -> bool:
        """Offered on streaming endpoints."""
        return CODECS[self.codec].streamable

    @property
    def live_in_browser(self) -> bool:
        """A browser's MediaSource plays it while it arrives."""
        return CODECS[self.codec].live_in_browser

    @classmethod
    def parse(cls, name: str, *, streaming: bool = False) -> OutputFormat:
        """Parse an ``output_format`` value.

        Parameters
        ----------
        name : str
            E.g. ``"mp3_44100_128"``, ``"pcm_24000"``, ``"ulaw_8000"``, ``"wav_44100"``.
        streaming : bool, default False
            True for streaming endpoints, where ``wav_*`` is not offered.

        Returns
        -------
        OutputFormat

        Raises
        ------
        ValueError
            With a readable message naming the accepted values.
        """
        accepted = supported_names(streaming=streaming)
        # Every accepted name matches the pattern.
        parts = _NAME_PATTERN.match(name) if name in accepted else None
        if parts is None:
            codec = codec_of_format(name)
            refused_here = streaming and codec is not None and not codec.streamable
            where = " on streaming endpoints" if refused_here else ""
            raise ValueError(
                f"Unsupported output_format {name!r}{where}. "
                f"Accepted values: {', '.join(accepted)}."
            )
        codec_name, rate, bitrate = parts.groups()
        return cls(name, codec_name, int(rate), int(bitrate) if bitrate else None)


def codec_of_format(output_format: str | None) -> Codec | None:
    """The codec an ``output_format`` names (``mp3_44100_128`` → mp3), or None if unknown.

    Lenient on purpose: any ``mp3_*`` is MP3, listed here or not (see the module docstring).
    """
    return CODECS.get((output_format or "").split("_", 1)[0])


def codec_of_media_type(media_type: str | None) -> Codec | None:
    """The codec of a ``Content-Type`` (parameters and case ignored), or None if unknown."""
    media = (media_type or "").split(";", 1)[0].strip().lower()
    return next((codec for codec in CODECS.values()
                 if media in (codec.media_type, *codec.media_type_aliases)), None)


def codec_of_extension(extension: str) -> Codec | None:
    """The codec whose files end in ``extension`` (``".mp3"``, case ignored), or None."""
    return next((codec for codec in CODECS.values()
                 if codec.extension == extension.lower()), None)

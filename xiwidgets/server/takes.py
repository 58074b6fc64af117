"""What a take is while it is produced: its plan, its pieces, its encoders and alignment."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from xiwidgets.formats import HISTORY_OUTPUT_FORMAT, OutputFormat
from xiwidgets.server.spoken_text import SpokenText
from xiwidgets.wav import wav_bytes

if TYPE_CHECKING:
    from xiwidgets.server.audio import StreamEncoder
    from xiwidgets.server.lexicon import Lexicon
    from xiwidgets.server.store import Reservation
    from xiwidgets.server.voices import VoiceRecord

HISTORY_CONTENT_TYPE = OutputFormat.parse(HISTORY_OUTPUT_FORMAT).media_type


@dataclass(frozen=True)
class TakeLine:
    """One line of a take spoken in its own voice (a line of a dialogue).

    ``text_start`` is where the line's text starts in the take's text; ``spoken`` is the line
    as the engine says it (normalized) and ``spoken_start`` where that starts in the take's
    spoken text.
    """

    voice: VoiceRecord
    spec: Any  # engines.VoiceSpec, as the model speaks it
    text: str
    text_start: int
    settings: dict[str, Any]
    synthesis_settings: Any  # engines.SynthesisSettings
    spoken: SpokenText
    spoken_start: int

    @property
    def text_end(self) -> int:
        """Where the line's text ends in the take's text (exclusive)."""
        return self.text_start + len(self.text)

    @property
    def spoken_end(self) -> int:
        """Where the line's spoken text ends in the take's spoken text (exclusive)."""
        return self.spoken_start + len(self.spoken.spoken)


@dataclass
class TakePlan:
    """A validated, paid-for take, ready to synthesize.

    A dialogue has ``lines`` (each in its voice; ``text`` holds them all, ``voice`` and
    ``spec`` are its first line's); a single-voice take has none.
    """

    request_id: str
    voice: VoiceRecord
    spec: Any  # engines.VoiceSpec, as the model speaks it
    model_id: str
    text: str
    output_format: Any  # audio.OutputFormat
    settings: dict[str, Any]
    synthesis_settings: Any  # engines.SynthesisSettings
    reservation: Reservation
    history_item_id: str | None
    lexicon: Lexicon | None = None  # the request's pronunciation rules
    lines: tuple[TakeLine, ...] = ()
    # The text as the engine speaks it (normalized) and the way back to ``text``.
    spoken: SpokenText | None = None

    def __post_init__(self) -> None:
        if self.spoken is None:
            self.spoken = SpokenText.unchanged(self.text)

    @property
    def spoken_text(self) -> SpokenText:
        """How ``text`` is spoken (``text`` itself when it is not normalized)."""
        assert self.spoken is not None  # set by __post_init__
        return self.spoken

    @property
    def character_cost(self) -> int:
        """Characters charged for this take."""
        return self.reservation.cost


@dataclass
class TakePiece:
    """One step of a take as it is produced.

    ``audio`` is encoded bytes in the take's output format. ``chunk`` is the engine chunk whose
    audio starts with these bytes and ``offset_s`` where that chunk starts in the take; it is
    ``None`` for pieces that continue a chunk and for the encoder's final flush.
    """

    audio: bytes
    chunk: Any | None
    offset_s: float
    final: bool = False


@dataclass
class SharedEncoder:
    """One encoder for several takes that form one stream (a websocket session).

    Takes using it leave the final flush to the owner, so the joins between them are as
    seamless as within one take. With ``keep_history`` the stream's audio is also kept as one
    MP3 (``history_audio``), for the history item of the whole stream.
    """

    encoder: StreamEncoder | None = None
    keep_history: bool = False
    history: StreamEncoder | None = None
    history_audio: bytearray = field(default_factory=bytearray)
    client_is_mp3: bool = False

    def finish(self) -> bytes:
        """Flush the encoder(s) at the end of the stream."""
        tail = self.encoder.finish() if self.encoder is not None else b""
        if self.keep_history:
            if self.client_is_mp3:
                self.history_audio += tail
            elif self.history is not None:
                self.history_audio += self.history.finish()
        return tail


class TakeCancelledError(Exception):
    """The client went away; the take stops and is refunded."""


class TakeAudio:
    """The encoders of one take: the client's format, plus MP3 for the history file."""

    def __init__(self, plan: TakePlan, shared: SharedEncoder | None) -> None:
        self.format = plan.output_format
        self.shared = shared
        self.keep_history = plan.history_item_id is not None
        self.client: StreamEncoder | None = shared.encoder if shared is not None else None
        self.history: StreamEncoder | None = None
        self.history_audio = bytearray()

    def encode(self, pcm: np.ndarray, sample_rate: int) -> bytes:
        """Encode int16 samples for the client (and the history); return the client's bytes."""
        from xiwidgets.server.audio import make_encoder

        if self.client is None:
            self.client = make_encoder(self.format, sample_rate)
            if self.shared is not None:
                self.shared.encoder = self.client
                self.shared.client_is_mp3 = self.format.codec == "mp3"
        encoded = self.client.encode(pcm)
        if self.shared is not None and self.shared.keep_history:
            self._keep_in_stream(self.shared, encoded, pcm, sample_rate)
        if self.keep_history:
            if self.format.codec == "mp3":
                self.history_audio += encoded  # the client's bytes are the history file
            else:
                if self.history is None:
                    mp3 = OutputFormat.parse(HISTORY_OUTPUT_FORMAT, streaming=True)
                    self.history = make_encoder(mp3, sample_rate)
                self.history_audio += self.history.encode(pcm)
        return encoded

    def _keep_in_stream(
        self, shared: SharedEncoder, encoded: bytes, pcm: np.ndarray, sample_rate: int
    ) -> None:
        from xiwidgets.server.audio import make_encoder

        if shared.client_is_mp3:
            shared.history_audio += encoded  # the client's bytes are the history file
            return
        if shared.history is None:
            mp3 = OutputFormat.parse(HISTORY_OUTPUT_FORMAT, streaming=True)
            shared.history = make_encoder(mp3, sample_rate)
        shared.history_audio += shared.history.encode(pcm)

    def finish(self) -> bytes:
        """The client encoder's flush (left to the owner of a shared encoder)."""
        tail = b""
        if self.client is not None and self.shared is None:
            tail = self.client.finish()
        if self.keep_history:
            if self.format.codec == "mp3":
                self.history_audio += tail
            elif self.history is not None:
                self.history_audio += self.history.finish()
        return tail


class AlignmentBuilder:
    """Character times over a whole take, from the chunk-relative times of each chunk.

    Chunks follow the spoken text; :meth:`alignments` also carries the times back onto the
    text as sent.
    """

    def __init__(self, spoken: SpokenText) -> None:
        self.spoken = spoken
        self.characters: list[str] = []
        self.starts: list[float] = []
        self.ends: list[float] = []

    def add(self, chunk: Any, offset: float) -> None:
        self.characters.extend(chunk.text)
        self.starts.extend(round(offset + t, 3) for t in chunk.char_starts)
        self.ends.extend(round(offset + t, 3) for t in chunk.char_ends)

    def alignments(self) -> dict[str, dict[str, list[Any]]]:
        """``{"alignment": ..., "normalized_alignment": ...}`` of the whole take."""
        return {
            "alignment": chunk_alignment(*self.spoken.source_times(0, self.starts, self.ends)),
            "normalized_alignment": chunk_alignment(self.characters, self.starts, self.ends),
        }


class StreamAlignment:
    """Character times over a stream of several takes, as sent and as spoken."""

    def __init__(self) -> None:
        self.sent: tuple[list[str], list[float], list[float]] = ([], [], [])
        self.said: tuple[list[str], list[float], list[float]] = ([], [], [])

    def add(self, piece: TakePiece, spoken: SpokenText, offset: float) -> None:
        """Add one piece of a take whose text is ``spoken``, ``offset`` s into the stream."""
        sent, said = piece_alignments(TakePiece(piece.audio, piece.chunk, offset), spoken)
        for into, alignment in ((self.sent, sent), (self.said, said)):
            if alignment is None:
                continue
            into[0].extend(alignment["characters"])
            into[1].extend(alignment["character_start_times_seconds"])
            into[2].extend(alignment["character_end_times_seconds"])

    def alignments(self) -> dict[str, dict[str, list[Any]]]:
        """``{"alignment": ..., "normalized_alignment": ...}`` of the whole stream."""
        return {
            "alignment": chunk_alignment(*self.sent),
            "normalized_alignment": chunk_alignment(*self.said),
        }


def chunk_alignment(
    characters: Iterable[str], starts: Iterable[float], ends: Iterable[float]
) -> dict[str, list[Any]]:
    """The REST ``CharacterAlignmentResponseModel`` from three parallel sequences."""
    return {
        "characters": list(characters),
        "character_start_times_seconds": list(starts),
        "character_end_times_seconds": list(ends),
    }


def piece_alignment(piece: TakePiece) -> dict[str, list[Any]] | None:
    """Alignment of one streamed piece over the spoken text, in seconds from the take's start."""
    if piece.chunk is None:
        return None
    chunk = piece.chunk
    return chunk_alignment(
        chunk.text,
        [round(piece.offset_s + t, 3) for t in chunk.char_starts],
        [round(piece.offset_s + t, 3) for t in chunk.char_ends],
    )


def piece_alignments(
    piece: TakePiece, spoken: SpokenText
) -> tuple[dict[str, list[Any]] | None, dict[str, list[Any]] | None]:
    """``(alignment, normalized_alignment)`` of one piece: the text as sent, and as spoken."""
    normalized = piece_alignment(piece)
    if normalized is None or piece.chunk is None:
        return None, None
    source = spoken.source_times(
        piece.chunk.text_start,
        normalized["character_start_times_seconds"],
        normalized["character_end_times_seconds"],
    )
    return chunk_alignment(*source), normalized


def mp3_to_wav(mp3: bytes) -> bytes:
    """Decode an MP3 file and return it as a 16-bit mono WAV file (history downloads)."""
    with av.open(io.BytesIO(mp3)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        blocks = [
            frame.to_ndarray().reshape(-1)
            for decoded in container.decode(stream)
            for frame in resampler.resample(decoded)
        ]
    pcm = np.concatenate(blocks).astype("<i2") if blocks else np.zeros(0, "<i2")
    return wav_bytes(pcm.tobytes(), rate)

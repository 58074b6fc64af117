"""What a take is while it is produced: its plan, its pieces, its encoders and alignment."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from xiwidgets.formats import HISTORY_OUTPUT_FORMAT, OutputFormat
from xiwidgets.wav import wav_bytes

if TYPE_CHECKING:
    from xiwidgets.server.audio import StreamEncoder
    from xiwidgets.server.store import Reservation
    from xiwidgets.server.voices import VoiceRecord

HISTORY_CONTENT_TYPE = OutputFormat.parse(HISTORY_OUTPUT_FORMAT).media_type


@dataclass
class TakePlan:
    """A validated, paid-for take, ready to synthesize."""

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
    seamless as within one take.
    """

    encoder: StreamEncoder | None = None

    def finish(self) -> bytes:
        """Flush the encoder at the end of the stream."""
        return self.encoder.finish() if self.encoder is not None else b""


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
        encoded = self.client.encode(pcm)
        if self.keep_history:
            if self.format.codec == "mp3":
                self.history_audio += encoded  # the client's bytes are the history file
            else:
                if self.history is None:
                    mp3 = OutputFormat.parse(HISTORY_OUTPUT_FORMAT, streaming=True)
                    self.history = make_encoder(mp3, sample_rate)
                self.history_audio += self.history.encode(pcm)
        return encoded

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
    """Character times over a whole take, from the chunk-relative times of each chunk."""

    def __init__(self) -> None:
        self.characters: list[str] = []
        self.starts: list[float] = []
        self.ends: list[float] = []

    def add(self, chunk: Any, offset: float) -> None:
        self.characters.extend(chunk.text)
        self.starts.extend(round(offset + t, 3) for t in chunk.char_starts)
        self.ends.extend(round(offset + t, 3) for t in chunk.char_ends)

    def as_dict(self) -> dict[str, list[Any]]:
        return chunk_alignment(self.characters, self.starts, self.ends)


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
    """Alignment of one streamed piece, in seconds from the start of the take."""
    if piece.chunk is None:
        return None
    chunk = piece.chunk
    return chunk_alignment(
        chunk.text,
        [round(piece.offset_s + t, 3) for t in chunk.char_starts],
        [round(piece.offset_s + t, 3) for t in chunk.char_ends],
    )


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

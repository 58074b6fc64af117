"""Text to dialogue: several lines, each in its voice, spoken as one continuous take.

The lines' texts are joined with one space (``LINE_SEPARATOR``) into the take's text, so the
take's alignment covers every character of every line and its words never run across a change
of speaker; the separator is spoken as a short pause. Each line is normalized on its own, and
its spoken text joined the same way (``dialogue_spoken``), so ``normalized_alignment`` covers
the whole take as said and ``alignment`` the whole take as sent. Each line is synthesized by its own
voice's engine and resampled to the rate of the take's first chunk, so one encoder makes one
continuous file whatever engines speak.

Independent of HTTP: failures are :mod:`~xiwidgets.server.domain_errors`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import soxr

from xiwidgets.server.spoken_text import SpokenText
from xiwidgets.server.takes import TakeLine, TakePiece

if TYPE_CHECKING:
    from xiwidgets.server.engines import AudioChunk
    from xiwidgets.server.lexicon import Lexicon
    from xiwidgets.server.workers import SpeechMaker

# The hosted API's documented limits (the SDK's ``inputs`` docstring): at most 10 distinct
# voices, and 2,000 characters over all lines for a reliable take.
MAX_DIALOGUE_VOICES = 10
MAX_DIALOGUE_CHARACTERS = 2_000
LINE_SEPARATOR = " "
# Silence between two lines: a turn of speaker, not a run-on.
PAUSE_SECONDS = 0.3


def line_starts(texts: Sequence[str]) -> list[int]:
    """Where each line starts in the take's text (the lines joined by ``LINE_SEPARATOR``)."""
    starts, position = [], 0
    for text in texts:
        starts.append(position)
        position += len(text) + len(LINE_SEPARATOR)
    return starts


def dialogue_text(texts: Sequence[str]) -> str:
    """The take's text: the lines joined by ``LINE_SEPARATOR``."""
    return LINE_SEPARATOR.join(texts)


def dialogue_spoken(lines: Sequence[SpokenText]) -> SpokenText:
    """The take's spoken text: each line as spoken, joined like ``dialogue_text``, with the
    lines' replaced spans moved to where the lines start in the take."""
    pieces = [
        (start + r.source_start, start + r.source_end,
         line.spoken[r.spoken_start:r.spoken_end])
        for line, start in zip(lines, line_starts([line.source for line in lines]), strict=True)
        for r in line.replacements
    ]
    return SpokenText.from_pieces(dialogue_text([line.source for line in lines]), pieces)


def dialogue_chunks(
    synthesizer: SpeechMaker, lines: Sequence[TakeLine], lexicon: Lexicon | None = None
) -> Iterator[AudioChunk]:
    """The chunks of a dialogue take, each line in its voice, a pause between lines.

    Each line's spoken text is said with the request's pronunciation rules (``lexicon``).
    Chunks partition the take's spoken text (``AudioChunk``'s rule), their ``text_start`` in
    it, all at the sample rate of the first chunk.
    """
    rate: int | None = None
    for number, line in enumerate(lines):
        if number:
            assert rate is not None
            yield _pause(rate, line.spoken_start - len(LINE_SEPARATOR))
        said = synthesizer.synthesize(
            line.spoken.spoken, line.spec, line.synthesis_settings, lexicon
        )
        for chunk in said:
            rate = rate or chunk.sample_rate
            yield _at_rate(replace(chunk, text_start=line.spoken_start + chunk.text_start), rate)


def _at_rate(chunk: AudioChunk, rate: int) -> AudioChunk:
    if chunk.sample_rate == rate:
        return chunk
    pcm = soxr.resample(chunk.pcm, chunk.sample_rate, rate)
    return replace(chunk, pcm=np.asarray(pcm, dtype=np.int16), sample_rate=rate)


def _pause(rate: int, text_start: int) -> AudioChunk:
    from xiwidgets.server.engines import AudioChunk

    return AudioChunk(
        pcm=np.zeros(int(PAUSE_SECONDS * rate), dtype=np.int16),
        sample_rate=rate,
        text_start=text_start,
        text=LINE_SEPARATOR,
        char_starts=[0.0],
        char_ends=[PAUSE_SECONDS],
    )


def line_of(lines: Sequence[TakeLine], spoken_start: int) -> int | None:
    """The index of the line whose spoken text holds offset ``spoken_start`` (None: a
    separator)."""
    index = bisect.bisect_right([line.spoken_start for line in lines], spoken_start) - 1
    if index < 0 or spoken_start >= lines[index].spoken_end:
        return None
    return index


def voice_segments(
    lines: Sequence[TakeLine], alignment: dict[str, list[Any]]
) -> list[dict[str, Any]]:
    """``voice_segments`` of a whole take: one per line, over its ``alignment`` (as sent)."""
    starts = alignment["character_start_times_seconds"]
    ends = alignment["character_end_times_seconds"]
    return [
        _segment(
            line,
            index,
            starts[line.text_start],
            ends[line.text_end - 1],
            line.text_start,
            line.text_end,
        )
        for index, line in enumerate(lines)
    ]


def piece_voice_segments(
    lines: Sequence[TakeLine], piece: TakePiece, spoken: SpokenText
) -> list[dict[str, Any]]:
    """``voice_segments`` of one streamed piece: its chunk's line, indexed in the characters
    of the piece's ``alignment`` (as sent; ``spoken`` is the take's spoken text).

    Pieces that continue a chunk, the final flush and the pauses between lines have none.
    """
    chunk = piece.chunk
    if chunk is None:
        return []
    index = line_of(lines, chunk.text_start)
    if index is None:
        return []
    start = round(piece.offset_s, 3)
    end = round(piece.offset_s + chunk.duration, 3)
    sent = (spoken.source_offset(chunk.text_start + len(chunk.text))
            - spoken.source_offset(chunk.text_start))
    return [_segment(lines[index], index, start, end, 0, sent)]


def _segment(
    line: TakeLine, index: int, start: float, end: float, first: int, after_last: int
) -> dict[str, Any]:
    return {
        "voice_id": line.voice.voice_id,
        "start_time_seconds": start,
        "end_time_seconds": end,
        "character_start_index": first,
        "character_end_index": after_last,
        "dialogue_input_index": index,
    }


def dialogue_record(lines: Sequence[TakeLine]) -> list[dict[str, Any]]:
    """The history item's ``dialogue``: each line's text, voice id and voice name."""
    return [
        {"text": line.text, "voice_id": line.voice.voice_id, "voice_name": line.voice.name}
        for line in lines
    ]

"""Words and captions from a take's character alignment.

The API times every character; people read words and subtitles. Words are the runs of
non-space characters (punctuation stays on its word, a lone dash joins the word before it);
captions group words into cues short enough to read (42 characters, 7 seconds: the common
broadcast limits), cut only between words. SRT is written by ``srt`` and WebVTT by
``webvtt-py``, so the files are what those parsers, and players, expect.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xiwidgets.break_tags import blank_breaks, find_breaks

if TYPE_CHECKING:
    from xiwidgets.client.types import Alignment

MAX_LINE_CHARACTERS = 42
MAX_CUE_SECONDS = 7.0
_SENTENCE_ENDS = (".", "!", "?", "…", "。", "！", "？")
_CLOSING_MARKS = "\"')]»”’"
CAPTION_FORMATS = {".srt": "srt", ".vtt": "vtt"}


@dataclass(frozen=True)
class Word:
    """One spoken word and when it is heard, in seconds from the start of the take."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Cue:
    """One caption: a line of words shown from ``start`` to ``end`` (seconds)."""

    text: str
    start: float
    end: float


def _is_word(token: str) -> bool:
    return any(character.isalnum() for character in token)


def words_from_alignment(alignment: Alignment, duration: float | None = None) -> list[Word]:
    """The words of ``alignment``, with times that never go back and stay inside the audio.

    Parameters
    ----------
    alignment : Alignment
        Per-character text and times.
    duration : float, optional
        Length of the audio; times are clamped to it.

    Returns
    -------
    list of Word
        In order; a token with no letter or digit (a dash, a quote) is joined to the word before
        it (or after it, at the start). Break tags (``<break time="1s" />``) are pauses, not
        words: they are left out.
    """
    characters = list(alignment.characters)
    text = "".join(characters)
    if len(text) == len(characters):  # one character per entry, as the API sends them
        # A pause's characters count as the space between words.
        characters = list(blank_breaks(text, find_breaks(text)))
    tokens: list[list[float | str]] = []  # [text, start, end]
    gap = True
    for character, start, end in zip(characters, alignment.character_start_times_seconds,
                                     alignment.character_end_times_seconds, strict=False):
        if character.isspace():
            gap = True
            continue
        if gap:
            tokens.append([character, start, end])
            gap = False
        else:
            token = tokens[-1]
            token[0] = str(token[0]) + character
            token[1], token[2] = min(float(token[1]), start), max(float(token[2]), end)
    merged: list[list[float | str]] = []
    orphan: list[float | str] | None = None  # punctuation before the first word
    for token in tokens:
        if _is_word(str(token[0])):
            if orphan is not None:
                token = [f"{orphan[0]} {token[0]}", orphan[1], token[2]]
                orphan = None
            merged.append(token)
        elif merged:
            merged[-1] = [f"{merged[-1][0]} {token[0]}", merged[-1][1],
                          max(float(merged[-1][2]), float(token[2]))]
        elif orphan is None:
            orphan = token
        else:
            orphan = [f"{orphan[0]} {token[0]}", orphan[1], token[2]]
    if orphan is not None and not merged:
        merged.append(orphan)
    limit = float("inf") if duration is None else max(0.0, float(duration))
    words: list[Word] = []
    previous_end = 0.0
    for entry in merged:
        text, start, end = str(entry[0]), float(entry[1]), float(entry[2])
        # Milliseconds, like the caption formats; rounding must not step past the audio's end.
        begin = min(max(round(float(start), 3), previous_end), limit)
        finish = min(max(round(float(end), 3), begin), limit)
        words.append(Word(str(text), begin, finish))
        previous_end = finish
    return words


def cues(words: Sequence[Word], max_characters: int = MAX_LINE_CHARACTERS,
         max_seconds: float = MAX_CUE_SECONDS) -> list[Cue]:
    """Group ``words`` into one-line cues of at most ``max_characters`` and ``max_seconds``.

    A cue also ends after a word that ends a sentence. A single word longer than either limit
    gets a cue of its own (words are never cut).
    """
    result: list[Cue] = []
    line: list[Word] = []

    def close() -> None:
        if line:
            result.append(Cue(" ".join(w.text for w in line), line[0].start, line[-1].end))
            line.clear()

    for word in words:
        if line:
            longer = len(" ".join(w.text for w in line)) + 1 + len(word.text) > max_characters
            if longer or word.end - line[0].start > max_seconds:
                close()
        line.append(word)
        if word.text.rstrip(_CLOSING_MARKS).endswith(_SENTENCE_ENDS):
            close()
    close()
    return result


def to_srt(words: Sequence[Word]) -> str:
    """SubRip captions of ``words`` (see :func:`cues` for how lines are cut)."""
    import srt

    composed: str = srt.compose([
        srt.Subtitle(index, dt.timedelta(seconds=cue.start), dt.timedelta(seconds=cue.end),
                     cue.text)
        for index, cue in enumerate(cues(words), 1)])
    return composed


def _vtt_time(seconds: float) -> str:
    # Truncated like srt's timestamps, so a cue never ends after the audio does.
    milliseconds = math.floor(seconds * 1000 + 1e-6)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def to_vtt(words: Sequence[Word]) -> str:
    """WebVTT captions of ``words`` (see :func:`cues` for how lines are cut)."""
    import webvtt

    return webvtt.WebVTT(captions=[
        webvtt.Caption(start=_vtt_time(cue.start), end=_vtt_time(cue.end), text=cue.text)
        for cue in cues(words)]).content


def save_captions(words: Sequence[Word], path: str | Path) -> Path:
    """Write captions of ``words`` to ``path``, SRT or WebVTT after its suffix."""
    target = Path(path)
    kind = CAPTION_FORMATS.get(target.suffix.lower())
    if kind is None:
        raise ValueError(f"Cannot tell the caption format of {target.name!r}: use a .srt or "
                         ".vtt file name.")
    target.write_text(to_srt(words) if kind == "srt" else to_vtt(words), encoding="utf-8")
    return target

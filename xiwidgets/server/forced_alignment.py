"""Forced alignment: a known text's words and characters placed on a recording's timeline.

Whisper transcribes the recording with word timestamps; its words are then aligned to the
given text's words as sequences of normalised words (lower case, letters, digits and
apostrophes only) with :class:`difflib.SequenceMatcher`. A given word that matches a heard one
takes its times; a run of given words heard differently takes the times of the heard run, spread
over the words by length; a word Whisper missed is placed between its neighbours. Characters are
spread evenly within their word; the spaces between two words span the gap between them.

Each word's ``loss`` is ``1 - p × s``, ``p`` Whisper's probability for the heard word(s) and
``s`` how alike the heard and given spellings are (1 for a match); a word placed between its
neighbours has loss 1. The alignment's ``loss`` is the mean over its words.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from xiwidgets.server.domain_errors import InvalidAlignmentTextError
from xiwidgets.server.speech_recognition import HeardWord

_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class TimedSpan:
    """A character or word of the given text with its times (seconds) and, for words, loss."""

    text: str
    start: float
    end: float
    loss: float = 0.0


@dataclass(frozen=True)
class ForcedAlignment:
    """Every character and every word of the given text, timed, and the mean word loss."""

    characters: list[TimedSpan]
    words: list[TimedSpan]
    loss: float


def word_key(token: str) -> str:
    """A word as compared: lower case, letters, digits and apostrophes only."""
    return "".join(c for c in token.lower().replace("’", "'") if c.isalnum() or c == "'")


def check_alignment_text(text: str, max_characters: int) -> None:
    """Refuse text with no word to align, or longer than ``max_characters``.

    Raises
    ------
    InvalidAlignmentTextError
    """
    if not any(word_key(token) for token in text.split()):
        raise InvalidAlignmentTextError(
            "The text to align is empty or has no word in it; send the transcript of the "
            "recording."
        )
    if len(text) > max_characters:
        raise InvalidAlignmentTextError(
            f"The text has {len(text):,} characters; this server aligns at most "
            f"{max_characters:,} per request."
        )


def align_text(text: str, heard: Sequence[HeardWord], duration: float) -> ForcedAlignment:
    """Time ``text`` by the words Whisper ``heard`` in a recording of ``duration`` seconds.

    Parameters
    ----------
    text : str
        The transcript to align (any punctuation and spacing; it is kept as sent).
    heard : sequence of HeardWord
        Whisper's words with times, in order.
    duration : float
        The recording's length: no time passes it.

    Returns
    -------
    ForcedAlignment
    """
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    given = [word_key(text[start:end]) for start, end in tokens]
    times: list[tuple[float, float, float] | None] = [None] * len(tokens)
    heard_keys = [word_key(word.text) for word in heard]
    matcher = difflib.SequenceMatcher(None, given, heard_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                word = heard[j1 + offset]
                times[i1 + offset] = (word.start, word.end, 1 - word.probability)
        elif tag == "replace":
            _spread_heard(given, heard, heard_keys, times, (i1, i2), (j1, j2))
    _place_missed(given, times, duration)
    words: list[TimedSpan] = []
    previous_end = 0.0
    for (start, end), timed in zip(tokens, times, strict=True):
        assert timed is not None  # every word is placed by _place_missed
        begin = min(max(timed[0], previous_end), duration)
        finish = min(max(timed[1], begin), duration)
        words.append(TimedSpan(text[start:end], round(begin, 3), round(finish, 3),
                               round(min(1.0, max(0.0, timed[2])), 4)))
        previous_end = finish
    characters = _characters(text, tokens, words, duration)
    loss = sum(word.loss for word in words) / len(words) if words else 0.0
    return ForcedAlignment(characters, words, round(loss, 4))


def _spread_heard(
    given: list[str],
    heard: Sequence[HeardWord],
    heard_keys: list[str],
    times: list[tuple[float, float, float] | None],
    given_range: tuple[int, int],
    heard_range: tuple[int, int],
) -> None:
    """Given words heard differently share the heard run's time span, by length."""
    (i1, i2), (j1, j2) = given_range, heard_range
    if i2 - i1 == j2 - j1:  # word for word: each keeps its own times
        for offset in range(i2 - i1):
            word = heard[j1 + offset]
            alike = difflib.SequenceMatcher(None, given[i1 + offset], heard_keys[j1 + offset])
            times[i1 + offset] = (word.start, word.end, 1 - word.probability * alike.ratio())
        return
    probability = sum(word.probability for word in heard[j1:j2]) / (j2 - j1)
    alike = difflib.SequenceMatcher(None, "".join(given[i1:i2]), "".join(heard_keys[j1:j2]))
    loss = 1 - probability * alike.ratio()
    for index, (start, end) in zip(
        range(i1, i2), _share(heard[j1].start, heard[j2 - 1].end, given[i1:i2]), strict=True
    ):
        times[index] = (start, end, loss)


def _place_missed(
    given: list[str], times: list[tuple[float, float, float] | None], duration: float
) -> None:
    """Words Whisper did not hear go between their neighbours' times, by length, loss 1."""
    index = 0
    while index < len(times):
        if times[index] is not None:
            index += 1
            continue
        stop = index
        while stop < len(times) and times[stop] is None:
            stop += 1
        before = times[index - 1]
        after = times[stop] if stop < len(times) else None
        start = before[1] if before is not None else 0.0
        end = after[0] if after is not None else duration
        for position, (begin, finish) in zip(
            range(index, stop), _share(start, max(start, end), given[index:stop]), strict=True
        ):
            times[position] = (begin, finish, 1.0)
        index = stop


def _share(start: float, end: float, keys: list[str]) -> list[tuple[float, float]]:
    """Split ``start``–``end`` into consecutive pieces proportional to the words' lengths."""
    weights = [max(1, len(key)) for key in keys]
    total = sum(weights)
    pieces, position = [], start
    for weight in weights:
        step = (end - start) * weight / total
        pieces.append((position, position + step))
        position += step
    return pieces


def _characters(
    text: str, tokens: list[tuple[int, int]], words: list[TimedSpan], duration: float
) -> list[TimedSpan]:
    """Every character of ``text``: spread evenly in its word; between words, the gap."""
    characters: list[TimedSpan] = []
    cursor, previous_end = 0, 0.0
    for (start, end), word in zip(tokens, words, strict=True):
        characters.extend(TimedSpan(c, previous_end, word.start) for c in text[cursor:start])
        step = (word.end - word.start) / (end - start)
        characters.extend(
            TimedSpan(c, round(word.start + k * step, 3), round(word.start + (k + 1) * step, 3))
            for k, c in enumerate(text[start:end])
        )
        cursor, previous_end = end, word.end
    tail = min(previous_end, duration)
    characters.extend(TimedSpan(c, tail, tail) for c in text[cursor:])
    return characters

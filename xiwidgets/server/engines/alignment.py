"""Per-character times from word times: the part of alignment every engine shares.

Engines find when each *word* starts and ends (Piper from its phoneme durations, espeak from
its word events). Characters inside a word get equal shares of the word's time; characters
between words (spaces, punctuation, blanked emoji) span the gap from one word's end to the
next word's start.
"""

from __future__ import annotations

from dataclasses import dataclass

_BOUNDARY_PHONEMES = frozenset({"^", "$", "_", " "})
# A spoken word: letters/digits, with inner apostrophes, dots or hyphens ("don't", "3.14").
WORD_PATTERN = r"\w+(?:['’.\-]\w+)*"


@dataclass
class CharTimes:
    """Start and end seconds of each character of a clause."""

    starts: list[float]
    ends: list[float]

    def scaled(self, factor: float) -> CharTimes:
        """Return the times multiplied by ``factor`` (audio stretched in time)."""
        return CharTimes([t * factor for t in self.starts], [t * factor for t in self.ends])


def is_sound(phoneme: str) -> bool:
    """Return True for a phoneme that is pronounced (not padding, space or punctuation)."""
    return phoneme not in _BOUNDARY_PHONEMES and all(c.isalpha() for c in phoneme)


def phoneme_words(phonemes: list[tuple[str, int, int]]) -> list[tuple[int, int]]:
    """Group ``(phoneme, start, end)`` spans into words: runs of pronounced phonemes."""
    words: list[tuple[int, int]] = []
    current: list[int] | None = None
    for phoneme, start, end in phonemes:
        if is_sound(phoneme):
            if current is None:
                current = [start, end]
            else:
                current[1] = end
        elif current is not None:
            words.append((current[0], current[1]))
            current = None
    if current is not None:
        words.append((current[0], current[1]))
    return words


def times_for_words(
    n_chars: int,
    word_spans: list[tuple[int, int]],
    word_times: list[tuple[float, float]],
    duration: float,
) -> CharTimes:
    """Spread word times over the characters of a clause.

    Parameters
    ----------
    n_chars : int
        Length of the clause text.
    word_spans : list of (int, int)
        Character span of each word, in order.
    word_times : list of (float, float)
        Start and end second of each word, same order and length as ``word_spans``.
    duration : float
        Length of the clause audio; characters after the last word end there.

    Returns
    -------
    CharTimes
        Non-decreasing starts, each end ≥ its start, all within ``[0, duration]``.
    """
    starts = [0.0] * n_chars
    ends = [0.0] * n_chars
    previous_end = 0.0
    cursor = 0
    for (first, last), (word_start, word_end) in zip(word_spans, word_times, strict=True):
        word_start = min(max(word_start, previous_end), duration)
        word_end = min(max(word_end, word_start), duration)
        for index in range(cursor, first):
            starts[index], ends[index] = previous_end, word_start
        step = (word_end - word_start) / max(last - first, 1)
        for index in range(first, last):
            starts[index] = word_start + step * (index - first)
            ends[index] = word_start + step * (index - first + 1)
        previous_end = word_end
        cursor = last
    for index in range(cursor, n_chars):
        starts[index], ends[index] = previous_end, duration
    return CharTimes(starts, ends)

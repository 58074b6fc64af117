"""Split request text into clauses for streaming synthesis, keeping offsets into the original.

The first chunk is kept short (up to the first comma or a few words) so its audio is ready
quickly; later chunks are whole sentences, broken at clause punctuation and then at word
boundaries when a sentence is longer than ``max_chars``. Text without any punctuation is
therefore still synthesized in bounded pieces. A break tag (see ``xiwidgets.break_tags``) ends
a clause and gives it its pause.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from xiwidgets.break_tags import BreakIndex, blank_breaks, find_breaks, pause_of

FIRST_CHUNK_MAX_WORDS = 6
MAX_CHUNK_CHARS = 200

_SENTENCE_END = re.compile(r"[.!?…。！？؟।]+[\"'’”»)\]]*$")
_CLAUSE_END = re.compile(r"[,;:،、，；：—–]+[\"'’”»)\]]*$")
# The whitespace after a word ends where the next word starts.
_NON_SPACE = re.compile(r"\S")
# Full stops after these do not end a sentence ("Dr. Smith").
_ABBREVIATIONS = frozenset(
    {"mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "sr.", "jr.", "vs.", "e.g.", "i.e.", "etc.",
     "no.", "fig.", "approx.", "mt.", "inc.", "ltd.", "co."}
)
# Variation selectors are combining marks in Unicode but carry no sound (emoji presentation).
_SILENT_MARKS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef\u20e3]")

_SENTENCE, _CLAUSE, _WORD = 2, 1, 0


@dataclass(frozen=True)
class Clause:
    """A piece of the request text to synthesize as one audio chunk.

    Parameters
    ----------
    start : int
        Offset of ``text`` in the request text.
    text : str
        The original characters (trailing whitespace included).
    speakable : str
        ``text`` with characters no engine can say (emoji, control and zero-width
        characters, lone surrogates, break tags) replaced by spaces: same length, same
        offsets.
    pause_before, pause_after : float
        Seconds of silence the clause's break tags ask for before its first word (only the
        first clause can have tags there) and after its last.
    """

    start: int
    text: str
    speakable: str
    pause_before: float = 0.0
    pause_after: float = 0.0


def is_valid_unicode(text: str) -> bool:
    """Whether ``text`` encodes to UTF-8 (JSON lets a client send lone surrogates like ``\\ud800``).

    Parameters
    ----------
    text : str
        Text as decoded from a request.

    Returns
    -------
    bool
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_speech(text: str) -> bool:
    """Whether ``text`` holds anything an engine would say: at least one letter or digit.

    Emoji, symbols, punctuation, combining marks, whitespace, format characters and break
    tags alone are silent; a request made only of them has nothing to synthesize (and nothing
    to bill).

    Parameters
    ----------
    text : str
        Any Unicode text.

    Returns
    -------
    bool
    """
    said = blank_breaks(text, find_breaks(text))
    return any(unicodedata.category(char)[0] in "LN" for char in said)


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be spoken, as one sentence with the fix, or ``None`` when it can.

    Parameters
    ----------
    text : str
        The request text.

    Returns
    -------
    str or None
        The message of a 400 ``invalid_text``.
    """
    if not is_valid_unicode(text):
        return (
            "The text is not valid Unicode (it contains a lone surrogate such as \\ud800); "
            "send UTF-8 text."
        )
    if not text.strip() or not has_speech(text):
        return (
            "The text is empty or has nothing to say (only whitespace, emoji, symbols, "
            "punctuation or break tags); send at least one word to speak."
        )
    return None


def speakable_text(text: str) -> str:
    """Replace unspeakable characters by spaces, one for one, so offsets are preserved.

    Parameters
    ----------
    text : str
        Any Unicode text.

    Returns
    -------
    str
        A string of the same length containing only letters, digits, marks, punctuation,
        mathematical/currency symbols and spaces.
    """
    out = []
    for char in _SILENT_MARKS.sub(" ", text):
        category = unicodedata.category(char)
        if char.isspace() or category[0] in "CZ" or category in ("So", "Sk"):
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def split_clauses(
    text: str,
    *,
    first_max_words: int = FIRST_CHUNK_MAX_WORDS,
    max_chars: int = MAX_CHUNK_CHARS,
) -> list[Clause]:
    """Split ``text`` into clauses that partition it, with a short first clause.

    Parameters
    ----------
    text : str
        The request text.
    first_max_words : int
        The first clause ends at the first punctuation mark or after this many words.
    max_chars : int
        No clause (apart from its trailing whitespace) is longer than this; long sentences
        are broken at clause punctuation, then at word boundaries, and single "words" longer
        than this are cut.

    Returns
    -------
    list of Clause
        Empty when ``text`` contains nothing speakable; otherwise ``"".join(c.text)``
        equals ``text`` and every clause has at least one speakable character. A clause ends
        at each break tag, which belongs to it (or, before the first word, to the first).
    """
    breaks = BreakIndex(find_breaks(text))
    speakable = blank_breaks(speakable_text(text), breaks.tags)
    words = _words(text, speakable, max_chars, breaks)
    if not words:
        return []
    ends = _chunk_end_word_indices(words, first_max_words, max_chars)
    clauses = []
    start = 0
    for index, end_word in enumerate(ends):
        stop = len(text) if index == len(ends) - 1 else words[end_word + 1][0]
        first_word = words[ends[index - 1] + 1 if index else 0][0]
        last_word_end = words[end_word][1]
        clauses.append(Clause(
            start, text[start:stop], speakable[start:stop],
            pause_before=pause_of(breaks.between(start, first_word)),
            pause_after=pause_of(breaks.between(last_word_end, stop)),
        ))
        start = stop
    return clauses


def _words(text: str, speakable: str, max_chars: int,
           breaks: BreakIndex) -> list[tuple[int, int, int]]:
    """Return ``(start, end, boundary strength after the word)`` for each speakable word."""
    matches = list(re.finditer(r"\S+", speakable))
    words = []
    for number, match in enumerate(matches):
        start, end = match.span()
        next_start = matches[number + 1].start() if number + 1 < len(matches) else len(text)
        for piece_start in range(start, end, max_chars):
            piece_end = min(piece_start + max_chars, end)
            strength = _WORD
            if piece_end == end:
                # A break tag before the next word ends the clause, as a full stop does.
                if breaks.between(end, next_start):
                    strength = _SENTENCE
                else:
                    strength = _boundary_strength(text, speakable[start:end], end)
            words.append((piece_start, piece_end, strength))
    return words


def _boundary_strength(text: str, word: str, end: int) -> int:
    next_word = _NON_SPACE.search(text, end)
    gap = text[end : next_word.start() if next_word is not None else len(text)]
    if "\n" in gap or "\u2029" in gap:
        return _SENTENCE
    if _SENTENCE_END.search(word) and word.lower() not in _ABBREVIATIONS:
        return _SENTENCE
    if _CLAUSE_END.search(word):
        return _CLAUSE
    return _WORD


def _chunk_end_word_indices(
    words: list[tuple[int, int, int]], first_max_words: int, max_chars: int
) -> list[int]:
    """Greedy chunking over words; returns the index of the last word of each chunk."""
    ends: list[int] = []
    first = 0
    while first < len(words):
        last_clause_end = None
        end = len(words) - 1
        for index in range(first, len(words)):
            span = words[index][1] - words[first][0]
            if index > first and span > max_chars:
                end = last_clause_end if last_clause_end is not None else index - 1
                break
            strength = words[index][2]
            if strength == _SENTENCE:
                end = index
                break
            if not ends and (strength == _CLAUSE or index - first + 1 >= first_max_words):
                end = index
                break
            if strength == _CLAUSE:
                last_clause_end = index
        ends.append(end)
        first = end + 1
    return ends

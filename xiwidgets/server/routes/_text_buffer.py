"""The stream-input text buffer: bounded, appended to in O(appended), released in pieces.

A session's buffer never holds more than the model's per-request character limit once a
message has been handled: text that makes it pass the limit is released at once, cut at a word
boundary. Every check made per message (its length, whether the buffer now ends a sentence)
looks only at the new text and a few characters before it, so a long session of small messages
costs no more per message than a short one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xiwidgets.break_tags import ends_inside_tag

DEFAULT_SCHEDULE = (120, 160, 250, 290)
# The end of a sentence: one of these, then optional closing quotes/brackets, then whitespace.
SENTENCE_PUNCTUATION = ".!?…。！？؟।"
CLOSERS = "'\"’”»)]"
# Characters kept from before a message for the sentence-end check: a closing quote or bracket
# sent on its own after the full stop still ends the sentence.
OVERLAP = 32


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends a sentence (``"Hello."``, ``'He said "no!" '``).

    Parameters
    ----------
    text : str
        The end of the buffer.

    Returns
    -------
    bool
    """
    core = text.rstrip().rstrip(CLOSERS)
    return bool(core) and core[-1] in SENTENCE_PUNCTUATION


@dataclass
class TextBuffer:
    """Text waiting for synthesis.

    Parameters
    ----------
    limit : int
        Most characters one generation may hold (the model's per-request limit).
    schedule : tuple of int
        ``chunk_length_schedule``: characters to wait for before the first, second, ...
        generation (the last value repeats).
    """

    limit: int
    schedule: tuple[int, ...] = DEFAULT_SCHEDULE
    generations: int = 0
    ends_sentence: bool = False
    _pieces: list[str] = field(default_factory=list)
    _length: int = 0
    _tail: str = ""

    def __len__(self) -> int:
        return self._length

    def threshold(self) -> int:
        """Characters to wait for before the next generation, from the schedule."""
        return self.schedule[min(self.generations, len(self.schedule) - 1)]

    def append(self, text: str) -> None:
        """Add ``text`` (one message) and note whether the buffer now ends a sentence."""
        if not text:
            return
        self._pieces.append(text)
        self._length += len(text)
        window = self._tail + text
        self._tail = window[-OVERLAP:]
        self.ends_sentence = ends_sentence(window) and not ends_inside_tag(window)

    def take(self, everything: bool) -> str:
        """Remove and return the next piece to speak, never more than ``limit`` characters.

        Parameters
        ----------
        everything : bool
            Release the whole buffer when it fits in one piece; otherwise (and always when it
            does not fit) the piece ends at the last space or newline within the limit, or is
            cut at the limit when there is none; never inside a break tag, which the next
            piece then starts with.

        Returns
        -------
        str
            Empty when the buffer is.
        """
        text = "".join(self._pieces)
        if everything and len(text) <= self.limit:
            cut = len(text)
        else:
            head = text[: self.limit]
            cut = max(head.rfind(" "), head.rfind("\n")) + 1 or len(head)
            opening = text.rfind("<", 0, cut)
            if opening > 0 and ends_inside_tag(text[opening:cut]):
                cut = opening
        piece, rest = text[:cut], text[cut:]
        self._pieces = [rest] if rest else []
        self._length = len(rest)
        self._tail = rest[-OVERLAP:]
        self.ends_sentence = ends_sentence(self._tail)
        return piece

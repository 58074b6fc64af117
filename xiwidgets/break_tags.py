"""Pauses written into the text: ElevenLabs' ``<break time="1.5s" />`` tags.

The hosted service reads a break tag as a pause of that length, up to three seconds. The local
server does the same: ``server.text.split_clauses`` blanks a tag's characters and ends the
clause before it, and the synthesizer puts the silence into that clause's audio. The tag's
characters stay in the take's text (the alignment times them over the pause) and are billed as
sent; captions (``client.captions``) leave them out, since a tag is not a word anyone says.

The SSML forms ``time="500ms"`` and a bare ``<break/>`` are read too (other attributes, such as
``strength``, are ignored). Tags next to each other make one pause, still at most
``MAX_PAUSE_SECONDS``: a take's silence stays bounded by its words, whatever the text holds.

A regular expression, not an XML parser: the request text is not XML (``Tom & Jerry < 3``), and
only this one empty tag is read from it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

# The hosted service's limit for one break.
MAX_PAUSE_SECONDS = 3.0
# A tag with no readable time: SSML's default (a "medium" break, about a clause's pause).
DEFAULT_PAUSE_SECONDS = 0.5

# Attributes as markup writes them (name="value"): "<break from work>" is words, not a tag.
_TAG = re.compile(
    r"""<break(?:\s+[a-z][\w-]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>/=]+))*\s*/?>""",
    re.IGNORECASE,
)
_TIME = re.compile(r"""\btime\s*=\s*(["']?)\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*\1""",
                   re.IGNORECASE)
# The start of a tag a streamed text may still be sending: "<", "<bre", '<break time="1.'.
_OPEN_TAG_AT_END = re.compile(r"<(?:b(?:r(?:e(?:a(?:k\b[^<>]*)?)?)?)?)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Break:
    """One break tag: where it is in the text and the pause it asks for.

    Parameters
    ----------
    start, end : int
        ``text[start:end]`` is the tag.
    seconds : float
        The pause, at most ``MAX_PAUSE_SECONDS``.
    """

    start: int
    end: int
    seconds: float


def find_breaks(text: str) -> list[Break]:
    """The break tags of ``text``, in order.

    Parameters
    ----------
    text : str
        Request text.

    Returns
    -------
    list of Break
    """
    return [Break(match.start(), match.end(), _seconds(match.group())) for match in
            _TAG.finditer(text)]


class BreakIndex:
    """A text's break tags, found by position in logarithmic time: a long text may hold
    thousands, and a request's cost must not grow with their square.

    Parameters
    ----------
    tags : list of Break
        From :func:`find_breaks` (in order, not overlapping).
    """

    def __init__(self, tags: list[Break]) -> None:
        self.tags = tags
        self._starts = [tag.start for tag in tags]

    def between(self, start: int, stop: int) -> list[Break]:
        """The tags that begin in ``[start, stop)``."""
        first = bisect.bisect_left(self._starts, start)
        return self.tags[first:bisect.bisect_left(self._starts, stop, lo=first)]

    def overlaps(self, start: int, stop: int) -> bool:
        """Whether ``text[start:stop]`` shares a character with a tag."""
        before_stop = bisect.bisect_left(self._starts, stop) - 1
        return before_stop >= 0 and self.tags[before_stop].end > start


def blank_breaks(text: str, breaks: Iterable[Break]) -> str:
    """``text`` with each tag's characters replaced by spaces (same length, same offsets).

    Parameters
    ----------
    text : str
        The text the breaks were found in (or a string of the same length aligned with it).
    breaks : iterable of Break
        From :func:`find_breaks`.

    Returns
    -------
    str
    """
    pieces = []
    position = 0
    for tag in breaks:
        pieces += [text[position:tag.start], " " * (tag.end - tag.start)]
        position = tag.end
    pieces.append(text[position:])
    return "".join(pieces)


def pause_of(breaks: Iterable[Break]) -> float:
    """The pause that tags next to each other make: their sum, at most ``MAX_PAUSE_SECONDS``.

    Parameters
    ----------
    breaks : iterable of Break
        The tags of one gap between words.

    Returns
    -------
    float
        Seconds (0 for no tag).
    """
    return min(MAX_PAUSE_SECONDS, float(sum(tag.seconds for tag in breaks)))


def ends_inside_tag(text: str) -> bool:
    """Whether ``text`` ends in a break tag not yet closed (a streamed text's next message may
    finish it): ``"Wait <break time=\\"1."`` does, ``"Wait <break/>"`` and ``"a < b"`` do not.

    Parameters
    ----------
    text : str
        The end of the text received so far.

    Returns
    -------
    bool
    """
    return _OPEN_TAG_AT_END.search(text) is not None


def _seconds(tag: str) -> float:
    match = _TIME.search(tag)
    if match is None:
        return DEFAULT_PAUSE_SECONDS
    value = float(match.group(2))
    if (match.group(3) or "s").lower() == "ms":
        value /= 1000
    return min(MAX_PAUSE_SECONDS, value)

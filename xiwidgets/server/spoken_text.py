"""Text as it is spoken, and the way back to the text as it was sent.

Normalization (and any other rewrite before synthesis) replaces spans of the request text:
``"$42.50"`` is spoken ``"forty-two dollars and fifty cents"``. :class:`SpokenText` keeps both
strings and the spans, so the engine's character times, which follow the spoken text (the
API's ``normalized_alignment``), can be carried back onto the characters that were sent (its
``alignment``): characters outside a replaced span keep their own times, and the characters of
a replaced span share the time of what was said for it, evenly.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Replacement:
    """``source[source_start:source_end]`` is spoken as ``spoken[spoken_start:spoken_end]``."""

    source_start: int
    source_end: int
    spoken_start: int
    spoken_end: int


@dataclass(frozen=True)
class SpokenText:
    """The request text, the text the engine speaks, and the replaced spans between them.

    Parameters
    ----------
    source : str
        The text as sent.
    spoken : str
        The text as spoken; outside the replacements it is ``source`` character for character.
    replacements : tuple of Replacement
        In order, not overlapping.
    """

    source: str
    spoken: str
    replacements: tuple[Replacement, ...] = ()
    _spoken_starts: list[int] = field(init=False, repr=False, compare=False)
    _source_starts: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_spoken_starts", [r.spoken_start for r in self.replacements])
        object.__setattr__(self, "_source_starts", [r.source_start for r in self.replacements])

    @classmethod
    def unchanged(cls, text: str) -> SpokenText:
        """``text`` spoken as it is."""
        return cls(text, text)

    @classmethod
    def from_pieces(cls, source: str, pieces: Sequence[tuple[int, int, str]]) -> SpokenText:
        """Build from ``(start, end, said)``: ``source[start:end]`` is said as ``said``.

        Parameters
        ----------
        source : str
            The text as sent.
        pieces : sequence of (int, int, str)
            In order and not overlapping.
        """
        spoken: list[str] = []
        replacements: list[Replacement] = []
        cursor = length = 0
        for start, end, said in pieces:
            spoken.append(source[cursor:start])
            length += start - cursor
            replacements.append(Replacement(start, end, length, length + len(said)))
            spoken.append(said)
            length += len(said)
            cursor = end
        spoken.append(source[cursor:])
        return cls(source, "".join(spoken), tuple(replacements))

    def _around(self, spoken_offset: int) -> Replacement | None:
        """The last replacement starting at or before ``spoken_offset``."""
        index = bisect.bisect_right(self._spoken_starts, spoken_offset) - 1
        return self.replacements[index] if index >= 0 else None

    def source_offset(self, spoken_offset: int) -> int:
        """Where a boundary of the spoken text falls in the source text.

        A boundary inside a replaced span maps to the span's end: the whole span belongs to the
        piece of spoken text where it starts.
        """
        before = self._around(spoken_offset)
        if before is None:
            return spoken_offset
        if spoken_offset == before.spoken_start:
            return before.source_start
        if spoken_offset < before.spoken_end:
            return before.source_end
        return before.source_end + spoken_offset - before.spoken_end

    def source_times(
        self, spoken_start: int, starts: Sequence[float], ends: Sequence[float]
    ) -> tuple[str, list[float], list[float]]:
        """The source characters and times of a piece of spoken text with character times.

        Parameters
        ----------
        spoken_start : int
            Offset of the piece in :attr:`spoken`.
        starts, ends : sequence of float
            One time per character of the piece.

        Returns
        -------
        (str, list of float, list of float)
            ``source[a:b]`` for the piece's source boundaries ``a``, ``b`` (see
            :meth:`source_offset`) and a start and end time for each of its characters.
        """
        spoken_end = spoken_start + len(starts)
        first, last = self.source_offset(spoken_start), self.source_offset(spoken_end)
        out_starts: list[float] = []
        out_ends: list[float] = []
        position = first
        index = bisect.bisect_left(self._source_starts, first)
        while position < last:
            replaced = self.replacements[index] if index < len(self.replacements) else None
            if replaced is None or position < replaced.source_start:
                stop = min(last, replaced.source_start if replaced is not None else last)
                offset = self._spoken_of(position) - spoken_start
                out_starts.extend(starts[offset : offset + stop - position])
                out_ends.extend(ends[offset : offset + stop - position])
                position = stop
                continue
            low = max(replaced.spoken_start, spoken_start) - spoken_start
            high = min(replaced.spoken_end, spoken_end) - spoken_start
            # A span said as nothing takes the instant where it would have been said.
            instant = starts[low] if low < len(starts) else (ends[-1] if ends else 0.0)
            begin = min(starts[low:high], default=instant)
            finish = max(ends[low:high], default=begin)
            count = replaced.source_end - replaced.source_start
            step = (finish - begin) / count if count else 0.0
            out_starts.extend(round(begin + k * step, 3) for k in range(count))
            out_ends.extend(round(begin + (k + 1) * step, 3) for k in range(count))
            position = replaced.source_end
            index += 1
        return self.source[first:last], out_starts, out_ends

    def _spoken_of(self, source_offset: int) -> int:
        """The spoken offset of a source character outside every replaced span."""
        index = bisect.bisect_right(self._source_starts, source_offset)
        if index == 0:
            return source_offset
        before = self.replacements[index - 1]
        return before.spoken_end + source_offset - before.source_end

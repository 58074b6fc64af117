"""Pronunciation rules applied to a clause: what the engine is given, and how to map it back.

A rule matches ``string_to_replace`` (as a whole word unless ``word_boundaries`` is false; with
its case unless ``case_sensitive`` is false). An alias rule has the engine say the alias
instead; a phoneme rule leaves the word in the text and has the engine say its phonemes (the
text keeps the word so the engine's word count, and so its alignment, stay those of the text).
Where rules overlap, the match that starts first wins, then the rule that comes first (the
first dictionary's before the second's).

The engine's character times refer to the text it was given; :meth:`Rendering.times_as_sent`
brings them back to the characters as sent, so the alignment a client gets is of its own text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from xiwidgets.server.engines.base import PhonemeWord
from xiwidgets.server.phonemes import to_ipa
from xiwidgets.server.text import speakable_text, split_clauses

RuleType = Literal["alias", "phoneme"]


@dataclass(frozen=True)
class PronunciationRule:
    """One rule of a pronunciation dictionary (the API's alias or phoneme rule).

    Parameters
    ----------
    string_to_replace : str
        What the rule matches (not empty).
    type : {"alias", "phoneme"}
    alias : str or None
        Alias rules: what is said instead.
    phoneme, alphabet : str or None
        Phoneme rules: the pronunciation and its notation (``ipa`` or ``cmu-arpabet``).
    case_sensitive : bool
        Match the string's case exactly (the hosted default).
    word_boundaries : bool
        Match whole words only (the hosted default).
    """

    string_to_replace: str
    type: RuleType
    alias: str | None = None
    phoneme: str | None = None
    alphabet: str | None = None
    case_sensitive: bool = True
    word_boundaries: bool = True

    def ipa(self) -> str:
        """The phoneme rule's pronunciation in IPA (see ``phonemes.to_ipa``)."""
        return to_ipa(self.phoneme or "", self.alphabet or "")

    def as_json(self) -> dict[str, Any]:
        """The rule as the API shows it (and as it is stored)."""
        shown: dict[str, Any] = {"string_to_replace": self.string_to_replace, "type": self.type}
        if self.type == "alias":
            shown["alias"] = self.alias
        else:
            shown["phoneme"] = self.phoneme
            shown["alphabet"] = self.alphabet
        shown["case_sensitive"] = self.case_sensitive
        shown["word_boundaries"] = self.word_boundaries
        return shown

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PronunciationRule:
        """A rule from :meth:`as_json`'s shape (stored rules, already validated)."""
        return cls(
            string_to_replace=data["string_to_replace"],
            type=data["type"],
            alias=data.get("alias"),
            phoneme=data.get("phoneme"),
            alphabet=data.get("alphabet"),
            case_sensitive=data.get("case_sensitive", True),
            word_boundaries=data.get("word_boundaries", True),
        )


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    rule: PronunciationRule


@dataclass
class Rendering:
    """A clause as the engine says it.

    Attributes
    ----------
    text : str
        What the engine is given (aliases in place of their words).
    phonemes : list of PhonemeWord
        Words of ``text`` the engine says with these phonemes.
    sent_length : int
        Characters of the clause as sent.
    """

    text: str
    phonemes: list[PhonemeWord]
    sent_length: int
    # (sent start, sent end, spoken start, spoken end) of each alias, in order.
    _aliases: list[tuple[int, int, int, int]] = field(default_factory=list)

    def times_as_sent(
        self, starts: Sequence[float], ends: Sequence[float]
    ) -> tuple[list[float], list[float]]:
        """Character times of the clause as sent, from the engine's times of :attr:`text`.

        A word said as an alias spans the whole alias: each of its characters starts where the
        alias starts and ends where it ends.
        """
        sent_starts: list[float] = []
        sent_ends: list[float] = []
        sent = spoken = 0

        def copy_until(sent_stop: int) -> None:
            nonlocal sent, spoken
            count = sent_stop - sent
            sent_starts.extend(starts[spoken : spoken + count])
            sent_ends.extend(ends[spoken : spoken + count])
            sent, spoken = sent_stop, spoken + count

        for sent_start, sent_end, spoken_start, spoken_end in self._aliases:
            copy_until(sent_start)
            if spoken_end > spoken_start:
                start = min(starts[spoken_start:spoken_end])
                end = max(ends[spoken_start:spoken_end])
            else:  # an empty alias: the word takes no time, where the text before it ends
                start = end = sent_ends[-1] if sent_ends else 0.0
            sent_starts.extend([start] * (sent_end - sent_start))
            sent_ends.extend([end] * (sent_end - sent_start))
            sent, spoken = sent_end, spoken_end
        copy_until(self.sent_length)
        return sent_starts, sent_ends


class Lexicon:
    """The rules of up to three dictionary versions, in the order a request named them.

    Parameters
    ----------
    rules : iterable of PronunciationRule
        Earlier rules win where two match at the same place.
    """

    def __init__(self, rules: Iterable[PronunciationRule]) -> None:
        self.rules = list(rules)
        self._ipa = {id(rule): rule.ipa() for rule in self.rules if rule.type == "phoneme"}
        self._patterns = _compile(self.rules)

    def __reduce__(self) -> tuple[type[Lexicon], tuple[list[PronunciationRule]]]:
        # Sent to a synthesis worker as its rules and compiled there: the tables built here
        # are keyed by the identity of this process's rule objects.
        return (Lexicon, (self.rules,))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def render(self, clause: str) -> Rendering:
        """What the engine says for ``clause`` (speakable text of one clause).

        Parameters
        ----------
        clause : str
            The clause as sent, unspeakable characters blanked.

        Returns
        -------
        Rendering
        """
        pieces: list[str] = []
        phonemes: list[PhonemeWord] = []
        aliases: list[tuple[int, int, int, int]] = []
        position = spoken = 0
        for match in self._matches(clause):
            pieces.append(clause[position : match.start])
            spoken += match.start - position
            if match.rule.type == "alias":
                said = speakable_text(match.rule.alias or "")
                aliases.append((match.start, match.end, spoken, spoken + len(said)))
            else:
                said = clause[match.start : match.end]
                phonemes.append(PhonemeWord(spoken, spoken + len(said), self._ipa[id(match.rule)]))
            pieces.append(said)
            spoken += len(said)
            position = match.end
        pieces.append(clause[position:])
        return Rendering("".join(pieces), phonemes, len(clause), aliases)

    def said_lengths(self, text: str) -> tuple[int, int]:
        """Characters the engines would be given for ``text``: in all, and in its longest clause.

        Aliases can make the text an engine says much longer than the text sent (and billed);
        a take checks these against its limits before anything is reserved.
        """
        lengths = [len(self.render(clause.speakable).text) for clause in split_clauses(text)]
        return sum(lengths), max(lengths, default=0)

    def _matches(self, clause: str) -> list[_Match]:
        """Non-overlapping matches, earliest first (then the earlier rule)."""
        found: list[tuple[int, int, int]] = []  # (start, rule index, end)
        for pattern, rules_by_key, folded in self._patterns:
            for hit in pattern.finditer(clause):
                key = hit.group().casefold() if folded else hit.group()
                index = rules_by_key.get(key)
                if index is not None:  # a case-insensitive match whose casefold differs
                    found.append((hit.start(), index, hit.end()))
        found.sort()
        chosen: list[_Match] = []
        end = 0
        for start, index, stop in found:
            if start >= end:
                chosen.append(_Match(start, stop, self.rules[index]))
                end = stop
        return chosen


def _compile(
    rules: list[PronunciationRule],
) -> list[tuple[re.Pattern[str], dict[str, int], bool]]:
    """One alternation per (case, boundaries) kind: a few regexes, however many rules."""
    kinds: dict[tuple[bool, bool], dict[str, int]] = {}
    for index, rule in enumerate(rules):
        folded = not rule.case_sensitive
        key = rule.string_to_replace.casefold() if folded else rule.string_to_replace
        kinds.setdefault((folded, rule.word_boundaries), {}).setdefault(key, index)
    patterns = []
    for (folded, whole_words), by_key in kinds.items():
        # Longest first, so "New York City" wins over "New York" at the same place.
        alternatives = "|".join(map(re.escape, sorted(by_key, key=len, reverse=True)))
        body = rf"(?<!\w)(?:{alternatives})(?!\w)" if whole_words else f"(?:{alternatives})"
        flags = re.IGNORECASE if folded else 0
        patterns.append((re.compile(body, flags), by_key, folded))
    return patterns

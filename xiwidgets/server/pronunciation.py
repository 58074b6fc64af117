"""Pronunciation dictionaries: their rules, their versions, and the lexicon of a request.

Every change of a dictionary's rules (adding, removing) makes a new version with a new id; the
old versions stay, so a locator that names a version keeps meaning the same rules. Renaming and
archiving change no rules and make no version. Requests name up to three dictionaries
(``pronunciation_dictionary_locators``), each at a version or at its latest; their rules form
the request's :class:`~xiwidgets.server.lexicon.Lexicon`, checked before any character is
reserved.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from xiwidgets.server.domain_errors import (
    InvalidPronunciationRulesError,
    PronunciationDictionaryNotFoundError,
)
from xiwidgets.server.lexicon import Lexicon, PronunciationRule
from xiwidgets.server.phonemes import PhonemeNotationError
from xiwidgets.server.store import Store

# The hosted API documents no limits; these keep one dictionary's rules (stored as one JSON
# text per version, and compiled into a few regexes per request) small.
MAX_RULES = 10_000
MAX_RULE_CHARACTERS = 500
MAX_LOCATORS = 3
# Compiled lexicons kept (the oldest made is dropped first).
LEXICONS_KEPT = 16


class PronunciationDictionaries:
    """The store's pronunciation dictionaries, with the rules checked on the way in.

    Parameters
    ----------
    store : Store
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lexicons: dict[tuple[tuple[str, str], ...], Lexicon] = {}
        self._lock = threading.Lock()

    def create(
        self, name: str, description: str | None, rules: Sequence[PronunciationRule]
    ) -> dict[str, Any]:
        """A new dictionary with its first version; its row (see ``Store``).

        Raises
        ------
        InvalidPronunciationRulesError
            For a rule that cannot be used (see ``check_rules``) or too many rules.
        """
        checked = check_rules(rules)
        return self._store.add_pronunciation_dictionary(name, description, checked)

    def get(self, dictionary_id: str) -> dict[str, Any]:
        """The dictionary's row and ``rules`` (its latest version's, as the API shows them).

        Raises
        ------
        PronunciationDictionaryNotFoundError
        """
        row = self._store.pronunciation_dictionary(dictionary_id)
        rules = self._store.pronunciation_rules(dictionary_id)
        if row is None or rules is None:
            raise PronunciationDictionaryNotFoundError(dictionary_id)
        return {**row, "rules": rules}

    def add_rules(self, dictionary_id: str, rules: Sequence[PronunciationRule]) -> dict[str, Any]:
        """A new version with ``rules`` added; a rule for a string already there replaces it.

        Raises
        ------
        PronunciationDictionaryNotFoundError, InvalidPronunciationRulesError
        """
        added = check_rules(rules)
        replaced = {rule["string_to_replace"] for rule in added}

        def change(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
            kept = [rule for rule in current if rule["string_to_replace"] not in replaced]
            return _within_limit([*kept, *added])

        return self._changed(dictionary_id, change)

    def remove_rules(self, dictionary_id: str, rule_strings: Iterable[str]) -> dict[str, Any]:
        """A new version without the rules for ``rule_strings`` (strings it lacks are ignored).

        Raises
        ------
        PronunciationDictionaryNotFoundError
        """
        removed = set(rule_strings)

        def change(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [rule for rule in current if rule["string_to_replace"] not in removed]

        return self._changed(dictionary_id, change)

    def _changed(self, dictionary_id: str, change: Any) -> dict[str, Any]:
        row = self._store.change_pronunciation_rules(dictionary_id, change)
        if row is None:
            raise PronunciationDictionaryNotFoundError(dictionary_id)
        return row

    def update(self, dictionary_id: str, name: str | None, archived: bool | None) -> dict[str, Any]:
        """Rename and/or (un)archive, keeping the version.

        Raises
        ------
        PronunciationDictionaryNotFoundError
        """
        row = self._store.update_pronunciation_dictionary(dictionary_id, name, archived)
        if row is None:
            raise PronunciationDictionaryNotFoundError(dictionary_id)
        return row

    def page(
        self, by_name: bool, descending: bool, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of the dictionaries not archived, and whether more follow."""
        rows = self._store.list_pronunciation_dictionaries(by_name, descending, offset, limit + 1)
        return rows[:limit], len(rows) > limit

    def rules(self, dictionary_id: str, version_id: str | None = None) -> list[PronunciationRule]:
        """The rules of one version (the latest when ``version_id`` is ``None``).

        Raises
        ------
        PronunciationDictionaryNotFoundError
            For an unknown dictionary, or a version it does not have.
        """
        stored = self._store.pronunciation_rules(dictionary_id, version_id)
        if stored is None:
            if self._store.pronunciation_dictionary(dictionary_id) is None:
                raise PronunciationDictionaryNotFoundError(dictionary_id)
            raise PronunciationDictionaryNotFoundError(dictionary_id, version_id)
        return [PronunciationRule.from_json(rule) for rule in stored]

    def lexicon(self, locators: Sequence[tuple[str, str | None]] | None) -> Lexicon | None:
        """The rules of a request's locators, first dictionary first (``None`` without any).

        Raises
        ------
        PronunciationDictionaryNotFoundError
            For a locator naming an unknown dictionary or version.
        InvalidPronunciationRulesError
            For more than three locators.
        """
        if not locators:
            return None
        if len(locators) > MAX_LOCATORS:
            raise InvalidPronunciationRulesError(
                f"{len(locators)} pronunciation dictionaries were named; a request may use at "
                f"most {MAX_LOCATORS}."
            )
        versions = tuple(
            (dictionary_id, version_id or self._latest_version(dictionary_id))
            for dictionary_id, version_id in locators
        )
        return self._lexicon_of_versions(versions)

    def _latest_version(self, dictionary_id: str) -> str:
        row = self._store.pronunciation_dictionary(dictionary_id)
        if row is None:
            raise PronunciationDictionaryNotFoundError(dictionary_id)
        version_id: str = row["latest_version_id"]
        return version_id

    def _lexicon_of_versions(self, versions: tuple[tuple[str, str], ...]) -> Lexicon:
        # A version never changes, so its compiled rules (the costly part, ~1 s for the most
        # rules three dictionaries hold) are kept for the next request that names it.
        lexicon = self._lexicons.get(versions)
        if lexicon is None:
            lexicon = Lexicon(
                rule for dictionary_id, version_id in versions
                for rule in self.rules(dictionary_id, version_id)
            )
            with self._lock:
                self._lexicons[versions] = lexicon
                while len(self._lexicons) > LEXICONS_KEPT:
                    self._lexicons.pop(next(iter(self._lexicons)))
        return lexicon


def check_rules(rules: Sequence[PronunciationRule]) -> list[dict[str, Any]]:
    """The rules as stored, once each is known to be usable.

    Raises
    ------
    InvalidPronunciationRulesError
        For an empty ``string_to_replace``, a string over the length limit, a phoneme that
        cannot be read in its alphabet, or more than ``MAX_RULES`` rules.
    """
    for number, rule in enumerate(rules, start=1):
        said = rule.alias if rule.type == "alias" else rule.phoneme
        if not rule.string_to_replace.strip():
            raise InvalidPronunciationRulesError(f"Rule {number} has an empty string_to_replace.")
        if max(len(rule.string_to_replace), len(said or "")) > MAX_RULE_CHARACTERS:
            raise InvalidPronunciationRulesError(
                f"Rule {number} ({rule.string_to_replace[:40]!r}) is longer than "
                f"{MAX_RULE_CHARACTERS} characters."
            )
        if rule.type == "phoneme":
            try:
                rule.ipa()
            except PhonemeNotationError as exc:
                raise InvalidPronunciationRulesError(
                    f"Rule {number} ({rule.string_to_replace!r}): {exc}"
                ) from None
    return _within_limit([rule.as_json() for rule in rules])


def _within_limit(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(rules) > MAX_RULES:
        raise InvalidPronunciationRulesError(
            f"A dictionary may hold at most {MAX_RULES:,} rules; this one would have "
            f"{len(rules):,}. Split it into several dictionaries."
        )
    return rules

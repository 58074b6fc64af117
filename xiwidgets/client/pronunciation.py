"""``client.pronunciation``: pronunciation dictionaries (the official SDK's
``pronunciation_dictionaries`` names: ``create_from_rules``, ``create_from_file``, ``get``,
``update``, ``list``, ``download``, ``rules.add``, ``rules.remove``).

Every change of rules makes a new version; a take names the versions it is said with through
``pronunciation_dictionary_locators=[dictionary.locator()]`` (any text-to-speech method).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from xiwidgets.client.transport import Transport

BASE = "/v1/pronunciation-dictionaries"


def _path(*ids: str) -> str:
    return "/".join([BASE, *(quote(value, safe="") for value in ids)])


@dataclass(frozen=True)
class PronunciationRule:
    """One rule: say ``alias`` instead of ``string_to_replace``, or say it as ``phoneme``.

    Parameters
    ----------
    string_to_replace : str
        The word (or words) the rule matches.
    type : {"alias", "phoneme"}
    alias : str, optional
        Alias rules: what is said instead.
    phoneme : str, optional
        Phoneme rules: the pronunciation, in ``alphabet``.
    alphabet : {"ipa", "cmu-arpabet"}, optional
    case_sensitive : bool
        Match the case exactly (the API's default).
    word_boundaries : bool
        Match whole words only (the API's default).
    """

    string_to_replace: str
    type: Literal["alias", "phoneme"] = "alias"
    alias: str | None = None
    phoneme: str | None = None
    alphabet: str | None = None
    case_sensitive: bool = True
    word_boundaries: bool = True

    @classmethod
    def said_as(cls, word: str, alias: str, case_sensitive: bool = True,
                word_boundaries: bool = True) -> PronunciationRule:
        """An alias rule: ``word`` is said as ``alias``."""
        return cls(word, "alias", alias=alias, case_sensitive=case_sensitive,
                   word_boundaries=word_boundaries)

    @classmethod
    def phonemes(cls, word: str, phoneme: str, alphabet: str = "ipa",
                 case_sensitive: bool = True, word_boundaries: bool = True) -> PronunciationRule:
        """A phoneme rule: ``word`` is said as ``phoneme`` (IPA, or ``cmu-arpabet``)."""
        return cls(word, "phoneme", phoneme=phoneme, alphabet=alphabet,
                   case_sensitive=case_sensitive, word_boundaries=word_boundaries)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PronunciationRule:
        """A rule from the API's JSON."""
        return cls(
            string_to_replace=str(data.get("string_to_replace", "")),
            type="phoneme" if data.get("type") == "phoneme" else "alias",
            alias=data.get("alias"),
            phoneme=data.get("phoneme"),
            alphabet=data.get("alphabet"),
            case_sensitive=bool(data.get("case_sensitive", True)),
            word_boundaries=bool(data.get("word_boundaries", True)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON of the rule."""
        body: dict[str, Any] = {"string_to_replace": self.string_to_replace, "type": self.type,
                                "case_sensitive": self.case_sensitive,
                                "word_boundaries": self.word_boundaries}
        if self.type == "alias":
            body["alias"] = self.alias or ""
        else:
            body["phoneme"] = self.phoneme or ""
            body["alphabet"] = self.alphabet or "ipa"
        return body


def _rule_dict(rule: PronunciationRule | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(rule, PronunciationRule):
        return rule.to_dict()
    if isinstance(rule, Mapping):
        return dict(rule)
    raise TypeError(f"a rule is a PronunciationRule or a mapping, not {type(rule).__name__}")


@dataclass(frozen=True)
class PronunciationDictionary:
    """A dictionary and its latest version (``rules`` only when read with ``get``)."""

    id: str
    name: str
    latest_version_id: str
    latest_version_rules_num: int = 0
    description: str | None = None
    created_by: str | None = None
    creation_time_unix: int | None = None
    archived_time_unix: int | None = None
    rules: tuple[PronunciationRule, ...] = field(default=())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PronunciationDictionary:
        """Parse the metadata (or the create answer, whose version fields are named apart)."""
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name", "")),
            latest_version_id=str(data.get("latest_version_id") or data.get("version_id") or ""),
            latest_version_rules_num=int(data.get("latest_version_rules_num")
                                         or data.get("version_rules_num") or 0),
            description=data.get("description"),
            created_by=data.get("created_by"),
            creation_time_unix=data.get("creation_time_unix"),
            archived_time_unix=data.get("archived_time_unix"),
            rules=tuple(PronunciationRule.from_dict(r) for r in data.get("rules") or ()),
        )

    def locator(self) -> dict[str, str]:
        """``{pronunciation_dictionary_id, version_id}`` of this version, for a take."""
        return {"pronunciation_dictionary_id": self.id, "version_id": self.latest_version_id}


@dataclass(frozen=True)
class PronunciationDictionaryVersion:
    """A version made by adding or removing rules."""

    id: str
    version_id: str
    version_rules_num: int

    def locator(self) -> dict[str, str]:
        """``{pronunciation_dictionary_id, version_id}`` of this version, for a take."""
        return {"pronunciation_dictionary_id": self.id, "version_id": self.version_id}


@dataclass(frozen=True)
class PronunciationDictionaryPage:
    """One page of ``list``."""

    pronunciation_dictionaries: tuple[PronunciationDictionary, ...]
    has_more: bool
    next_cursor: str | None = None


class Rules:
    """``client.pronunciation.rules``: add and remove rules (each call makes a version)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def add(self, pronunciation_dictionary_id: str,
            rules: Iterable[PronunciationRule | Mapping[str, Any]],
            ) -> PronunciationDictionaryVersion:
        """Add rules (one for a string already there replaces it); the new version."""
        answer = self._transport.json(
            "POST", _path(pronunciation_dictionary_id) + "/add-rules",
            json={"rules": [_rule_dict(rule) for rule in rules]})
        return PronunciationDictionaryVersion(answer["id"], answer["version_id"],
                                              int(answer["version_rules_num"]))

    def remove(self, pronunciation_dictionary_id: str,
               rule_strings: Sequence[str]) -> PronunciationDictionaryVersion:
        """Remove the rules for these strings; the new version."""
        answer = self._transport.json(
            "POST", _path(pronunciation_dictionary_id) + "/remove-rules",
            json={"rule_strings": list(rule_strings)})
        return PronunciationDictionaryVersion(answer["id"], answer["version_id"],
                                              int(answer["version_rules_num"]))


class Pronunciation:
    """``client.pronunciation``: pronunciation dictionaries."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self.rules = Rules(transport)

    def create_from_rules(self, rules: Iterable[PronunciationRule | Mapping[str, Any]],
                          name: str, description: str | None = None,
                          workspace_access: str | None = None) -> PronunciationDictionary:
        """A new dictionary of ``rules`` (``POST .../add-from-rules``)."""
        body: dict[str, Any] = {"rules": [_rule_dict(rule) for rule in rules], "name": name}
        if description is not None:
            body["description"] = description
        if workspace_access is not None:
            body["workspace_access"] = workspace_access
        return PronunciationDictionary.from_dict(
            self._transport.json("POST", f"{BASE}/add-from-rules", json=body))

    def create_from_file(self, name: str, file: str | Path | bytes | None = None,
                         description: str | None = None,
                         workspace_access: str | None = None) -> PronunciationDictionary:
        """A new dictionary from a PLS lexicon file (a path or its bytes)."""
        data = {"name": name, "description": description, "workspace_access": workspace_access}
        files = None
        if file is not None:
            content = file if isinstance(file, bytes) else Path(file).read_bytes()
            file_name = "lexicon.pls" if isinstance(file, bytes) else Path(file).name
            files = {"file": (file_name, content, "application/pls+xml")}
        return PronunciationDictionary.from_dict(self._transport.json(
            "POST", f"{BASE}/add-from-file",
            data={k: v for k, v in data.items() if v is not None}, files=files))

    def get(self, pronunciation_dictionary_id: str) -> PronunciationDictionary:
        """A dictionary with the rules of its latest version."""
        return PronunciationDictionary.from_dict(
            self._transport.json("GET", _path(pronunciation_dictionary_id)))

    def update(self, pronunciation_dictionary_id: str, name: str | None = None,
               archived: bool | None = None) -> PronunciationDictionary:
        """Rename and/or (un)archive; makes no new version."""
        body = {k: v for k, v in {"name": name, "archived": archived}.items() if v is not None}
        return PronunciationDictionary.from_dict(
            self._transport.json("PATCH", _path(pronunciation_dictionary_id), json=body))

    def list(self, cursor: str | None = None, page_size: int = 30, sort: str | None = None,
             sort_direction: str | None = None) -> PronunciationDictionaryPage:
        """One page of the dictionaries (``next_cursor`` for the next)."""
        params = {"cursor": cursor, "page_size": page_size, "sort": sort,
                  "sort_direction": sort_direction}
        answer = self._transport.json(
            "GET", BASE, params={k: v for k, v in params.items() if v is not None})
        return PronunciationDictionaryPage(
            tuple(PronunciationDictionary.from_dict(d)
                  for d in answer.get("pronunciation_dictionaries") or ()),
            bool(answer.get("has_more")), answer.get("next_cursor"))

    def download(self, dictionary_id: str, version_id: str) -> bytes:
        """One version's rules as a PLS file."""
        return self._transport.request(
            "GET", _path(dictionary_id, version_id) + "/download").content

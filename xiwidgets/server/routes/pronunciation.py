"""Pronunciation dictionaries over HTTP: create (from rules or a PLS file), get, list, rename or
archive, add and remove rules (each a new version), and download a version as PLS.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.dependencies import PronunciationDep
from xiwidgets.server.domain_errors import InvalidPronunciationRulesError
from xiwidgets.server.errors import UnprocessableParameterError
from xiwidgets.server.lexicon import PronunciationRule
from xiwidgets.server.pls import PLSError, read_pls, write_pls
from xiwidgets.server.pronunciation import MAX_RULE_CHARACTERS

router = APIRouter(prefix="/v1/pronunciation-dictionaries", tags=["pronunciation-dictionaries"])

# A PLS file of the most rules a dictionary holds, with long graphemes, fits in this.
MAX_PLS_BYTES = 4 * 1024 * 1024
WorkspaceAccess = Literal["admin", "editor", "viewer"]
_BODY = ConfigDict(extra="ignore", allow_inf_nan=False)
_RuleString = Annotated[str, Field(min_length=1, max_length=MAX_RULE_CHARACTERS)]


class AliasRuleBody(BaseModel):
    """``PronunciationDictionaryAliasRuleRequestModel`` (with the SDK's two match options)."""

    model_config = _BODY

    type: Literal["alias"]
    string_to_replace: _RuleString
    alias: Annotated[str, Field(max_length=MAX_RULE_CHARACTERS)]
    case_sensitive: bool | None = None
    word_boundaries: bool | None = None


class PhonemeRuleBody(BaseModel):
    """``PronunciationDictionaryPhonemeRuleRequestModel``."""

    model_config = _BODY

    type: Literal["phoneme"]
    string_to_replace: _RuleString
    phoneme: Annotated[str, Field(max_length=MAX_RULE_CHARACTERS)]
    alphabet: str
    case_sensitive: bool | None = None
    word_boundaries: bool | None = None


RuleBody = Annotated[AliasRuleBody | PhonemeRuleBody, Field(discriminator="type")]


def _rule(body: AliasRuleBody | PhonemeRuleBody) -> PronunciationRule:
    # The hosted defaults: case-sensitive, whole words.
    case_sensitive = True if body.case_sensitive is None else body.case_sensitive
    word_boundaries = True if body.word_boundaries is None else body.word_boundaries
    if isinstance(body, AliasRuleBody):
        return PronunciationRule(
            body.string_to_replace, "alias", alias=body.alias,
            case_sensitive=case_sensitive, word_boundaries=word_boundaries,
        )
    return PronunciationRule(
        body.string_to_replace, "phoneme", phoneme=body.phoneme, alphabet=body.alphabet,
        case_sensitive=case_sensitive, word_boundaries=word_boundaries,
    )


class AddFromRulesBody(BaseModel):
    """Body of ``POST /v1/pronunciation-dictionaries/add-from-rules``."""

    model_config = _BODY

    rules: list[RuleBody]
    name: Annotated[str, Field(min_length=1, max_length=MAX_RULE_CHARACTERS)]
    description: str | None = None
    workspace_access: WorkspaceAccess | None = None


class RulesBody(BaseModel):
    """Body of ``.../add-rules``."""

    model_config = _BODY

    rules: list[RuleBody]


class RemoveRulesBody(BaseModel):
    """Body of ``.../remove-rules``."""

    model_config = _BODY

    rule_strings: list[str]


class UpdateBody(BaseModel):
    """Body of ``PATCH /v1/pronunciation-dictionaries/{id}``."""

    model_config = _BODY

    archived: bool | None = None
    name: Annotated[str, Field(min_length=1, max_length=MAX_RULE_CHARACTERS)] | None = None


def _created(row: dict[str, Any]) -> dict[str, Any]:
    """``AddPronunciationDictionaryResponseModel``."""
    return {
        "id": row["dictionary_id"],
        "name": row["name"],
        "created_by": row["created_by"],
        "creation_time_unix": row["creation_time_unix"],
        "version_id": row["latest_version_id"],
        "version_rules_num": row["latest_version_rules_num"],
        "description": row["description"],
        "permission_on_resource": "admin",
    }


def _metadata(row: dict[str, Any]) -> dict[str, Any]:
    """``GetPronunciationDictionaryMetadataResponseModel``."""
    return {
        "id": row["dictionary_id"],
        "latest_version_id": row["latest_version_id"],
        "latest_version_rules_num": row["latest_version_rules_num"],
        "name": row["name"],
        "permission_on_resource": "admin",
        "created_by": row["created_by"],
        "creation_time_unix": row["creation_time_unix"],
        "archived_time_unix": row["archived_time_unix"],
        "description": row["description"],
    }


def _version(row: dict[str, Any]) -> dict[str, Any]:
    """``PronunciationDictionaryRulesResponseModel``."""
    return {
        "id": row["dictionary_id"],
        "version_id": row["latest_version_id"],
        "version_rules_num": row["latest_version_rules_num"],
    }


@router.post("/add-from-rules", dependencies=API_KEY_REQUIRED)
def add_from_rules(body: AddFromRulesBody, books: PronunciationDep) -> dict[str, Any]:
    """A new dictionary from rules."""
    return _created(books.create(body.name, body.description, [_rule(r) for r in body.rules]))


@router.post("/add-from-file", dependencies=API_KEY_REQUIRED)
async def add_from_file(
    books: PronunciationDep,
    name: Annotated[str, Form(min_length=1, max_length=MAX_RULE_CHARACTERS)],
    file: Annotated[UploadFile | None, File()] = None,
    description: Annotated[str | None, Form()] = None,
    workspace_access: Annotated[WorkspaceAccess | None, Form()] = None,
) -> dict[str, Any]:
    """A new dictionary from a PLS file (or empty, without one)."""
    rules: list[PronunciationRule] = []
    if file is not None:
        data = await file.read(MAX_PLS_BYTES + 1)
        if len(data) > MAX_PLS_BYTES:
            raise InvalidPronunciationRulesError(
                f"The PLS file is larger than {MAX_PLS_BYTES // (1024 * 1024)} MB; split it."
            )
        try:
            # The largest file takes about half a second to parse: not on the event loop.
            rules = await asyncio.to_thread(read_pls, data)
        except PLSError as exc:
            raise InvalidPronunciationRulesError(str(exc)) from None
    return _created(await asyncio.to_thread(books.create, name, description, rules))


@router.get("/{pronunciation_dictionary_id}", dependencies=API_KEY_REQUIRED)
def get_dictionary(pronunciation_dictionary_id: str, books: PronunciationDep) -> dict[str, Any]:
    """The dictionary's metadata and its latest rules."""
    found = books.get(pronunciation_dictionary_id)
    return {**_metadata(found), "rules": found["rules"]}


@router.patch("/{pronunciation_dictionary_id}", dependencies=API_KEY_REQUIRED)
def update_dictionary(
    pronunciation_dictionary_id: str, books: PronunciationDep, body: UpdateBody | None = None
) -> dict[str, Any]:
    """Rename or (un)archive; the version stays."""
    body = body or UpdateBody()
    return _metadata(books.update(pronunciation_dictionary_id, body.name, body.archived))


@router.get("", dependencies=API_KEY_REQUIRED)
def list_dictionaries(
    books: PronunciationDep,
    cursor: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
    sort: Literal["creation_time_unix", "name"] | None = "creation_time_unix",
    sort_direction: str | None = "DESCENDING",
) -> dict[str, Any]:
    """The dictionaries not archived, a page at a time (``next_cursor`` for the next)."""
    direction = (sort_direction or "descending").lower()
    if direction not in ("ascending", "descending"):
        raise UnprocessableParameterError(
            ["query", "sort_direction"], "sort_direction must be 'ascending' or 'descending'"
        )
    if cursor is not None and not (cursor.isascii() and cursor.isdigit() and len(cursor) < 10):
        raise UnprocessableParameterError(
            ["query", "cursor"], "cursor must be a next_cursor this server returned", "value_error"
        )
    offset = int(cursor or 0)
    rows, more = books.page(sort == "name", direction == "descending", offset, page_size)
    return {
        "pronunciation_dictionaries": [_metadata(row) for row in rows],
        "next_cursor": str(offset + len(rows)) if more else None,
        "has_more": more,
    }


@router.post("/{pronunciation_dictionary_id}/add-rules", dependencies=API_KEY_REQUIRED)
def add_rules(
    pronunciation_dictionary_id: str, body: RulesBody, books: PronunciationDep
) -> dict[str, Any]:
    """A new version with these rules (a rule for a string already there replaces it)."""
    return _version(books.add_rules(pronunciation_dictionary_id, [_rule(r) for r in body.rules]))


@router.post("/{pronunciation_dictionary_id}/remove-rules", dependencies=API_KEY_REQUIRED)
def remove_rules(
    pronunciation_dictionary_id: str, body: RemoveRulesBody, books: PronunciationDep
) -> dict[str, Any]:
    """A new version without the rules for these strings."""
    return _version(books.remove_rules(pronunciation_dictionary_id, body.rule_strings))


@router.get(
    "/{dictionary_id}/{version_id}/download",
    dependencies=API_KEY_REQUIRED,
    response_class=Response,
)
def download(dictionary_id: str, version_id: str, books: PronunciationDep) -> Response:
    """One version's rules as a PLS file."""
    rules = books.rules(dictionary_id, version_id)
    return Response(
        write_pls(rules),
        media_type="text/plain",
        headers={
            "Content-Disposition": f'attachment; filename="{dictionary_id}_{version_id}.pls"'
        },
    )

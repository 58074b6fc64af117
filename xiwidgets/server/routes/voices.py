"""Voices: list (v1, v2), get, settings, add from samples, edit, delete, preview, samples."""

from __future__ import annotations

import asyncio
import functools
import json
import unicodedata
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse

from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.catalog import DEFAULT_MODEL_ID
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.dependencies import ConfigDep, VoicesDep
from xiwidgets.server.errors import APIError, UnprocessableParameterError
from xiwidgets.server.routes._own_thread import in_own_thread
from xiwidgets.server.routes._uploads import upload_size
from xiwidgets.server.schemas import VoiceSettingsBody
from xiwidgets.server.takes import HISTORY_CONTENT_TYPE
from xiwidgets.server.voices import SampleUpload, VoiceRecord, VoiceRegistry
from xiwidgets.voice_settings_rules import DEFAULTS

router = APIRouter(tags=["voices"])

MAX_V2_PAGE_SIZE = 100
OK = {"status": "ok"}


def voice_response(
    voice: VoiceRecord, settings: dict[str, Any], base_url: str
) -> dict[str, Any]:
    """The API's ``Voice`` object for ``voice`` with its current ``settings``."""
    return {
        "voice_id": voice.voice_id,
        "name": voice.name,
        "samples": [
            {
                "sample_id": sample["sample_id"],
                "file_name": sample["file_name"],
                "mime_type": sample["mime_type"],
                "size_bytes": sample["size_bytes"],
                "hash": sample["hash"],
                "duration_secs": sample["duration_secs"],
            }
            for sample in voice.samples
        ]
        or None,
        "category": voice.category,
        "fine_tuning": None,
        "labels": voice.labels,
        "description": voice.description,
        "preview_url": f"{base_url.rstrip('/')}/v1/voices/{voice.voice_id}/preview",
        "available_for_tiers": [],
        "settings": settings,
        "sharing": None,
        "high_quality_base_model_ids": list(voice.model_ids),
        "verified_languages": [
            {
                "language": voice.spec.language,
                "model_id": DEFAULT_MODEL_ID,
                "accent": voice.labels.get("accent"),
            }
        ],
        "safety_control": None,
        "voice_verification": {
            "requires_verification": False,
            "is_verified": False,
            "verification_failures": [],
            "verification_attempts_count": 0,
        },
        "permission_on_resource": "admin" if not voice.is_premade else None,
        "is_owner": not voice.is_premade,
        "is_legacy": False,
        "is_mixed": voice.is_mixed,
        "created_at_unix": voice.created_at_unix,
    }


def _responses(
    registry: VoiceRegistry, voices: list[VoiceRecord], request: Request
) -> list[dict[str, Any]]:
    base = str(request.base_url)
    return [voice_response(voice, registry.settings_of(voice), base) for voice in voices]


@router.get("/v1/voices", dependencies=API_KEY_REQUIRED)
def list_voices(
    request: Request, registry: VoicesDep, show_legacy: bool | None = False
) -> dict[str, Any]:
    """All voices at once (the local server has no legacy voices to hide)."""
    return {"voices": _responses(registry, registry.voices(), request)}


def _matches(voice: VoiceRecord, needle: str) -> bool:
    haystack = [voice.name, voice.description or "", voice.category, *voice.labels.values()]
    return any(needle in value.lower() for value in haystack)


VOICE_TYPES = ("personal", "community", "default", "workspace", "non-default", "saved")


def _has_voice_type(voice: VoiceRecord, voice_type: str | None) -> bool:
    if not voice_type:
        return True
    if voice_type == "default":
        return voice.is_premade
    if voice_type in ("personal", "non-default"):
        return not voice.is_premade
    return False  # no community, workspace or saved voices on a local server


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    if not (token.isascii() and token.isdigit()):
        raise APIError(
            400,
            "invalid_page_token",
            "next_page_token is not a token this server issued; start again without it.",
        )
    return int(token)


@router.get("/v2/voices", dependencies=API_KEY_REQUIRED)
def search_voices(
    request: Request,
    registry: VoicesDep,
    next_page_token: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_V2_PAGE_SIZE)] = 10,
    search: str | None = None,
    sort: Literal["created_at_unix", "name"] | None = None,
    sort_direction: Literal["asc", "desc"] | None = None,
    voice_type: str | None = None,
    category: Literal["premade", "cloned", "generated", "professional"] | None = None,
    fine_tuning_state: str | None = None,
    collection_id: str | None = None,
    include_total_count: bool = True,
    voice_ids: Annotated[list[str] | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """Voices filtered, sorted and paged by an opaque token."""
    if voice_type and voice_type not in VOICE_TYPES:
        raise UnprocessableParameterError(
            ["query", "voice_type"], f"voice_type must be one of {', '.join(VOICE_TYPES)}."
        )
    voices = [voice for voice in registry.voices() if _has_voice_type(voice, voice_type)]
    if category:
        voices = [voice for voice in voices if voice.category == category]
    if voice_ids:
        wanted = set(voice_ids)
        voices = [voice for voice in voices if voice.voice_id in wanted]
    if search:
        needle = search.strip().lower()
        voices = [voice for voice in voices if _matches(voice, needle)]
    if fine_tuning_state or collection_id:
        voices = []  # no professional clones or collections on a local server
    if sort == "name":
        voices.sort(key=lambda v: v.name.lower(), reverse=sort_direction == "desc")
    elif sort == "created_at_unix":
        voices.sort(key=lambda v: v.created_at_unix or 0, reverse=sort_direction != "asc")
    offset = _page_offset(next_page_token)
    page = voices[offset : offset + page_size]
    has_more = offset + page_size < len(voices)
    return {
        "voices": _responses(registry, page, request),
        "has_more": has_more,
        "total_count": len(voices),
        "next_page_token": str(offset + page_size) if has_more else None,
    }


@router.get("/v1/voices/settings/default")
def default_settings() -> dict[str, Any]:
    """The settings a voice has until they are edited (no key needed, as on the hosted API)."""
    return dict(DEFAULTS)


@router.get("/v1/voices/{voice_id}/settings", dependencies=API_KEY_REQUIRED)
def get_voice_settings(registry: VoicesDep, voice_id: str) -> dict[str, Any]:
    """The voice's stored settings."""
    return registry.voice_settings(voice_id)


@router.post("/v1/voices/{voice_id}/settings/edit", dependencies=API_KEY_REQUIRED)
def edit_voice_settings(
    registry: VoicesDep, voice_id: str, settings: VoiceSettingsBody
) -> dict[str, str]:
    """Store settings for a voice (top-level VoiceSettings body)."""
    registry.edit_voice_settings(voice_id, settings.given())
    return OK


def parse_labels(raw: str | None) -> dict[str, str] | None:
    """Labels as sent by any SDK version: absent, ``"null"``, JSON object, or JSON-quoted JSON.

    Raises
    ------
    APIError
        400 when the value is not a JSON object of strings.
    """
    value: object = raw
    for _ in range(2):  # the 2.x SDK JSON-encodes a caller's string a second time
        if not isinstance(value, str):
            break
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError):  # the latter: nested too deep
            break
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise APIError(
            400,
            "invalid_labels",
            'labels must be a JSON object of strings, e.g. {"accent": "british"}.',
        )
    return {key: str(item) for key, item in value.items()}


def _sample_uploads(config: ServerConfig, files: list[UploadFile] | None) -> list[SampleUpload]:
    """Check the uploads' count and sizes; their content stays in the spooled upload files.

    The multipart parser has already written each file to a temporary file (on disk past 1 MB),
    so nothing here copies a sample into memory.
    """
    files = files or []
    if len(files) > config.max_samples_per_voice:
        raise APIError(
            400,
            "too_many_samples",
            f"{len(files)} samples were uploaded; at most {config.max_samples_per_voice} "
            "samples per voice.",
        )
    uploads, total = [], 0
    for upload in files:
        name = _display_name(upload.filename)
        size = upload_size(config, upload, f"Sample {name!r}", "upload a shorter recording")
        if not size:
            raise APIError(400, "invalid_audio_sample", f"Sample {name!r} is empty.")
        total += size
        mime_type = upload.content_type or "application/octet-stream"
        uploads.append(SampleUpload(name, mime_type, upload.file))
    if total > config.max_upload_total_bytes:
        raise APIError(
            413,
            "upload_too_large",
            f"The samples total {total:,} bytes; the limit is "
            f"{config.max_upload_total_bytes:,} bytes per request.",
        )
    return uploads


def _display_name(sent: str | None) -> str:
    """A sample's file name (or type) as stored and listed: what the client sent, without
    control characters (NUL, newlines, escapes), at most 255 characters, or ``sample``."""
    name = "".join(char for char in sent or "" if unicodedata.category(char) != "Cc")
    return name.strip()[:255] or "sample"


def check_name(name: str) -> str:
    """The voice name without surrounding spaces; 400 ``invalid_name`` when empty."""
    name = name.strip()
    if not name:
        raise APIError(400, "invalid_name", "The voice needs a non-empty name.")
    return name


@router.post("/v1/voices/add", dependencies=API_KEY_REQUIRED)
async def add_voice(
    registry: VoicesDep,
    config: ConfigDep,
    name: Annotated[str, Form()],
    files: Annotated[list[UploadFile], File()],
    description: Annotated[str | None, Form()] = None,
    labels: Annotated[str | None, Form()] = None,
    remove_background_noise: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Create a voice whose pitch and speaking rate follow the uploaded samples."""
    uploads = _sample_uploads(config, files)
    if not uploads:
        raise APIError(400, "invalid_audio_sample", "Upload at least one audio sample.")
    label_dict = parse_labels(labels) or {}
    voice_id = await asyncio.to_thread(
        registry.add_voice, check_name(name), uploads, description, label_dict
    )
    return {"voice_id": voice_id, "requires_verification": False}


@router.post("/v1/voices/{voice_id}/edit", dependencies=API_KEY_REQUIRED)
async def edit_voice(
    registry: VoicesDep,
    config: ConfigDep,
    voice_id: str,
    name: Annotated[str, Form()],
    files: Annotated[list[UploadFile] | None, File()] = None,
    description: Annotated[str | None, Form()] = None,
    labels: Annotated[str | None, Form()] = None,
    remove_background_noise: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Rename or relabel a voice; uploaded files are added to its samples."""
    uploads = _sample_uploads(config, files)
    await asyncio.to_thread(
        registry.edit_voice, voice_id, check_name(name), uploads, description, parse_labels(labels)
    )
    return OK


@router.delete("/v1/voices/{voice_id}", dependencies=API_KEY_REQUIRED)
def delete_voice(registry: VoicesDep, voice_id: str) -> dict[str, str]:
    """Delete an added voice (premade voices stay)."""
    registry.delete_voice(voice_id)
    return OK


@router.get("/v1/voices/{voice_id}/preview", response_class=FileResponse)
async def voice_preview(registry: VoicesDep, voice_id: str) -> FileResponse:
    """A short MP3 of the voice in its language (synthesized once, then cached).

    The first request waits for a synthesis slot: on a thread of its own, so requests for a
    preview not made yet (the route needs no key) cannot fill Starlette's shared pool that
    every blocking route waits for.
    """
    path = await in_own_thread(
        functools.partial(registry.preview, voice_id), "xiwidgets-voice-preview"
    )
    # Previews are encoded in the history's format (VoiceRegistry.preview).
    return FileResponse(path, media_type=HISTORY_CONTENT_TYPE)


@router.get(
    "/v1/voices/{voice_id}/samples/{sample_id}/audio",
    dependencies=API_KEY_REQUIRED,
    response_class=FileResponse,
)
def sample_audio(registry: VoicesDep, voice_id: str, sample_id: str) -> FileResponse:
    """The audio file of one of a voice's samples, as it was uploaded."""
    path, media_type = registry.sample(voice_id, sample_id)
    return FileResponse(path, media_type=media_type, headers={"x-content-type-options": "nosniff"})


@router.delete("/v1/voices/{voice_id}/samples/{sample_id}", dependencies=API_KEY_REQUIRED)
async def delete_sample(registry: VoicesDep, voice_id: str, sample_id: str) -> dict[str, str]:
    """Remove a sample from a voice (a cloned voice is measured again on the others)."""
    await asyncio.to_thread(registry.delete_sample, voice_id, sample_id)
    return OK


@router.get("/v1/voices/{voice_id}", dependencies=API_KEY_REQUIRED)
def get_voice(
    request: Request, registry: VoicesDep, voice_id: str, with_settings: bool = True
) -> dict[str, Any]:
    """One voice."""
    voice = registry.voice(voice_id)
    return voice_response(voice, registry.settings_of(voice), str(request.base_url))


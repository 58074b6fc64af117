"""Operations only the hosted API performs: a clear 400 that names it, never a fake result.

Sound effects, speech to speech (the voice changer), audio isolation, dubbing and music need
models the local server does not have. A request for one (any method, any sub-path) is answered
``{"detail": {"status": "hosted_only", "message": ...}}`` after the key check, without reading
its body, so an upload for one of them costs nothing and is billed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.errors import APIError

router = APIRouter(tags=["hosted only"])

HOSTED_API_URL = "https://api.elevenlabs.io"
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True)
class HostedOnlyOperation:
    """A family of hosted endpoints under one path prefix."""

    prefix: str
    name: str


HOSTED_ONLY_OPERATIONS: tuple[HostedOnlyOperation, ...] = (
    HostedOnlyOperation("/v1/sound-generation", "Sound effects generation"),
    HostedOnlyOperation("/v1/speech-to-speech", "Speech to speech"),
    HostedOnlyOperation("/v1/voice-changer", "Speech to speech (voice changer)"),
    HostedOnlyOperation("/v1/audio-isolation", "Audio isolation"),
    HostedOnlyOperation("/v1/dubbing", "Dubbing"),
    HostedOnlyOperation("/v1/music", "Music generation"),
)


def hosted_only(operation: HostedOnlyOperation) -> APIError:
    """The 400 for ``operation``: what it is, that only the hosted API does it, and where."""
    return APIError(
        400,
        "hosted_only",
        f"{operation.name} ({operation.prefix}) runs only on the hosted ElevenLabs API "
        f"({HOSTED_API_URL}); this local xiwidgets server has no model for it. Send the "
        "request there with an ElevenLabs API key.",
    )


def _register(operation: HostedOnlyOperation) -> None:
    async def refuse() -> None:
        raise hosted_only(operation)

    refuse.__doc__ = f"{operation.name}: hosted API only (400 ``hosted_only``)."
    slug = operation.prefix.replace("/", "_").replace("-", "_")
    for path in (operation.prefix, operation.prefix + "/{rest:path}"):
        # One route per method: FastAPI names an operation after a route's first method,
        # so one route of five methods would be five operations with one id.
        for method in _METHODS:
            router.add_api_route(
                path,
                refuse,
                methods=[method],
                dependencies=API_KEY_REQUIRED,
                # The sub-paths are a catch-all, not operations: left out of the OpenAPI
                # document.
                include_in_schema=path == operation.prefix,
                name=f"hosted_only{slug}",
                operation_id=f"hosted_only{slug}_{method.lower()}",
            )


for _operation in HOSTED_ONLY_OPERATIONS:
    _register(_operation)

"""API-key checks: with configured keys, the protected endpoints need a valid ``xi-api-key``."""

from __future__ import annotations

from fastapi import Depends, Request

from xiwidgets.server.dependencies import services
from xiwidgets.server.errors import invalid_api_key
from xiwidgets.server.services import Services


def key_is_accepted(running: Services, key: str | None) -> bool:
    """Whether ``key`` opens this server (always true when it runs without keys).

    Parameters
    ----------
    running : Services
        The server's services (its config and store).
    key : str or None
        The key the client sent.
    """
    if not running.config.requires_api_key:
        return True
    return running.store.is_valid_api_key(key)


async def require_api_key(request: Request) -> None:
    """FastAPI dependency: 401 ``invalid_api_key`` unless the request may pass."""
    if not key_is_accepted(services(request), request.headers.get("xi-api-key")):
        raise invalid_api_key()


API_KEY_REQUIRED = [Depends(require_api_key)]

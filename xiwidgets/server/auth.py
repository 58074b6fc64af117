"""API-key checks: with configured keys, the protected endpoints need a valid ``xi-api-key``."""

from __future__ import annotations

from fastapi import Depends, Request

from xiwidgets.server.errors import invalid_api_key


def key_is_accepted(request_app_state: object, key: str | None) -> bool:
    """Whether ``key`` opens this server (always true when it runs without keys).

    Parameters
    ----------
    request_app_state : starlette.datastructures.State
        ``app.state`` holding ``config`` and ``store``.
    key : str or None
        The key the client sent.
    """
    config = request_app_state.config  # type: ignore[attr-defined]
    if not config.requires_api_key:
        return True
    return request_app_state.store.is_valid_api_key(key)  # type: ignore[attr-defined]


async def require_api_key(request: Request) -> None:
    """FastAPI dependency: 401 ``invalid_api_key`` unless the request may pass."""
    if not key_is_accepted(request.app.state, request.headers.get("xi-api-key")):
        raise invalid_api_key()


API_KEY_REQUIRED = [Depends(require_api_key)]

"""Models: ``GET /v1/models`` returns a bare array."""

from __future__ import annotations

from fastapi import APIRouter, Request

from xiwidgets.server.auth import API_KEY_REQUIRED

router = APIRouter(tags=["models"])


@router.get("/v1/models", dependencies=API_KEY_REQUIRED)
def list_models(request: Request) -> list[dict]:
    """Every model id code written for the hosted API may send, and what serves it here."""
    return request.app.state.service.models()

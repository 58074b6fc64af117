"""Models: ``GET /v1/models`` returns a bare array."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.catalog import model_list

router = APIRouter(tags=["models"])


@router.get("/v1/models", dependencies=API_KEY_REQUIRED)
def list_models() -> list[dict[str, Any]]:
    """Every model id code written for the hosted API may send, and what serves it here."""
    return model_list()

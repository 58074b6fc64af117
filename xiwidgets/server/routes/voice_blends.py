"""``POST /v1/voices/blend``: a local extension that stores a weighted blend of Kokoro voices.

The hosted API has no such endpoint; the blend it makes is an ordinary voice afterwards
(listed by ``GET /v1/voices`` with ``is_mixed: true``, spoken by every text-to-speech route,
deleted with ``DELETE /v1/voices/{voice_id}``), so the official SDKs use it like any other.

Request body (JSON)::

    {"name": "Bella and Adam",
     "voices": [{"voice_id": "syxDSqptrwbgrJ8uSI6y", "weight": 0.5},
                {"voice_id": "tL4wXzFaTnAimsIOaziQ", "weight": 0.5}],
     "description": null, "labels": {"use_case": "narration"}}

Answer: ``{"voice_id": "...", "requires_verification": false}``, as ``POST /v1/voices/add``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.dependencies import VoicesDep
from xiwidgets.server.routes.voices import check_name
from xiwidgets.server.schemas import BlendBody

router = APIRouter(tags=["voices"])


@router.post("/v1/voices/blend", dependencies=API_KEY_REQUIRED)
async def blend_voices(registry: VoicesDep, body: BlendBody) -> dict[str, Any]:
    """Store a voice whose style is the weighted mix of premade Kokoro voices."""
    components = [(part.voice_id, part.weight) for part in body.voices]
    voice_id = await asyncio.to_thread(
        registry.add_blend, check_name(body.name), components, body.description, body.labels
    )
    return {"voice_id": voice_id, "requires_verification": False}

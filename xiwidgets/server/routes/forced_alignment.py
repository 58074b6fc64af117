"""Forced alignment: ``POST /v1/forced-alignment`` (a recording and its text → timed words)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile

from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.dependencies import ConfigDep, SpeechDep
from xiwidgets.server.forced_alignment import ForcedAlignment
from xiwidgets.server.routes._uploads import recording_file
from xiwidgets.server.routes._while_connected import while_connected

router = APIRouter(tags=["forced-alignment"])


def alignment_response(alignment: ForcedAlignment) -> dict[str, Any]:
    """The API's ``ForcedAlignmentResponseModel``."""
    return {
        "characters": [
            {"text": c.text, "start": c.start, "end": c.end} for c in alignment.characters
        ],
        "words": [
            {"text": w.text, "start": w.start, "end": w.end, "loss": w.loss}
            for w in alignment.words
        ],
        "loss": alignment.loss,
    }


@router.post("/v1/forced-alignment", dependencies=API_KEY_REQUIRED)
async def create_forced_alignment(
    request: Request,
    speech: SpeechDep,
    config: ConfigDep,
    file: Annotated[UploadFile, File()],
    text: Annotated[str, Form()],
    enabled_spooled_file: Annotated[bool, Form()] = False,  # uploads are always spooled here
) -> dict[str, Any]:
    """Time each word and character of ``text`` in the uploaded recording (any format)."""
    recording = recording_file(config, file)
    alignment = await while_connected(request, lambda stop: speech.align(recording, text, stop))
    return alignment_response(alignment)

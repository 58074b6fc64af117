"""Voice design: design previews from a description, stream one, save one as a voice."""

from __future__ import annotations

import base64
import functools
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.dependencies import VoiceDesignDep, VoicesDep
from xiwidgets.server.domain_errors import UnsupportedDesignOptionError
from xiwidgets.server.errors import APIError, UnprocessableParameterError
from xiwidgets.server.routes._own_thread import in_own_thread, iterate_in_own_thread
from xiwidgets.server.routes._while_connected import while_connected
from xiwidgets.server.routes.voices import voice_response
from xiwidgets.server.take_service import parse_output_format
from xiwidgets.server.voice_design import DEFAULT_GUIDANCE_SCALE, DesignOptions
from xiwidgets.server.voice_design import Preview as DesignedPreview

router = APIRouter(tags=["text-to-voice"])

# The hosted API's limits (openapi VoiceDesignRequestModel).
DESCRIPTION_LENGTH = {"min_length": 20, "max_length": 1000}
TEXT_LENGTH = {"min_length": 100, "max_length": 1000}
DESIGN_OUTPUT_FORMAT = "mp3_44100_192"
MAX_SEED = 2_147_483_647


class VoiceDesignBody(BaseModel):
    """``VoiceDesignRequestModel``: remixing fields and ``should_enhance`` have no local use."""

    voice_description: Annotated[str, Field(**DESCRIPTION_LENGTH)]
    model_id: Literal["eleven_multilingual_ttv_v2", "eleven_ttv_v3"] = (
        "eleven_multilingual_ttv_v2"
    )
    text: Annotated[str, Field(**TEXT_LENGTH)] | None = None
    auto_generate_text: bool = False
    loudness: Annotated[float, Field(ge=-1, le=1)] = 0.5
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] | None = None
    guidance_scale: Annotated[float, Field(ge=0, le=100)] = DEFAULT_GUIDANCE_SCALE
    stream_previews: bool = False
    should_enhance: bool | None = None
    remixing_session_id: str | None = None
    remixing_session_iteration_id: str | None = None
    quality: Annotated[float, Field(ge=-1, le=1)] | None = None
    reference_audio_base64: str | None = None
    prompt_strength: Annotated[float, Field(ge=0, le=1)] | None = None


class SaveVoiceBody(BaseModel):
    """``Body_Create_a_new_voice_from_voice_preview_v1_text_to_voice_post``."""

    voice_name: str
    voice_description: Annotated[str, Field(**DESCRIPTION_LENGTH)]
    generated_voice_id: str
    labels: dict[str, str | None] | None = None
    played_not_selected_voice_ids: list[str] | None = None


def _preview_json(preview: DesignedPreview) -> dict[str, Any]:
    return {
        "audio_base_64": base64.b64encode(preview.audio).decode("ascii"),
        "generated_voice_id": preview.generated_voice_id,
        "media_type": preview.media_type,
        "duration_secs": preview.duration_secs,
        "language": preview.language,
    }


@router.post("/v1/text-to-voice/design", dependencies=API_KEY_REQUIRED)
async def design_voice(
    request: Request,
    designer: VoiceDesignDep,
    body: VoiceDesignBody,
    output_format: str | None = None,
) -> dict[str, Any]:
    """Three previews of voices that fit the description (the text is billed once)."""
    if body.reference_audio_base64 is not None:
        raise UnsupportedDesignOptionError(
            "reference_audio_base64 (designing from a recording, eleven_ttv_v3) is offered by "
            "the hosted API only; the local server designs from the description. To imitate "
            "a recording, add it with POST /v1/voices/add."
        )
    if body.text is None and not body.auto_generate_text:
        raise UnprocessableParameterError(
            ["body", "text"],
            "Give a text of 100 to 1000 characters for the previews to read, or set "
            "auto_generate_text to true.",
            "missing",
        )
    fmt = parse_output_format(output_format or DESIGN_OUTPUT_FORMAT, streaming=False)
    options = DesignOptions(
        model_id=body.model_id,
        loudness=body.loudness,
        seed=body.seed,
        guidance_scale=body.guidance_scale,
        quality=body.quality,
    )
    # A client that hangs up before the previews are made is not billed for them.
    design = await while_connected(
        request,
        lambda stop: designer.design(
            request_id=request.state.request_id,
            description=body.voice_description,
            text=body.text,
            options=options,
            output_format=fmt,
            with_audio=not body.stream_previews,
            stop=stop,
        ),
        "xiwidgets-design",
    )
    return {"previews": [_preview_json(p) for p in design.previews], "text": design.text}


@router.get("/v1/text-to-voice/{generated_voice_id}/stream", dependencies=API_KEY_REQUIRED)
async def stream_preview(designer: VoiceDesignDep, generated_voice_id: str) -> StreamingResponse:
    """A kept preview as MP3: its kept audio, spoken only by the first stream of a
    ``stream_previews`` design (unknown or expired id: 404).

    The first piece is waited for before the answer starts (so an unknown id is a 404); the
    rest are read by one thread of the stream's own: streams waiting in Starlette's shared
    pool of 40 threads would leave every blocking route of the server waiting behind them.
    """
    chunks = await in_own_thread(
        functools.partial(designer.stream_preview, generated_voice_id), "xiwidgets-preview-stream"
    )
    pieces = iterate_in_own_thread(chunks, "xiwidgets-preview-stream")
    return StreamingResponse(pieces, media_type="audio/mpeg")


@router.post("/v1/text-to-voice", dependencies=API_KEY_REQUIRED)
async def save_voice(
    request: Request,
    designer: VoiceDesignDep,
    registry: VoicesDep,
    body: SaveVoiceBody,
) -> dict[str, Any]:
    """Keep a preview as a voice of category ``generated``, usable like any other."""
    name = body.voice_name.strip()
    if not name:
        raise APIError(400, "invalid_name", "The voice needs a non-empty voice_name.")
    labels = {key: value for key, value in (body.labels or {}).items() if value is not None}
    voice_id = await in_own_thread(
        functools.partial(
            designer.save, body.generated_voice_id, name, body.voice_description, labels
        ),
        "xiwidgets-design-save",
    )
    voice = registry.voice(voice_id)
    return voice_response(voice, registry.settings_of(voice), str(request.base_url))

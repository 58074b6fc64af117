"""Text to dialogue over HTTP: convert, stream, with-timestamps and stream/with-timestamps.

Each request is one take (see ``TakeService.plan_dialogue``): planned, billed and stored by the
same path as a text-to-speech take, so the billing rule of ``_takes`` holds here too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT
from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.dependencies import ConcurrencyDep, PronunciationDep, TakesDep
from xiwidgets.server.dialogue import piece_voice_segments, voice_segments
from xiwidgets.server.lexicon import Lexicon
from xiwidgets.server.routes._takes import (
    TakeRun,
    audio_bytes_settled_last,
    connection_of,
    stop_if_unfinished,
    take_headers,
    timed_alignments,
    whole_take,
)
from xiwidgets.server.schemas import TextToDialogueBody
from xiwidgets.server.take_service import TakeService
from xiwidgets.server.takes import TakePlan, piece_alignments

router = APIRouter(prefix="/v1/text-to-dialogue", tags=["text-to-dialogue"])

OutputFormatQuery = Annotated[str, Query(description="codec_samplerate[_bitrate]")]


@dataclass(frozen=True)
class DialogueRequest:
    """What the four text-to-dialogue routes are asked, parsed once."""

    request_id: str
    body: TextToDialogueBody
    output_format: str
    enable_logging: bool
    lexicon: Lexicon | None = None

    def plan(self, takes: TakeService, streaming: bool) -> TakePlan:
        """Validate the dialogue and reserve its characters (``TakeService.plan_dialogue``)."""
        body = self.body
        return takes.plan_dialogue(
            request_id=self.request_id,
            lines=[(line.text, line.voice_id) for line in body.inputs],
            model_id=body.model_id,
            voice_settings=body.settings.given() if body.settings else None,
            output_format=self.output_format,
            seed=body.seed,
            streaming=streaming,
            enable_logging=self.enable_logging,
            lexicon=self.lexicon,
            text_normalization=body.apply_text_normalization,
            language_code=body.language_code,
        )


def dialogue_request(
    request: Request,
    body: TextToDialogueBody,
    dictionaries: PronunciationDep,
    output_format: OutputFormatQuery = DEFAULT_OUTPUT_FORMAT,
    enable_logging: bool = True,
) -> DialogueRequest:
    """FastAPI dependency: the body and query parameters the four routes share.

    The pronunciation dictionaries are looked up here, as for text to speech: an unknown one
    is a 404 before anything is reserved.
    """
    locators = [
        (locator.pronunciation_dictionary_id, locator.version_id)
        for locator in body.pronunciation_dictionary_locators or []
    ]
    return DialogueRequest(
        request_id=request.state.request_id,
        body=body,
        output_format=output_format,
        enable_logging=enable_logging,
        lexicon=dictionaries.lexicon(locators),
    )


DialogueRequestDep = Annotated[DialogueRequest, Depends(dialogue_request)]


@router.post("", dependencies=API_KEY_REQUIRED, response_class=Response)
async def convert(
    request: Request, dialogue: DialogueRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> Response:
    """The whole dialogue as one audio file."""
    plan = dialogue.plan(takes, streaming=False)
    headers = take_headers(concurrency, plan)
    pieces = await whole_take(takes, plan, request)
    audio = b"".join(piece.audio for piece in pieces)
    return Response(audio, media_type=plan.output_format.media_type, headers=headers)


@router.post("/stream", dependencies=API_KEY_REQUIRED, response_class=Response)
async def stream(
    request: Request, dialogue: DialogueRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> StreamingResponse:
    """Audio bytes as each clause of each line is synthesized (chunked transfer)."""
    plan = dialogue.plan(takes, streaming=True)
    run = TakeRun(takes, plan, connected=connection_of(request))
    return StreamingResponse(
        audio_bytes_settled_last(run),
        media_type=plan.output_format.media_type,
        headers=take_headers(concurrency, plan),
        background=stop_if_unfinished(run),
    )


@router.post("/with-timestamps", dependencies=API_KEY_REQUIRED)
async def convert_with_timestamps(
    request: Request, dialogue: DialogueRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> JSONResponse:
    """The whole dialogue as base64, its character times and one voice segment per line."""
    plan = dialogue.plan(takes, streaming=False)
    headers = take_headers(concurrency, plan)
    pieces = await whole_take(takes, plan, request)
    alignment, normalized = timed_alignments(plan, pieces)
    return JSONResponse(
        {
            "audio_base64": base64.b64encode(b"".join(p.audio for p in pieces)).decode(),
            "alignment": alignment,
            "normalized_alignment": normalized,
            "voice_segments": voice_segments(plan.lines, alignment) if alignment else [],
        },
        headers=headers,
    )


@router.post("/stream/with-timestamps", dependencies=API_KEY_REQUIRED, response_class=Response)
async def stream_with_timestamps(
    request: Request, dialogue: DialogueRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> StreamingResponse:
    """One JSON object per line of output: audio, character times and the voice speaking."""
    plan = dialogue.plan(takes, streaming=True)
    run = TakeRun(takes, plan, connected=connection_of(request))

    async def lines() -> AsyncIterator[bytes]:
        async for piece in run.pieces():
            if piece.final and not piece.audio:
                return
            alignment, normalized = piece_alignments(piece, plan.spoken_text)
            line = {
                "audio_base64": base64.b64encode(piece.audio).decode(),
                "alignment": alignment,
                "normalized_alignment": normalized,
                "voice_segments": piece_voice_segments(plan.lines, piece, plan.spoken_text),
            }
            yield (json.dumps(line, ensure_ascii=False) + "\n").encode()

    return StreamingResponse(
        lines(),
        media_type="application/json",
        headers=take_headers(concurrency, plan),
        background=stop_if_unfinished(run),
    )

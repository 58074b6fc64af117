"""Text to speech over HTTP: convert, stream, with-timestamps and stream/with-timestamps.

Every route bills a take only if the client is still connected once it has been handed every
byte of the response but the last ones (see ``_takes``): for the whole-file routes, when the
take is ready to be sent; for the streams, before the final bytes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT
from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.routes._takes import TakeRun, connection_of, whole_take
from xiwidgets.server.schemas import TextToSpeechBody
from xiwidgets.server.service import SpeechService
from xiwidgets.server.takes import (
    TakePiece,
    TakePlan,
    chunk_alignment,
    piece_alignment,
)

router = APIRouter(prefix="/v1/text-to-speech", tags=["text-to-speech"])

OutputFormatQuery = Annotated[str, Query(description="codec_samplerate[_bitrate]")]
# Accepted for compatibility: the local engines have one latency mode, the fastest.
LatencyQuery = Annotated[int | None, Query(ge=0, le=4)]


def _plan(
    request: Request,
    voice_id: str,
    body: TextToSpeechBody,
    output_format: str,
    enable_logging: bool,
    streaming: bool,
) -> TakePlan:
    service: SpeechService = request.app.state.service
    return service.plan_take(
        request_id=request.state.request_id,
        voice_id=voice_id,
        text=body.text,
        model_id=body.model_id,
        voice_settings=body.voice_settings.given() if body.voice_settings else None,
        output_format=output_format,
        seed=body.seed,
        streaming=streaming,
        enable_logging=enable_logging,
    )


def _take_headers(service: SpeechService, plan: TakePlan) -> dict[str, str]:
    headers = {"character-cost": str(plan.character_cost), **service.concurrency_headers()}
    if plan.history_item_id:
        headers["history-item-id"] = plan.history_item_id
    return headers


def _stop_if_unfinished(run: TakeRun) -> BackgroundTask:
    # Runs once the response is over, also after a disconnect cancelled it while the body
    # iterator was suspended (and so could not notice): the take must not wait to settle.
    return BackgroundTask(run.stop)


def _timed_alignment(pieces: list[TakePiece]) -> dict | None:
    parts = [piece_alignment(piece) for piece in pieces]
    parts = [part for part in parts if part]
    if not parts:
        return None
    return chunk_alignment(
        [c for part in parts for c in part["characters"]],
        [t for part in parts for t in part["character_start_times_seconds"]],
        [t for part in parts for t in part["character_end_times_seconds"]],
    )


@router.post("/{voice_id}", dependencies=API_KEY_REQUIRED, response_class=Response)
async def convert(
    request: Request,
    voice_id: str,
    body: TextToSpeechBody,
    output_format: OutputFormatQuery = DEFAULT_OUTPUT_FORMAT,
    enable_logging: bool = True,
    optimize_streaming_latency: LatencyQuery = None,
) -> Response:
    """The whole take as one audio file."""
    service: SpeechService = request.app.state.service
    plan = _plan(request, voice_id, body, output_format, enable_logging, streaming=False)
    headers = _take_headers(service, plan)
    pieces = await whole_take(service, plan, request)
    audio = b"".join(piece.audio for piece in pieces)
    return Response(audio, media_type=plan.output_format.media_type, headers=headers)


@router.post("/{voice_id}/stream", dependencies=API_KEY_REQUIRED, response_class=Response)
async def stream(
    request: Request,
    voice_id: str,
    body: TextToSpeechBody,
    output_format: OutputFormatQuery = DEFAULT_OUTPUT_FORMAT,
    enable_logging: bool = True,
    optimize_streaming_latency: LatencyQuery = None,
) -> StreamingResponse:
    """Audio bytes as each clause is synthesized (chunked transfer)."""
    service: SpeechService = request.app.state.service
    plan = _plan(request, voice_id, body, output_format, enable_logging, streaming=True)
    run = TakeRun(service, plan, connected=connection_of(request))

    async def audio_bytes() -> AsyncIterator[bytes]:
        # The last two bytes of each piece wait for the next one, so the response's final
        # bytes leave only after the take has been settled (billed and in the history).
        carry = b""
        async for piece in run.pieces():
            data = carry + piece.audio
            if piece.final:
                if data:
                    yield data
                return
            carry, data = data[-2:], data[:-2]
            if data:
                yield data

    return StreamingResponse(
        audio_bytes(),
        media_type=plan.output_format.media_type,
        headers=_take_headers(service, plan),
        background=_stop_if_unfinished(run),
    )


@router.post("/{voice_id}/with-timestamps", dependencies=API_KEY_REQUIRED)
async def convert_with_timestamps(
    request: Request,
    voice_id: str,
    body: TextToSpeechBody,
    output_format: OutputFormatQuery = DEFAULT_OUTPUT_FORMAT,
    enable_logging: bool = True,
    optimize_streaming_latency: LatencyQuery = None,
) -> JSONResponse:
    """The whole take as base64 plus per-character start/end times (seconds from the start)."""
    service: SpeechService = request.app.state.service
    plan = _plan(request, voice_id, body, output_format, enable_logging, streaming=False)
    headers = _take_headers(service, plan)
    pieces = await whole_take(service, plan, request)
    alignment = _timed_alignment(pieces)
    return JSONResponse(
        {
            "audio_base64": base64.b64encode(b"".join(p.audio for p in pieces)).decode(),
            "alignment": alignment,
            "normalized_alignment": alignment,
        },
        headers=headers,
    )


@router.post(
    "/{voice_id}/stream/with-timestamps", dependencies=API_KEY_REQUIRED, response_class=Response
)
async def stream_with_timestamps(
    request: Request,
    voice_id: str,
    body: TextToSpeechBody,
    output_format: OutputFormatQuery = DEFAULT_OUTPUT_FORMAT,
    enable_logging: bool = True,
    optimize_streaming_latency: LatencyQuery = None,
) -> StreamingResponse:
    """One JSON object per line: a clause's audio and its character times (take-relative)."""
    service: SpeechService = request.app.state.service
    plan = _plan(request, voice_id, body, output_format, enable_logging, streaming=True)
    run = TakeRun(service, plan, connected=connection_of(request))

    async def lines() -> AsyncIterator[bytes]:
        async for piece in run.pieces():
            if piece.final and not piece.audio:
                return
            alignment = piece_alignment(piece)
            line = {
                "audio_base64": base64.b64encode(piece.audio).decode(),
                "alignment": alignment,
                "normalized_alignment": alignment,
            }
            yield (json.dumps(line, ensure_ascii=False) + "\n").encode()

    return StreamingResponse(
        lines(),
        media_type="application/json",
        headers=_take_headers(service, plan),
        background=_stop_if_unfinished(run),
    )

"""Text to speech over HTTP: convert, stream, with-timestamps and stream/with-timestamps.

Every route bills a take only if the client is still connected once it has been handed every
byte of the response but the last ones (see ``_takes``): for the whole-file routes, when the
take is ready to be sent; for the streams, before the final bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT
from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.dependencies import ConcurrencyDep, PronunciationDep, TakesDep
from xiwidgets.server.lexicon import Lexicon
from xiwidgets.server.routes._takes import (
    audio_bytes_settled_last,
    body_lexicon,
    streamed_take,
    timed_lines,
    whole_audio,
    whole_timed,
)
from xiwidgets.server.schemas import TextToSpeechBody
from xiwidgets.server.take_service import TakeService
from xiwidgets.server.takes import TakePlan

router = APIRouter(prefix="/v1/text-to-speech", tags=["text-to-speech"])

OutputFormatQuery = Annotated[str, Query(description="codec_samplerate[_bitrate]")]
# The local engines have one latency mode, the fastest; level 4 also turns text normalization
# off unless the body asks for it, as the hosted API documents for that level.
LatencyQuery = Annotated[int | None, Query(ge=0, le=4)]
NO_NORMALIZATION_LATENCY = 4


@dataclass(frozen=True)
class TakeRequest:
    """What the four text-to-speech routes are asked, parsed once."""

    request_id: str
    voice_id: str
    body: TextToSpeechBody
    output_format: str
    enable_logging: bool
    lexicon: Lexicon | None = None
    optimize_streaming_latency: int | None = None

    def plan(self, takes: TakeService, streaming: bool) -> TakePlan:
        """Validate the take and reserve its characters (see ``TakeService.plan_take``)."""
        body = self.body
        normalization = body.apply_text_normalization
        if normalization is None and self.optimize_streaming_latency == NO_NORMALIZATION_LATENCY:
            normalization = "off"
        return takes.plan_take(
            request_id=self.request_id,
            voice_id=self.voice_id,
            text=body.text,
            model_id=body.model_id,
            voice_settings=body.voice_settings.given() if body.voice_settings else None,
            output_format=self.output_format,
            seed=body.seed,
            streaming=streaming,
            enable_logging=self.enable_logging,
            lexicon=self.lexicon,
            text_normalization=normalization,
            language_code=body.language_code,
        )


def take_request(
    request: Request,
    voice_id: str,
    body: TextToSpeechBody,
    dictionaries: PronunciationDep,
    output_format: OutputFormatQuery = DEFAULT_OUTPUT_FORMAT,
    enable_logging: bool = True,
    optimize_streaming_latency: LatencyQuery = None,
) -> TakeRequest:
    """FastAPI dependency: the path, body and query parameters the four routes share.

    The pronunciation dictionaries the body names are looked up here, before any route
    reserves characters: an unknown one is a 404 that costs nothing.
    """
    return TakeRequest(
        request_id=request.state.request_id,
        voice_id=voice_id,
        body=body,
        output_format=output_format,
        enable_logging=enable_logging,
        lexicon=body_lexicon(dictionaries, body.pronunciation_dictionary_locators),
        optimize_streaming_latency=optimize_streaming_latency,
    )


TakeRequestDep = Annotated[TakeRequest, Depends(take_request)]


@router.post("/{voice_id}", dependencies=API_KEY_REQUIRED, response_class=Response)
async def convert(
    request: Request, take: TakeRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> Response:
    """The whole take as one audio file."""
    return await whole_audio(request, take, takes, concurrency)


@router.post("/{voice_id}/stream", dependencies=API_KEY_REQUIRED, response_class=Response)
async def stream(
    request: Request, take: TakeRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> StreamingResponse:
    """Audio bytes as each clause is synthesized (chunked transfer)."""
    return streamed_take(request, take, takes, concurrency, audio_bytes_settled_last)


@router.post("/{voice_id}/with-timestamps", dependencies=API_KEY_REQUIRED)
async def convert_with_timestamps(
    request: Request, take: TakeRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> JSONResponse:
    """The whole take as base64 plus per-character start/end times (seconds from the start)."""
    return await whole_timed(request, take, takes, concurrency)


@router.post(
    "/{voice_id}/stream/with-timestamps", dependencies=API_KEY_REQUIRED, response_class=Response
)
async def stream_with_timestamps(
    request: Request, take: TakeRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> StreamingResponse:
    """One JSON object per line: a clause's audio and its character times (take-relative)."""
    return streamed_take(
        request, take, takes, concurrency, timed_lines, media_type="application/json"
    )

"""Text to dialogue over HTTP: convert, stream, with-timestamps and stream/with-timestamps.

Each request is one take (see ``TakeService.plan_dialogue``): planned, billed and stored by the
same path as a text-to-speech take, so the billing rule of ``_takes`` holds here too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

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
    body_lexicon,
    streamed_take,
    timed_lines,
    whole_audio,
    whole_timed,
)
from xiwidgets.server.schemas import TextToDialogueBody
from xiwidgets.server.take_service import TakeService
from xiwidgets.server.takes import TakePiece, TakePlan

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
    return DialogueRequest(
        request_id=request.state.request_id,
        body=body,
        output_format=output_format,
        enable_logging=enable_logging,
        lexicon=body_lexicon(dictionaries, body.pronunciation_dictionary_locators),
    )


DialogueRequestDep = Annotated[DialogueRequest, Depends(dialogue_request)]


@router.post("", dependencies=API_KEY_REQUIRED, response_class=Response)
async def convert(
    request: Request, dialogue: DialogueRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> Response:
    """The whole dialogue as one audio file."""
    return await whole_audio(request, dialogue, takes, concurrency)


@router.post("/stream", dependencies=API_KEY_REQUIRED, response_class=Response)
async def stream(
    request: Request, dialogue: DialogueRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> StreamingResponse:
    """Audio bytes as each clause of each line is synthesized (chunked transfer)."""
    return streamed_take(request, dialogue, takes, concurrency, audio_bytes_settled_last)


@router.post("/with-timestamps", dependencies=API_KEY_REQUIRED)
async def convert_with_timestamps(
    request: Request, dialogue: DialogueRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> JSONResponse:
    """The whole dialogue as base64, its character times and one voice segment per line."""
    return await whole_timed(request, dialogue, takes, concurrency, _voices_of_take)


def _voices_of_take(plan: TakePlan, alignment: dict[str, list[Any]] | None) -> dict[str, Any]:
    return {"voice_segments": voice_segments(plan.lines, alignment) if alignment else []}


def _timed_lines_with_voices(run: TakeRun) -> AsyncIterator[bytes]:
    """The timed lines of text to speech, each with the voice segments of its piece."""

    def voices_of(piece: TakePiece) -> dict[str, Any]:
        return {
            "voice_segments": piece_voice_segments(run.plan.lines, piece, run.plan.spoken_text)
        }

    return timed_lines(run, voices_of)


@router.post("/stream/with-timestamps", dependencies=API_KEY_REQUIRED, response_class=Response)
async def stream_with_timestamps(
    request: Request, dialogue: DialogueRequestDep, takes: TakesDep, concurrency: ConcurrencyDep
) -> StreamingResponse:
    """One JSON object per line of output: audio, character times and the voice speaking."""
    return streamed_take(
        request, dialogue, takes, concurrency, _timed_lines_with_voices,
        media_type="application/json",
    )

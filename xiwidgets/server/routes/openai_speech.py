"""OpenAI-compatible speech: ``POST /v1/audio/speech``, so OpenAI's clients use local voices.

The key is the server's own, sent as ``Authorization: Bearer`` (how the ``openai`` package
sends it) or as ``xi-api-key``; Bearer is accepted on this route only, the one an OpenAI
client calls. Errors come in OpenAI's shape (``{"error": {message, type, param, code}}``),
which OpenAI's clients read their messages from. A take made here is planned, billed and
kept in the history by the take service like any other (``source`` TTS).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError

from xiwidgets.server.audio import StreamEncoder, make_container_encoder
from xiwidgets.server.auth import key_is_accepted
from xiwidgets.server.dependencies import ConcurrencyDep, TakesDep, VoicesDep, services
from xiwidgets.server.domain_errors import DomainError, QuotaExceededError
from xiwidgets.server.error_responses import status_of
from xiwidgets.server.openai_speech import (
    SPEECH_FORMATS,
    SPEECH_SAMPLE_RATE,
    OpenAIError,
    SpeechBody,
    check_speed,
    instruction_settings,
    local_model_id,
    local_voice,
)
from xiwidgets.server.routes._takes import (
    TakeRun,
    audio_bytes_settled_last,
    connection_of,
    stop_if_unfinished,
    take_headers,
    whole_take,
)
from xiwidgets.server.takes import TakePiece, TakePlan
from xiwidgets.wav import wav_bytes

router = APIRouter(tags=["openai-compatible"])


def _key_of(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("xi-api-key")


async def _body(request: Request) -> SpeechBody:
    try:
        raw = await request.json()
    except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
        raise OpenAIError(400, "The request body is not valid JSON.", "invalid_json") from None
    try:
        return SpeechBody.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(part) for part in first["loc"]) or None
        raise OpenAIError(400, f"{param}: {first['msg']}", "invalid_value", param) from None


def _transcoder(codec: str) -> Callable[[TakePiece], bytes]:
    encoder: StreamEncoder = make_container_encoder(codec, SPEECH_SAMPLE_RATE, SPEECH_SAMPLE_RATE)

    def transcode(piece: TakePiece) -> bytes:
        data = encoder.encode(np.frombuffer(piece.audio, dtype="<i2"))
        return data + encoder.finish() if piece.final else data

    return transcode


def _sse(run: TakeRun, characters: int) -> AsyncIterator[bytes]:
    async def events() -> AsyncIterator[bytes]:
        async for piece in run.pieces():
            if piece.audio:
                delta = {"type": "speech.audio.delta",
                         "audio": base64.b64encode(piece.audio).decode()}
                yield f"data: {json.dumps(delta)}\n\n".encode()
            if piece.final:
                # Characters stand in for tokens: what the take was billed.
                usage = {"input_tokens": characters, "output_tokens": 0,
                         "total_tokens": characters}
                done = {"type": "speech.audio.done", "usage": usage}
                yield f"data: {json.dumps(done)}\n\n".encode()

    return events()


@router.post("/v1/audio/speech", response_class=Response)
async def speech(
    request: Request, takes: TakesDep, registry: VoicesDep, concurrency: ConcurrencyDep
) -> Response:
    """Speak ``input`` with a voice named the OpenAI way (or a local voice id or name)."""
    try:
        if not key_is_accepted(services(request), _key_of(request)):
            raise OpenAIError(
                401,
                "Invalid API key: send one of the server's keys as 'Authorization: Bearer "
                "<key>'.",
                "invalid_api_key",
            )
        body = await _body(request)
        model_id = local_model_id(body.model)
        voice = local_voice(registry, body.voice)
        check_speed(body.speed)
        made = SPEECH_FORMATS[body.response_format]
        streaming = body.stream_format == "sse" or not made.whole_file
        plan = takes.plan_take(
            request_id=request.state.request_id,
            voice_id=voice.voice_id,
            text=body.input,
            model_id=model_id,
            voice_settings=_voice_settings(body),
            output_format=made.take_format,
            seed=None,
            streaming=streaming,
            # OpenAI's models always read numbers, money and dates as words; "auto" would
            # not for tts-1's local model (eleven_flash_v2_5 normalizes only when asked).
            text_normalization="on",
        )
    except QuotaExceededError as exc:
        error = OpenAIError(429, exc.message, "insufficient_quota")  # as OpenAI answers it
        return JSONResponse(error.body(), status_code=error.status_code)
    except DomainError as exc:
        error = OpenAIError(status_of(exc), exc.message, exc.status)
        return JSONResponse(error.body(), status_code=error.status_code)
    except OpenAIError as error:
        return JSONResponse(error.body(), status_code=error.status_code)
    headers = take_headers(concurrency, plan)
    if body.stream_format == "sse":
        run = TakeRun(takes, plan, connected=connection_of(request))
        return StreamingResponse(_sse(run, plan.character_cost), media_type="text/event-stream",
                                 headers=headers, background=stop_if_unfinished(run))
    if made.whole_file:
        return await _whole_wav(request, takes, plan, headers)
    run = TakeRun(takes, plan, connected=connection_of(request))
    transform = _transcoder(made.container_codec) if made.container_codec else None
    return StreamingResponse(audio_bytes_settled_last(run, transform), media_type=made.media_type,
                             headers=headers, background=stop_if_unfinished(run))


def _voice_settings(body: SpeechBody) -> dict[str, float] | None:
    """The take's voice settings: what ``instructions`` ask for, an explicit speed first."""
    settings = instruction_settings(body.instructions)
    if body.speed != 1.0:
        settings["speed"] = body.speed
    return settings or None


async def _whole_wav(
    request: Request, takes: TakesDep, plan: TakePlan, headers: dict[str, str]
) -> Response:
    pieces = await whole_take(takes, plan, request)
    pcm = b"".join(piece.audio for piece in pieces)
    return Response(wav_bytes(pcm, SPEECH_SAMPLE_RATE), media_type="audio/wav", headers=headers)

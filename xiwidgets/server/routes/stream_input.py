"""WebSocket ``/v1/text-to-speech/{voice_id}/stream-input``: text in as it is written, audio out.

Text is buffered and synthesized when the buffer passes the next length of
``chunk_length_schedule`` (or on ``flush`` / ``try_trigger_generation`` / end of input). Audio
messages carry camelCase alignment in milliseconds relative to the message's own audio, as the
hosted API does. Errors are a JSON frame ``{"message", "error", "code": 1008}`` followed by a
close with code 1008. Websocket takes are not stored in the history.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT
from xiwidgets.server.auth import key_is_accepted
from xiwidgets.server.errors import APIError, UnprocessableParameterError
from xiwidgets.server.routes._takes import TakeRun
from xiwidgets.server.schemas import MAX_SEED, VoiceSettingsBody
from xiwidgets.server.service import SpeechService
from xiwidgets.server.takes import (
    SharedEncoder,
    TakePiece,
)

router = APIRouter(tags=["text-to-speech"])

DEFAULT_SCHEDULE = (120, 160, 250, 290)
# try_trigger_generation only fires once this much text is waiting.
MIN_TRIGGER_CHARS = 50
_SENTENCE_END = re.compile(r"[.!?…。！？]['\"’”)\]]*\s*$")


class SessionError(Exception):
    """Ends a session with an error frame and close code 1008."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


@dataclass
class SessionOptions:
    """Connection query parameters (reference §6.1)."""

    model_id: str | None
    output_format: str
    inactivity_timeout: float
    auto_mode: bool
    seed: int | None
    language_code: str | None

    @classmethod
    def from_query(cls, query: Any, max_timeout: int, default_timeout: int) -> SessionOptions:
        def flag(name: str) -> bool:
            return str(query.get(name, "false")).lower() == "true"

        def integer(name: str, low: int, high: int) -> int | None:
            raw = query.get(name)
            if raw in (None, ""):
                return None
            if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
                raise SessionError("invalid_request", f"{name} must be an integer {low}–{high}.")
            return int(raw)

        timeout = integer("inactivity_timeout", 1, max_timeout)
        return cls(
            model_id=query.get("model_id") or None,
            output_format=query.get("output_format") or DEFAULT_OUTPUT_FORMAT,
            inactivity_timeout=float(timeout or default_timeout),
            auto_mode=flag("auto_mode"),
            seed=integer("seed", 0, MAX_SEED),
            language_code=query.get("language_code") or None,
        )


@dataclass
class TextBuffer:
    """Text waiting for synthesis, released by the chunk length schedule."""

    schedule: tuple[int, ...] = DEFAULT_SCHEDULE
    text: str = ""
    generations: int = 0

    def threshold(self) -> int:
        return self.schedule[min(self.generations, len(self.schedule) - 1)]

    def take(self, everything: bool) -> str:
        """Remove and return what should be spoken now (up to the last word boundary)."""
        if everything:
            text, self.text = self.text, ""
        else:
            cut = max(self.text.rfind(" "), self.text.rfind("\n")) + 1
            if cut <= 0:
                cut = len(self.text)
            text, self.text = self.text[:cut], self.text[cut:]
        if text.strip():
            self.generations += 1
        return text


def _parse_schedule(config: Any) -> tuple[int, ...] | None:
    if not isinstance(config, dict) or config.get("chunk_length_schedule") is None:
        return None
    schedule = config["chunk_length_schedule"]
    if (
        not isinstance(schedule, list)
        or not schedule
        or not all(isinstance(n, int) and 50 <= n <= 500 for n in schedule)
    ):
        raise SessionError(
            "invalid_request", "chunk_length_schedule must be a list of integers 50–500."
        )
    return tuple(schedule)


def _alignment_ms(piece: TakePiece) -> dict | None:
    if piece.chunk is None:
        return None
    chunk = piece.chunk
    return {
        "chars": list(chunk.text),
        "charStartTimesMs": [round(start * 1000) for start in chunk.char_starts],
        "charsDurationsMs": [
            max(0, round((end - start) * 1000))
            for start, end in zip(chunk.char_starts, chunk.char_ends, strict=False)
        ],
    }


class Session:
    """One stream-input connection."""

    def __init__(self, websocket: WebSocket, voice_id: str) -> None:
        self.websocket = websocket
        self.voice_id = voice_id
        self.service: SpeechService = websocket.app.state.service
        config = websocket.app.state.config
        self.options = SessionOptions.from_query(
            websocket.query_params,
            config.max_inactivity_timeout_s,
            config.default_inactivity_timeout_s,
        )
        self.max_message_bytes = config.websocket_max_message_bytes
        self.buffer = TextBuffer()
        self.voice_settings: dict[str, Any] | None = None
        # One encoder for the whole session: the audio of all messages is one continuous stream.
        self.encoder = SharedEncoder()
        self.authorized = key_is_accepted(websocket.app.state, websocket.headers.get("xi-api-key"))

    def check_voice_model_format(self) -> None:
        try:
            self.service.voice(self.voice_id)
            self.service.model(self.options.model_id, websocket=True)
            self.service.parse_output_format(self.options.output_format, True, ["query"])
        except APIError as exc:
            raise SessionError(exc.status, exc.message) from None
        except UnprocessableParameterError as exc:
            raise SessionError("invalid_output_format", exc.message) from None

    async def receive(self) -> dict[str, Any]:
        try:
            raw = await asyncio.wait_for(
                self.websocket.receive_text(), timeout=self.options.inactivity_timeout
            )
        except asyncio.TimeoutError:
            raise SessionError(
                "input_timeout_exceeded",
                f"No text received for {self.options.inactivity_timeout:g} seconds; send "
                '{"text": " "} to keep the connection open or {"text": ""} to finish.',
            ) from None
        if len(raw) > self.max_message_bytes:
            raise SessionError("message_too_large", "A message may hold at most 1 MB of text.")
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            raise SessionError("invalid_request", "Messages must be JSON objects.") from None
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            raise SessionError(
                "invalid_request", 'Every message needs a "text" string (" " to start, "" to end).'
            )
        return message

    def apply_first_message(self, message: dict[str, Any]) -> None:
        if not self.authorized:
            key = message.get("xi_api_key") or message.get("xi-api-key")
            self.authorized = key_is_accepted(self.websocket.app.state, key)
        if not self.authorized:
            raise SessionError(
                "invalid_api_key",
                "Invalid API key: send it in the 'xi-api-key' header or as 'xi_api_key' in the "
                "first message.",
            )
        self.apply_settings(message)

    def apply_settings(self, message: dict[str, Any]) -> None:
        if message.get("voice_settings") is not None:
            try:
                given = VoiceSettingsBody.model_validate(message["voice_settings"]).given()
            except ValidationError as exc:
                problem = exc.errors()[0]
                where = ".".join(str(part) for part in problem["loc"])
                raise SessionError(
                    "invalid_request", f"voice_settings.{where}: {problem['msg']}"
                ) from None
            if self.voice_settings is not None and given != self.voice_settings:
                raise SessionError(
                    "invalid_request", "voice_settings may only be set in the first message."
                )
            self.voice_settings = given
        config = message.get("generation_config") or message.get("generator_config")
        schedule = _parse_schedule(config)
        if schedule:
            self.buffer.schedule = schedule

    def should_generate(self, message: dict[str, Any]) -> bool:
        pending = len(self.buffer.text)
        if message.get("flush"):
            return True
        if self.options.auto_mode:
            return bool(_SENTENCE_END.search(self.buffer.text))
        if message.get("try_trigger_generation") and pending >= MIN_TRIGGER_CHARS:
            return True
        return pending >= self.buffer.threshold()

    async def generate(self, everything: bool) -> None:
        text = self.buffer.take(everything)
        if not text.strip():
            return
        try:
            plan = self.service.plan_take(
                request_id=self.websocket.scope["state"]["request_id"],
                voice_id=self.voice_id,
                text=text,
                model_id=self.options.model_id,
                voice_settings=self.voice_settings,
                output_format=self.options.output_format,
                seed=self.options.seed,
                streaming=True,
                enable_logging=False,
                websocket=True,
            )
        except APIError as exc:
            if exc.status == "invalid_text":
                return  # nothing speakable in this piece (emoji, zero-width characters)
            raise SessionError(exc.status, exc.message) from None
        async for piece in TakeRun(self.service, plan, self.encoder).pieces():
            if piece.audio or piece.chunk is not None:
                await self.send_audio(piece.audio, _alignment_ms(piece))

    async def send_audio(self, audio: bytes, alignment: dict | None) -> None:
        await self.websocket.send_json(
            {
                "audio": base64.b64encode(audio).decode(),
                "isFinal": False,
                "normalizedAlignment": alignment,
                "alignment": alignment,
            }
        )

    async def run(self) -> None:
        # Without a key in the headers, the key may come in the first message: only then
        # is the caller told whether the voice exists.
        checked = self.authorized
        if checked:
            self.check_voice_model_format()
        first = True
        while True:
            message = await self.receive()
            if first:
                self.apply_first_message(message)
                if not checked:
                    self.check_voice_model_format()
                first = False
                if message["text"].strip() == "":
                    continue
            else:
                self.apply_settings(message)
            if message["text"] == "":
                await self.generate(everything=True)
                tail = self.encoder.finish()
                if tail:
                    await self.send_audio(tail, None)
                await self.websocket.send_json({"isFinal": True})
                await self.websocket.close(code=1000)
                return
            self.buffer.text += message["text"]
            if self.should_generate(message):
                await self.generate(everything=bool(message.get("flush")))


@router.websocket("/v1/text-to-speech/{voice_id}/stream-input")
async def stream_input(websocket: WebSocket, voice_id: str) -> None:
    """Speak text sent over a websocket while it is being written."""
    service: SpeechService = websocket.app.state.service
    await websocket.accept()
    if not service.open_websocket_session():
        await _fail(
            websocket,
            SessionError(
                "too_many_concurrent_requests",
                "Too many open stream-input sessions on this server; close one and retry.",
            ),
        )
        return
    try:
        session = Session(websocket, voice_id)
        await session.run()
    except SessionError as exc:
        await _fail(websocket, exc)
    except WebSocketDisconnect:
        pass
    finally:
        service.close_websocket_session()


async def _fail(websocket: WebSocket, error: SessionError) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json({"message": error.message, "error": error.error, "code": 1008})
        await websocket.close(code=1008, reason=error.message[:120])

"""WebSocket ``/v1/text-to-speech/{voice_id}/multi-stream-input``: several streams on one socket.

Each context (``context_id``; a default one when it is absent) is a stream-input stream of its
own — its buffer, voice settings, generation schedule, pronunciation dictionaries and encoder —
opened by its first message. ``flush`` speaks what the context holds; ``close_context`` ends it
(text it still holds and was not asked to flush is dropped) with ``{"isFinal": true,
"contextId": ...}``; ``close_socket`` speaks what every context holds, ends each, and closes the
socket with 1000. A message ``{"text": "", "context_id": ...}`` keeps that context alive. Audio
messages carry ``contextId``. At most ``MAX_CONTEXTS`` are open at once (the hosted limit; one
more is refused with ``max_active_conversations``). A context that hears nothing for
``inactivity_timeout`` seconds is closed; a socket with no context that hears nothing for that
long is closed with ``input_timeout_exceeded``.

Each generation is billed as it is spoken; with ``enable_logging`` (the default) each context
becomes one history item when it ends, holding everything it said. The socket's hardening is
stream-input's (``Session``): the first-message deadline, authentication before the session
counts, the bounded read-ahead and message size, and the per-context buffer bounded by the
model's limit.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, WebSocket

from xiwidgets.server.dependencies import services
from xiwidgets.server.routes._read_ahead import ReadAhead
from xiwidgets.server.routes.stream_input import (
    READ_AHEAD_GENERATIONS,
    Session,
    SessionError,
    TextStream,
    check_text,
    decode_message,
    serve_session,
)
from xiwidgets.server.services import Services

router = APIRouter(tags=["text-to-speech"])

# The hosted API's limit of contexts open at once on one socket.
MAX_CONTEXTS = 5
DEFAULT_CONTEXT = "default"
MAX_CONTEXT_ID_CHARS = 256


def _context_id(message: dict[str, Any]) -> str:
    given = message.get("context_id", message.get("contextId"))
    if given is None:
        return DEFAULT_CONTEXT
    if not isinstance(given, str) or not given or len(given) > MAX_CONTEXT_ID_CHARS:
        raise SessionError(
            "invalid_request",
            f"context_id must be a string of 1–{MAX_CONTEXT_ID_CHARS} characters.",
        )
    check_text(given)  # valid Unicode: it is sent back in every message of the context
    return given


class MultiSession(Session):
    """One multi-stream-input connection: the socket's checks, and up to five streams."""

    def __init__(self, websocket: WebSocket, voice_id: str, running: Services) -> None:
        super().__init__(websocket, voice_id, running)
        self.contexts: dict[str, TextStream] = {}
        self.deadlines: dict[str, float] = {}
        self.enable_logging = (
            str(websocket.query_params.get("enable_logging", "true")).lower() != "false"
        )

    async def read(self) -> tuple[dict[str, Any], int]:
        """The next message: its ``text`` may be absent for control messages."""
        raw = await self.read_raw()
        message = decode_message(raw, self.config.websocket_max_message_bytes)
        if message.get("close_socket") is not True:
            message["context"] = _context_id(message)
            text = message.get("text")
            message["text"] = "" if text is None else check_text(text)
        return message, len(raw)

    def _timeout_message(self, timeout: float, first: bool) -> str:
        if first:
            return super()._timeout_message(timeout, first)
        return (
            f"No message for {timeout:g} seconds and no context open; open a context with "
            '{"text": " ", "context_id": ...} or end with {"close_socket": true}.'
        )

    async def open_context(self, context_id: str, message: dict[str, Any]) -> TextStream:
        if len(self.contexts) >= MAX_CONTEXTS:
            raise SessionError(
                "max_active_conversations",
                f"Maximum simultaneous contexts per WebSocket connection exceeded "
                f"({MAX_CONTEXTS}). Please close an existing context before opening a new one.",
            )

        async def send(payload: dict[str, Any]) -> None:
            # AudioOutputMulti: no isFinal (the context's final message says it), no null
            # alignment (left out instead), and the context's id.
            tagged = {k: v for k, v in payload.items() if k != "isFinal" and v is not None}
            await self.websocket.send_json({**tagged, "contextId": context_id})

        stream = TextStream(
            self.running,
            self.voice_id,
            self.model,
            self.options,
            self.request_id,
            send,
            enable_logging=self.enable_logging,
        )
        await stream.load_rules(message)
        stream.apply_settings(message)
        self.contexts[context_id] = stream
        return stream

    async def close_context(self, context_id: str, speak_rest: bool) -> None:
        """End a context: its last audio, its final message, its history item."""
        stream = self.contexts.pop(context_id)
        self.deadlines.pop(context_id, None)
        if speak_rest:
            await stream.speak_all()
        tail = stream.encoder.finish()
        if tail:
            await stream.send_audio(tail, None)
        await self.websocket.send_json({"isFinal": True, "contextId": context_id})
        await self._keep(stream)

    async def _keep(self, stream: TextStream) -> None:
        """The context's history item: what it said, as one take (when logging is on)."""
        if self.enable_logging:
            await asyncio.to_thread(
                self.running.takes.record_stream,
                stream.spoken,
                bytes(stream.encoder.history_audio),
                stream.alignment.alignments(),
            )

    async def keep_open_contexts(self) -> None:
        """The socket ended with contexts still open (the client went away, an error): what
        they said was billed and sent, so it is kept in the history like a closed context's."""
        for context_id in list(self.contexts):
            stream = self.contexts.pop(context_id)
            stream.encoder.finish()  # the history file's last frames; the client is gone
            await self._keep(stream)

    async def handle(self, message: dict[str, Any]) -> bool:
        """Act on one message; ``True`` once the socket is to close."""
        if message.get("close_socket") is True:
            for context_id in list(self.contexts):
                await self.close_context(context_id, speak_rest=True)
            await self.websocket.close(code=1000)
            return True
        context_id = message["context"]
        stream = self.contexts.get(context_id)
        if message.get("close_context") is True:
            if stream is not None:
                await self.close_context(context_id, speak_rest=False)
            return False
        if stream is None:
            stream = await self.open_context(context_id, message)
        else:
            stream.apply_settings(message)
        self._touch(context_id)
        if message["text"].strip() or message.get("flush"):
            await stream.add_text(message)
            self._touch(context_id)  # speaking is activity: the clock starts after it
        return False

    def _touch(self, context_id: str) -> None:
        self.deadlines[context_id] = time.monotonic() + self.options.inactivity_timeout

    async def next_message(self, inbox: ReadAhead) -> dict[str, Any]:
        """The next message; contexts whose time runs out meanwhile are closed.

        Messages that arrived while a context was speaking come first: a keep-alive sent in
        time counts even when it is read late.
        """
        while True:
            if not self.deadlines or inbox.has_waiting():
                return await self.receive_next(inbox)
            context_id, deadline = min(self.deadlines.items(), key=lambda item: item[1])
            try:
                return await inbox.get(max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                await self.close_context(context_id, speak_rest=False)

    async def run(self) -> None:
        first = await self.open()
        if await self.handle(first):
            return
        inbox = ReadAhead(
            self.read,
            READ_AHEAD_GENERATIONS * self.model.max_characters,
            is_last=lambda message: message.get("close_socket") is True,
        )
        inbox.start()
        try:
            while not await self.handle(await self.next_message(inbox)):
                pass
        finally:
            await inbox.stop()
            await self.keep_open_contexts()


@router.websocket("/v1/text-to-speech/{voice_id}/multi-stream-input")
async def multi_stream_input(
    websocket: WebSocket, voice_id: str, running: Annotated[Services, Depends(services)]
) -> None:
    """Speak several independent streams of text, each in its own context, on one socket."""
    await websocket.accept()
    await serve_session(websocket, MultiSession(websocket, voice_id, running))

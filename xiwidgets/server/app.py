"""The FastAPI application: routers, error handlers, browser guard, CORS, request ids, limits."""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xiwidgets.server.config import ServerConfig
from xiwidgets.server.domain_errors import DomainError
from xiwidgets.server.error_responses import handle_domain_error
from xiwidgets.server.errors import (
    APIError,
    UnprocessableParameterError,
    handle_api_error,
    handle_client_disconnect,
    handle_http_exception,
    handle_request_validation,
    handle_unexpected,
    handle_unprocessable,
)
from xiwidgets.server.guard import BrowserGuardMiddleware
from xiwidgets.server.redaction import install_log_redaction

logger = logging.getLogger("xiwidgets.server")

# Headers the pages of allowed origins may read (the hosted API exposes the same list).
EXPOSED_HEADERS = [
    "request-id",
    "history-item-id",
    "character-cost",
    "current-concurrent-requests",
    "maximum-concurrent-requests",
]
# A chunked body is kept in memory up to this size, then in a temporary file; it is handed to
# the app in pieces of this size.
_BODY_IN_MEMORY_BYTES = 1 << 20
_REPLAY_PIECE_BYTES = 64 * 1024


class RequestIdMiddleware:
    """Give every request an id (``scope["state"]["request_id"]``) and a ``request-id`` header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(10)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != b"request-id"]
                headers.append((b"request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodySizeLimitMiddleware:
    """Refuse request bodies larger than the configured limits with a readable 413.

    JSON bodies get ``max_json_body_bytes``; multipart uploads get the total upload limit (the
    per-file limit is checked by the voice routes). A body without ``Content-Length`` (chunked)
    is read here up to the limit and then handed on, because an error raised while the
    framework reads the body would turn into a vague 400; it is kept in a file past
    ``_BODY_IN_MEMORY_BYTES`` (as the framework keeps an upload), so a chunked upload, sent
    before any key is checked, holds no more memory than one sent with its length.
    """

    def __init__(self, app: ASGIApp, config: ServerConfig) -> None:
        self.app = app
        self.config = config

    def _limit_for(self, scope: Scope) -> int:
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        if content_type.startswith(b"multipart/"):
            return self.config.max_upload_total_bytes + 1_000_000  # room for part headers
        return self.config.max_json_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                await self._refuse(scope, send, limit)
                return
            await self.app(scope, receive, send)
            return
        with tempfile.SpooledTemporaryFile(_BODY_IN_MEMORY_BYTES) as body:
            received = 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away before the end of its body: nobody to answer
                piece = message.get("body", b"")
                received += len(piece)
                if received > limit:
                    await self._refuse(scope, send, limit)
                    return
                if received > _BODY_IN_MEMORY_BYTES:
                    await asyncio.to_thread(body.write, piece)
                else:
                    body.write(piece)
                if not message.get("more_body", False):
                    break
            body.seek(0)
            await self.app(scope, _replay(body, received, receive), send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        error = APIError(
            413,
            "payload_too_large",
            f"The request body is larger than this server's limit of {limit:,} bytes.",
        )
        response = await handle_api_error(None, error)  # type: ignore[arg-type]
        await response(scope, _empty_receive, send)


def _replay(body: IO[bytes], size: int, receive: Receive) -> Receive:
    """A ``receive`` that gives the kept body back in pieces, then what the client sends."""
    handed = 0
    started = False

    async def replay() -> Message:
        nonlocal handed, started
        if started and handed >= size:
            return await receive()
        started = True
        piece = (body.read(_REPLAY_PIECE_BYTES) if size <= _BODY_IN_MEMORY_BYTES
                 else await asyncio.to_thread(body.read, _REPLAY_PIECE_BYTES))
        handed += len(piece)
        return {"type": "http.request", "body": piece, "more_body": handed < size}

    return replay


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


def create_app(config: ServerConfig | None = None, **options: object) -> FastAPI:
    """Build the local server's ASGI application.

    Parameters
    ----------
    config : ServerConfig or None
        Settings; when ``None`` they are built from ``options``.
    **options
        Fields of :class:`ServerConfig` (``data_dir=``, ``api_keys=``, ...).

    Returns
    -------
    fastapi.FastAPI
        The app; its lifespan opens the store and loads the voices.
    """
    from xiwidgets.server.routes import (
        dialogue,
        forced_alignment,
        history,
        models,
        multi_stream_input,
        openai_speech,
        pronunciation,
        speech_to_text,
        stream_input,
        tts,
        unsupported,
        user,
        voice_blends,
        voice_design,
        voices,
    )
    from xiwidgets.server.services import Services
    from xiwidgets.server.store import Store

    config = config or ServerConfig.from_options(**options)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        uninstall_redaction = install_log_redaction(config.api_keys)
        store = Store(config.data_dir, config.character_limit, config.api_keys)
        files_removed, rows_removed = store.remove_orphans()
        if files_removed or rows_removed:
            logger.warning(
                "removed %d orphan audio file(s) and %d history row(s) without audio",
                files_removed,
                rows_removed,
            )
        samples_removed = store.remove_orphan_samples()
        if samples_removed:
            logger.warning("removed %d orphan voice sample file(s)", samples_removed)
        services = Services.build(config, store)
        try:
            if config.warm_up:
                services.warm_up()
            # Read only through xiwidgets.server.dependencies.
            app.state.services = services
            yield
        finally:
            services.close()
            store.close()
            uninstall_redaction()

    app = FastAPI(
        title="xiwidgets local voice server",
        description="The ElevenLabs text-to-speech API, offline, with local voices.",
        version="1.0",
        lifespan=lifespan,
        exception_handlers={
            APIError: handle_api_error,
            DomainError: handle_domain_error,
            HTTPException: handle_http_exception,
            UnprocessableParameterError: handle_unprocessable,
            RequestValidationError: handle_request_validation,
            ClientDisconnect: handle_client_disconnect,
            Exception: handle_unexpected,
        },
    )
    for module in (
        voices,
        voice_blends,
        voice_design,
        models,
        tts,
        stream_input,
        multi_stream_input,
        dialogue,
        history,
        user,
        pronunciation,
        forced_alignment,
        speech_to_text,
        openai_speech,
        unsupported,  # last: the hosted-only prefixes must not shadow a route the server has
    ):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimitMiddleware, config=config)
    if config.allowed_origins:
        # Only the origins the user named; every other page is refused by the guard first.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.allowed_origins),
            allow_methods=["POST", "PATCH", "OPTIONS", "DELETE", "GET", "PUT"],
            allow_headers=["*"],
            expose_headers=EXPOSED_HEADERS,
        )
    app.add_middleware(BrowserGuardMiddleware, config=config)
    app.add_middleware(RequestIdMiddleware)
    return app

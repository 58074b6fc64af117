"""The WebSocket ``stream-input`` endpoint: send text as it is produced, receive audio as it comes.

Text is sent from a background thread so that audio for the first sentences is yielded while
later text is still being produced (for example by a language model).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from xiwidgets.client import endpoints
from xiwidgets.client.errors import (
    AuthenticationError,
    ConnectionFailed,
    ErrorFields,
    NotFound,
    QuotaExceeded,
    XIError,
    connection_reason,
    one_line,
)
from xiwidgets.client.transport import Transport
from xiwidgets.client.types import Alignment, RealtimeChunk

logger = logging.getLogger("xiwidgets.client.websocket")


class _RedactingLogger(logging.LoggerAdapter[logging.Logger]):
    """Scrubs the key from every record: websockets logs upgrade headers and frames at DEBUG."""

    def __init__(self, base: logging.Logger, scrub: Callable[[str], str]) -> None:
        super().__init__(base, {})
        self._scrub = scrub

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        text = str(msg) % args if args else str(msg)
        self.logger.log(level, "%s", self._scrub(text), **kwargs)


def websocket_url(base_url: str, path: str, params: Mapping[str, Any]) -> str:
    """``ws://`` for an ``http://`` base URL, ``wss://`` for ``https://``, with query params."""
    scheme, _, rest = base_url.partition("://")
    ws_scheme = "wss" if scheme == "https" else "ws"
    query = urlencode({k: _query_value(v) for k, v in params.items() if v is not None})
    return f"{ws_scheme}://{rest}{path}" + (f"?{query}" if query else "")


def _query_value(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def _handshake_error(exc: InvalidStatus, transport: Transport) -> XIError:
    """Turn a refused upgrade (HTTP 4xx/5xx) into the same error the HTTP endpoints raise."""
    response = requests.Response()
    response.status_code = exc.response.status_code
    response.reason = exc.response.reason_phrase
    response.headers.update(dict(exc.response.headers.raw_items()))
    response._content = bytes(exc.response.body or b"")
    return transport.error(response)


def frame_error(code: str | None, message: str, close_code: int | None,
                scrub: Callable[[str], str]) -> XIError:
    """The :class:`XIError` for a WebSocket error frame or abnormal close."""
    message = scrub(one_line(message)).rstrip(".") or "no reason given"
    fields: ErrorFields = {"status_code": close_code, "code": code, "message": message}
    tag = f" ({code})" if code else ""
    if code == "quota_exceeded":
        return QuotaExceeded(f"Your character quota is used up{tag}: {message}.", **fields)
    if code in ("invalid_api_key", "unauthorized", "authentication_error"):
        return AuthenticationError(f"The API key was rejected{tag}: {message}. "
                                   "Set ELEVENLABS_API_KEY or pass api_key=... to the client.",
                                   **fields)
    if code and code.endswith("not_found"):
        hint = (" See client.voices.list() for the voices you can use."
                if code == "voice_not_found" else "")
        return NotFound(f"Not found{tag}: {message}.{hint}", **fields)
    return XIError(f"The realtime stream stopped{tag}: {message} (close code {close_code}).",
                   **fields)


def _text_messages(text_chunks: Iterable[str] | str) -> Iterator[dict[str, Any]]:
    if isinstance(text_chunks, str):
        text_chunks = [text_chunks]
    for text in text_chunks:
        if text and text.strip():
            # The endpoint expects each piece to end with a space so words are not glued.
            yield {"text": text if text.endswith(" ") else text + " ",
                   "try_trigger_generation": True}
    yield {"text": ""}


class _Sender(threading.Thread):
    """Sends the text messages; keeps the exception if the caller's iterator fails."""

    def __init__(self, ws: ClientConnection, text_chunks: Iterable[str] | str) -> None:
        super().__init__(name="xiwidgets-realtime-sender", daemon=True)
        self._ws = ws
        self._text_chunks = text_chunks
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for message in _text_messages(self._text_chunks):
                self._ws.send(json.dumps(message))
        except ConnectionClosed:
            pass  # the receiver reports why the socket closed
        except BaseException as exc:
            self.error = exc
            self._ws.close(1011, "text iterator failed")


def open_websocket(transport: Transport, path: str, params: Mapping[str, Any],
                   open_timeout: float) -> ClientConnection:
    """Open the socket of ``path`` with the transport's key, its log lines scrubbed of it.

    Raises
    ------
    xiwidgets.client.errors.XIError
        The upgrade was refused (as the HTTP endpoints raise it) or the socket could not be
        opened (:class:`ConnectionFailed`).
    """
    url = websocket_url(transport.base_url, path, params)
    try:
        return connect(url, additional_headers=transport.websocket_headers(), max_size=None,
                       open_timeout=open_timeout, compression=None,
                       logger=_RedactingLogger(logger, transport.scrub))
    except InvalidStatus as exc:
        raise _handshake_error(exc, transport) from None
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        reason = transport.scrub(connection_reason(exc)) or type(exc).__name__
        raise ConnectionFailed(f"Could not open the realtime stream at {transport.base_url} "
                               f"({reason}). Check the network connection and the base_url.",
                               message=reason) from None


def socket_messages(ws: ClientConnection, scrub: Callable[[str], str],
                    error_key: str) -> Iterator[dict[str, Any]]:
    """The JSON messages that arrive, until the socket closes normally (1000, 1001).

    A message with ``error_key`` and no ``audio`` is an error frame: it is kept, and becomes
    the :class:`XIError` raised when the socket then closes; an abnormal close raises too.
    """
    error_frame: Mapping[str, Any] | None = None
    while True:
        try:
            raw = ws.recv()
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            if error_frame is not None:
                raise frame_error(error_frame.get("error"), str(error_frame.get("message", "")),
                                  code, scrub) from None
            if code in (1000, 1001):
                return
            reason = closed.rcvd.reason if closed.rcvd else "connection lost"
            raise frame_error(None, reason, code, scrub) from None
        message: dict[str, Any] = json.loads(raw)
        if error_key in message and "audio" not in message:
            error_frame = message
            continue
        yield message


def realtime_chunks(transport: Transport, voice_id: str, text_chunks: Iterable[str] | str, *,
                    init_message: Mapping[str, Any], params: Mapping[str, Any],
                    open_timeout: float) -> Iterator[RealtimeChunk]:
    """Drive one ``stream-input`` session and yield its audio chunks (see ``TTS.realtime``)."""
    ws = open_websocket(transport, endpoints.tts_stream_input(voice_id), params, open_timeout)
    with ws:
        # A session refused at once (unknown voice, bad key) is closed already: _receive says why.
        with contextlib.suppress(ConnectionClosed):
            ws.send(json.dumps({"text": " ", **init_message}))
        sender = _Sender(ws, text_chunks)
        sender.start()
        try:
            yield from _receive(ws, transport.scrub)
        except XIError:
            if sender.error is not None:  # the socket closed because the caller's text failed
                raise sender.error from None
            raise
        sender.join(timeout=1.0)
        if sender.error is not None:
            raise sender.error


def _receive(ws: ClientConnection, scrub: Callable[[str], str]) -> Iterator[RealtimeChunk]:
    for message in socket_messages(ws, scrub, error_key="message"):
        if message.get("audio"):
            yield RealtimeChunk(
                audio=base64.b64decode(message["audio"]),
                alignment=Alignment.from_websocket(message.get("alignment")),
                normalized_alignment=Alignment.from_websocket(message.get("normalizedAlignment")),
                is_final=bool(message.get("isFinal")),
            )
        if message.get("isFinal"):
            return

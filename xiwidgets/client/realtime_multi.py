"""The WebSocket ``multi-stream-input`` endpoint: several independent streams (contexts) on one
socket, each with its own voice settings and pronunciation dictionaries.

:class:`MultiContextStream` sends (``send``, ``flush``, ``keep_alive``, ``close_context``,
``close_socket``) from any thread while another iterates over what arrives: one
:class:`ContextChunk` per audio message, and one with ``is_final`` when a context ends.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from xiwidgets.client import endpoints
from xiwidgets.client.realtime import open_websocket, socket_messages
from xiwidgets.client.transport import Transport
from xiwidgets.client.types import Alignment


@dataclass(frozen=True)
class ContextChunk:
    """One message of a context: audio with its chunk-relative alignment, or its end."""

    context_id: str
    audio: bytes = field(default=b"", repr=False)
    alignment: Alignment | None = None
    normalized_alignment: Alignment | None = None
    is_final: bool = False


class MultiContextStream:
    """An open ``multi-stream-input`` socket (use it as a context manager).

    Made by :meth:`TextToSpeech.realtime_multi <xiwidgets.client.tts.TextToSpeech.realtime_multi>`.
    A context opens with the first message that names it; at most five are open at once.
    """

    def __init__(self, ws: ClientConnection, transport: Transport) -> None:
        self._ws = ws
        self._transport = transport
        self._opened: set[str] = set()

    def send(self, text: str, context_id: str, *, flush: bool = False,
             voice_settings: Mapping[str, Any] | None = None,
             pronunciation_dictionary_locators: Sequence[Mapping[str, str]] | None = None,
             chunk_length_schedule: Sequence[int] | None = None) -> None:
        """Send text to a context (opening it, with its settings, the first time).

        Parameters
        ----------
        text : str
            Words to say; a trailing space is added so words are not glued.
        context_id : str
            The context (opened by its first message).
        flush : bool
            Speak everything the context holds now.
        voice_settings, pronunciation_dictionary_locators, chunk_length_schedule
            The context's settings: only in its first message.
        """
        message: dict[str, Any] = {"text": text if text.endswith(" ") else text + " ",
                                   "context_id": context_id}
        if flush:
            message["flush"] = True
        if context_id not in self._opened:
            self._opened.add(context_id)
            if voice_settings is not None:
                message["voice_settings"] = dict(voice_settings)
            if pronunciation_dictionary_locators is not None:
                message["pronunciation_dictionary_locators"] = [
                    dict(locator) for locator in pronunciation_dictionary_locators]
            if chunk_length_schedule is not None:
                message["generation_config"] = {
                    "chunk_length_schedule": list(chunk_length_schedule)}
        self._send(message)

    def flush(self, context_id: str) -> None:
        """Speak what the context holds."""
        self._send({"context_id": context_id, "flush": True})

    def keep_alive(self, context_id: str) -> None:
        """Reset the context's inactivity timeout."""
        self._send({"text": "", "context_id": context_id})

    def close_context(self, context_id: str) -> None:
        """End a context (text it holds and was not asked to flush is not said)."""
        self._opened.discard(context_id)
        self._send({"context_id": context_id, "close_context": True})

    def close_socket(self) -> None:
        """Say what every context holds, end them all, and close the socket."""
        self._send({"close_socket": True})

    def _send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):  # iterating says why the socket closed
            self._ws.send(json.dumps(message))

    def __iter__(self) -> Iterator[ContextChunk]:
        """What arrives, until the socket closes (an error frame becomes an :class:`XIError`)."""
        for message in socket_messages(self._ws, self._transport.scrub, error_key="error"):
            context_id = str(message.get("contextId", ""))
            if message.get("audio"):
                yield ContextChunk(
                    context_id, base64.b64decode(message["audio"]),
                    Alignment.from_websocket(message.get("alignment")),
                    Alignment.from_websocket(message.get("normalizedAlignment")))
            if message.get("isFinal"):
                yield ContextChunk(context_id, is_final=True)

    def close(self) -> None:
        """Close the socket at once (without ``close_socket``: held text is not said)."""
        self._ws.close()

    def __enter__(self) -> MultiContextStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_multi_stream(transport: Transport, voice_id: str, params: Mapping[str, Any],
                      open_timeout: float) -> MultiContextStream:
    """Open a ``multi-stream-input`` socket (see ``TextToSpeech.realtime_multi``); a refused
    or failed opening raises as :func:`~xiwidgets.client.realtime.open_websocket` says."""
    ws = open_websocket(transport, endpoints.tts_multi_stream_input(voice_id), params,
                        open_timeout)
    # Entered here, left in MultiContextStream.close: the stream object is the context manager.
    return MultiContextStream(ws.__enter__(), transport)

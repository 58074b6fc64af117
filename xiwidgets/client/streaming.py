"""Iterators over streamed TTS responses: raw audio chunks, or JSON lines with timestamps.

A stream opens when it is created (so a bad voice or key raises at the call, and the response
headers are readable at once) and yields bytes as the server sends them. Once the server has
answered, the take exists (and is billed) whether or not its audio arrives, so a dropped
connection is never asked again: it raises :class:`StreamInterrupted` carrying the audio received
so far and the ids to find the take in the history.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests
import urllib3

from xiwidgets.client.errors import StreamInterrupted, connection_reason, take_in_doubt
from xiwidgets.client.types import Alignment, ResponseInfo, Take, TimedChunk

logger = logging.getLogger("xiwidgets.client")

# Small enough that a chunk is handed on as soon as the server flushes it, large enough that a
# player receiving one message per chunk is not flooded (8 KiB ≈ 0.5 s of 128 kbps MP3).
DEFAULT_CHUNK_SIZE = 8192
# What a response body read raises when the connection drops mid-body (every client stream
# turns these into StreamInterrupted).
DROPPED_CONNECTION_ERRORS = (requests.exceptions.ChunkedEncodingError,
                             requests.exceptions.ConnectionError, urllib3.exceptions.HTTPError,
                             OSError)


class AudioStream:
    """Audio chunks of one TTS response, yielded as they arrive.

    It is an iterator (``for chunk in stream`` or ``next(stream)``), consumed once; the headers
    are available before iterating.

    Parameters
    ----------
    response : requests.Response
        The successful response, its body not read yet.
    chunk_size : int
        Most bytes per chunk.
    made_by : mapping, optional
        What made the take (the :class:`Take` fields text, voice_id, voice_name, model_id,
        voice_settings, seed, output_format, options, time_to_first_byte), for
        :meth:`to_take`.
    started : float, optional
        ``time.perf_counter()`` when the request was sent, for the take's ``total_time``.
    on_take : callable, optional
        Called with the take :meth:`to_take` returns (the client's ledger records it).

    Attributes
    ----------
    headers : requests.structures.CaseInsensitiveDict
        The response headers.
    info : ResponseInfo
        ``request_id``, ``history_item_id``, ``character_cost``, ``content_type`` and the
        concurrency headers.
    """

    def __init__(self, response: requests.Response, *,
                 chunk_size: int = DEFAULT_CHUNK_SIZE, made_by: Mapping[str, Any] | None = None,
                 started: float | None = None,
                 on_take: Callable[[Take], None] | None = None) -> None:
        self._response = response
        self._chunk_size = chunk_size
        self._received = bytearray()
        self._iterator: Iterator[Any] | None = None
        self._made_by = dict(made_by or {})
        self._started = started
        self._finished: float | None = None  # perf_counter() at the last byte
        self._on_take = on_take
        self.headers = response.headers
        self.info = ResponseInfo.from_headers(response.headers)

    request_id = property(lambda self: self.info.request_id, doc="The ``request-id`` header.")
    history_item_id = property(lambda self: self.info.history_item_id,
                               doc="The ``history-item-id`` header.")
    character_cost = property(lambda self: self.info.character_cost,
                              doc="Characters billed (``character-cost`` header).")
    content_type = property(lambda self: self.info.content_type, doc="Audio media type.")

    @property
    def received(self) -> bytes:
        """All audio received so far."""
        return bytes(self._received)

    @property
    def made_by(self) -> dict[str, Any]:
        """What made the take (text, voice, model, settings, seed, format, options, time to
        the response headers): the ``made_by`` the client gave, a copy."""
        return dict(self._made_by)

    @property
    def total_time(self) -> float | None:
        """Seconds from sending the request to the last byte; ``None`` until the stream ends."""
        if self._started is None or self._finished is None:
            return None
        return self._finished - self._started

    def __iter__(self) -> AudioStream:
        return self

    def __next__(self) -> bytes:
        if self._iterator is None:
            self._iterator = self._items()
        chunk: bytes = next(self._iterator)
        return chunk

    def _items(self) -> Iterator[Any]:
        """What iterating yields (subclasses parse the raw chunks)."""
        return self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        try:
            for chunk in self._response.iter_content(chunk_size=self._chunk_size):
                if chunk:
                    self._received += chunk
                    yield chunk
            self._finished = time.perf_counter()
        except DROPPED_CONNECTION_ERRORS as exc:
            raise self._interrupted(exc) from None
        finally:
            self._response.close()

    def _interrupted(self, exc: BaseException) -> StreamInterrupted:
        reason = connection_reason(exc) or type(exc).__name__
        return StreamInterrupted(
            f"The audio stream was cut off after {len(self._received)} bytes ({reason}); "
            f"the audio received so far is in err.partial. {take_in_doubt(self.info)}",
            partial=bytes(self._received), message=reason,
            status_code=self._response.status_code, response=self._response,
        )

    def read(self) -> bytes:
        """Read the rest of the stream and return the whole audio."""
        for _ in self:
            pass
        return self.received

    def to_take(self) -> Take:
        """Read the rest of the stream and return it as a :class:`Take`.

        The take keeps what made it, like the takes of ``convert``: text, voice, model,
        settings, seed, output format, options, its ids and cost, the time to the response
        headers and the total time to the last byte.
        """
        audio = self.read()
        take = Take(audio, self.info, **{**self._made_by, "total_time": self.total_time})
        if self._on_take is not None:
            self._on_take(take)
        return take

    def close(self) -> None:
        """Stop receiving and release the connection."""
        self._response.close()

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<AudioStream request_id={self.request_id!r} "
                f"received={len(self._received)} bytes>")


class TimedAudioStream(AudioStream):
    """``/stream/with-timestamps``: yields :class:`TimedChunk` parsed from JSON lines.

    ``received`` and ``StreamInterrupted.partial`` hold decoded audio, not the JSON text.
    """

    def __init__(self, response: requests.Response, **kwargs: Any) -> None:
        self._audio = bytearray()
        super().__init__(response, **kwargs)

    @property
    def received(self) -> bytes:
        """All audio decoded so far."""
        return bytes(self._audio)

    def _items(self) -> Iterator[TimedChunk]:
        return self._timed_chunks(self._chunks())

    def _timed_chunks(self, raw: Iterator[bytes]) -> Iterator[TimedChunk]:
        pending = b""
        try:
            for data in raw:
                pending += data
                *lines, pending = pending.split(b"\n")
                yield from self._parse_lines(lines)
        except StreamInterrupted as exc:
            exc.partial = self.received
            raise
        yield from self._parse_lines([pending])

    def _parse_lines(self, lines: list[bytes]) -> Iterator[TimedChunk]:
        for line in lines:
            chunk = _parse_line(line)
            if chunk is not None:
                self._audio += chunk.audio
                yield chunk


def _parse_line(line: bytes) -> TimedChunk | None:
    line = line.strip()
    if not line:
        return None
    try:
        data: Any = json.loads(line)
    except ValueError:
        logger.debug("skipping a line that is not JSON in a timestamp stream")
        return None
    return TimedChunk(
        audio=base64.b64decode(data.get("audio_base64") or ""),
        alignment=Alignment.from_dict(data.get("alignment")),
        normalized_alignment=Alignment.from_dict(data.get("normalized_alignment")),
    )

"""Running a take in a worker thread and handing its pieces to the event loop as they arrive.

The rule for billing, the same for every route and every length of take: a take is billed and
stored only if its client is still connected once every byte but the final ones has been
handed to the connection. The worker asks (``TakeRun._may_settle``) when it has emitted every
piece but the final one; the consumer answers when it comes back for the next piece — that is,
after it has sent all earlier ones — by checking the connection; the final piece (the last
bytes of the response) leaves only after the take is settled.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol

from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request

from xiwidgets.server.concurrency import Concurrency
from xiwidgets.server.lexicon import Lexicon
from xiwidgets.server.pronunciation import PronunciationDictionaries
from xiwidgets.server.schemas import PronunciationDictionaryLocator
from xiwidgets.server.take_service import TakeService
from xiwidgets.server.takes import (
    SharedEncoder,
    TakeCancelledError,
    TakePiece,
    TakePlan,
    chunk_alignment,
    piece_alignments,
)

# Turns of the event loop that let a disconnect which has already reached the socket be seen:
# one to poll the socket, one for the transport to report the loss, one for the server to
# flag it (and for a streaming response's listener to cancel the stream).
_LOOP_TURNS_FOR_PENDING_EVENTS = 3


class _SettleRequest:
    """Queued by the worker after every piece but the final one: "may the take be settled?"."""


class TakeRun:
    """A take being synthesized in its own thread, started as soon as it is created.

    Starting at once (rather than when the response body is first read) means synthesis
    overlaps sending the headers.

    Parameters
    ----------
    takes : TakeService
        Produces the take.
    plan : TakePlan
        The validated, reserved take.
    shared : SharedEncoder or None
        The encoder of a websocket session, shared by its takes.
    connected : callable or None
        ``async () -> bool``: whether the client is still there. ``None`` when the consumer
        itself fails once the client has gone (a websocket send raises).
    """

    def __init__(
        self,
        takes: TakeService,
        plan: TakePlan,
        shared: SharedEncoder | None = None,
        connected: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[TakePiece | _SettleRequest | BaseException] = asyncio.Queue()
        self._cancelled = threading.Event()
        self._answered = threading.Event()
        self._settle = False
        self._takes = takes
        self.plan = plan  # read by the routes (its text, for the alignments)
        self._shared = shared
        self._connected = connected
        self._settled = False
        self._done = threading.Event()
        threading.Thread(target=self._work, name=f"take-{plan.request_id}", daemon=True).start()

    def _hand_over(self, item: TakePiece | _SettleRequest | BaseException) -> bool:
        # The loop may already be closed when a cancelled take notices; nothing to deliver then.
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:
            return False
        return True

    def _may_settle(self) -> bool:
        """Worker side: wait for the consumer to have sent every earlier piece, then its verdict."""
        if not self._hand_over(_SettleRequest()):
            return False
        self._answered.wait()
        return self._settle and not self._cancelled.is_set()

    def _answer(self, settle: bool) -> None:
        if not self._answered.is_set():
            self._settle = settle
            self._answered.set()

    def stop(self) -> None:
        """The client went away: stop synthesis, refund, store nothing (no-op once settled)."""
        self._cancelled.set()
        self._answer(False)

    def _work(self) -> None:
        try:
            self._takes.produce(
                self.plan, self._hand_over, self._cancelled, self._shared, self._may_settle
            )
            self._settled = True
        except TakeCancelledError as exc:
            self._hand_over(exc)  # ends ``pieces`` if it is still being read
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._hand_over(exc)
        finally:
            self._done.set()

    async def settled(self) -> bool:
        """Whether the take was settled (billed, and stored when logged), once its thread is
        done: also for a reader stopped between the settling and the final piece."""
        await asyncio.to_thread(self._done.wait)
        return self._settled

    async def pieces(self) -> AsyncIterator[TakePiece]:
        """Yield the take's pieces while later clauses are still being synthesized.

        If the consumer stops early (the client went away) the worker is told to stop, and
        the take is refunded and not stored. When the take was stopped (or the client was
        found gone before settling) the pieces end without a final one.
        """
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, TakeCancelledError):
                    return
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, _SettleRequest):
                    still_there = self._connected is None or await self._connected()
                    self._answer(still_there)
                    if not still_there:
                        return
                    continue
                yield item
                if item.final:
                    return
        finally:
            self.stop()


def connection_of(request: Request) -> Callable[[], Awaitable[bool]]:
    """``async () -> bool``: whether the client of ``request`` is still connected."""

    async def connected() -> bool:
        await request.is_disconnected()  # also resumes reading, so a reset can be noticed
        for _ in range(_LOOP_TURNS_FOR_PENDING_EVENTS):
            await asyncio.sleep(0)
        return not await request.is_disconnected()

    return connected


async def whole_take(takes: TakeService, plan: TakePlan, request: Request) -> list[TakePiece]:
    """All pieces of a take (non-streaming endpoints), without blocking the event loop.

    Raises
    ------
    starlette.requests.ClientDisconnect
        The client went away before the take was settled: it was stopped, refunded and not
        stored.
    """
    run = TakeRun(takes, plan, connected=connection_of(request))

    async def stop_on_disconnect() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        run.stop()

    watcher = asyncio.create_task(stop_on_disconnect())
    try:
        pieces = [piece async for piece in run.pieces()]
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    if not pieces or not pieces[-1].final:
        raise ClientDisconnect
    return pieces


def take_headers(concurrency: Concurrency, plan: TakePlan) -> dict[str, str]:
    """The headers of a take's response: its cost, history item and the concurrency counts."""
    headers = {"character-cost": str(plan.character_cost), **concurrency.headers()}
    if plan.history_item_id:
        headers["history-item-id"] = plan.history_item_id
    return headers


def stop_if_unfinished(run: TakeRun) -> BackgroundTask:
    """The streaming response's background task that stops a take it did not finish."""
    # Runs once the response is over, also after a disconnect cancelled it while the body
    # iterator was suspended (and so could not notice): the take must not wait to settle.
    return BackgroundTask(run.stop)


def _joined(parts: list[dict[str, list[Any]]]) -> dict[str, list[Any]] | None:
    if not parts:
        return None
    return chunk_alignment(
        [c for part in parts for c in part["characters"]],
        [t for part in parts for t in part["character_start_times_seconds"]],
        [t for part in parts for t in part["character_end_times_seconds"]],
    )


def timed_alignments(
    plan: TakePlan, pieces: list[TakePiece]
) -> tuple[dict[str, list[Any]] | None, dict[str, list[Any]] | None]:
    """The whole take's ``alignment`` (text as sent) and ``normalized_alignment`` (as spoken),
    in take-relative times."""
    both = [piece_alignments(piece, plan.spoken_text) for piece in pieces]
    return (_joined([a for a, _ in both if a]), _joined([n for _, n in both if n]))


async def audio_bytes_settled_last(
    run: TakeRun, transform: Callable[[TakePiece], bytes] | None = None
) -> AsyncIterator[bytes]:
    """A take's audio bytes as they are encoded, the last ones only once it is settled.

    ``transform`` turns each piece into the bytes to send (a second encoder); by default they
    are the piece's audio.
    """
    # The last two bytes of each piece wait for the next one, so the response's final
    # bytes leave only after the take has been settled (billed and in the history).
    carry = b""
    async for piece in run.pieces():
        data = carry + (transform(piece) if transform is not None else piece.audio)
        if piece.final:
            if data:
                yield data
            return
        carry, data = data[-2:], data[:-2]
        if data:
            yield data


class PlansTake(Protocol):
    """What a take route is asked, parsed once (text to speech, or a dialogue)."""

    def plan(self, takes: TakeService, streaming: bool) -> TakePlan:
        """Validate the take and reserve its characters."""
        ...


def body_lexicon(
    dictionaries: PronunciationDictionaries,
    locators: Sequence[PronunciationDictionaryLocator] | None,
) -> Lexicon | None:
    """The rules of a body's ``pronunciation_dictionary_locators``, looked up before any
    characters are reserved: an unknown dictionary is a 404 that costs nothing."""
    return dictionaries.lexicon(
        [(locator.pronunciation_dictionary_id, locator.version_id) for locator in locators or []]
    )


async def planned_whole_take(
    request: Request, asked: PlansTake, takes: TakeService, concurrency: Concurrency
) -> tuple[list[TakePiece], dict[str, str], TakePlan]:
    """Plan and produce a take sent whole: its pieces, response headers and plan."""
    plan = asked.plan(takes, streaming=False)
    headers = take_headers(concurrency, plan)
    return await whole_take(takes, plan, request), headers, plan


async def whole_audio(
    request: Request, asked: PlansTake, takes: TakeService, concurrency: Concurrency
) -> Response:
    """The whole take as one audio file."""
    pieces, headers, plan = await planned_whole_take(request, asked, takes, concurrency)
    audio = b"".join(piece.audio for piece in pieces)
    return Response(audio, media_type=plan.output_format.media_type, headers=headers)


def streamed_take(
    request: Request,
    asked: PlansTake,
    takes: TakeService,
    concurrency: Concurrency,
    body: Callable[[TakeRun], AsyncIterator[bytes]],
    media_type: str | None = None,
) -> StreamingResponse:
    """Plan a streamed take and answer with ``body(run)`` (the take's own media type by default)."""
    plan = asked.plan(takes, streaming=True)
    run = TakeRun(takes, plan, connected=connection_of(request))
    return StreamingResponse(
        body(run),
        media_type=media_type or plan.output_format.media_type,
        headers=take_headers(concurrency, plan),
        background=stop_if_unfinished(run),
    )


async def whole_timed(
    request: Request,
    asked: PlansTake,
    takes: TakeService,
    concurrency: Concurrency,
    more: Callable[[TakePlan, dict[str, list[Any]] | None], dict[str, Any]] | None = None,
) -> JSONResponse:
    """The whole take's ``timed_json`` (take-relative times), with the fields that
    ``more(plan, alignment)`` adds."""
    pieces, headers, plan = await planned_whole_take(request, asked, takes, concurrency)
    alignment, normalized = timed_alignments(plan, pieces)
    body = timed_json(b"".join(piece.audio for piece in pieces), alignment, normalized)
    if more is not None:
        body.update(more(plan, alignment))
    return JSONResponse(body, headers=headers)


def timed_json(
    audio: bytes,
    alignment: dict[str, list[Any]] | None,
    normalized: dict[str, list[Any]] | None,
) -> dict[str, Any]:
    """The ``audio_base64`` / ``alignment`` / ``normalized_alignment`` object of the
    with-timestamps routes: times of the text as sent, and of the text as spoken."""
    return {
        "audio_base64": base64.b64encode(audio).decode(),
        "alignment": alignment,
        "normalized_alignment": normalized,
    }


async def timed_lines(
    run: TakeRun, more: Callable[[TakePiece], dict[str, Any]] | None = None
) -> AsyncIterator[bytes]:
    """One JSON object per line, a piece each: its ``timed_json`` (take-relative times) and
    the fields ``more(piece)`` adds."""
    async for piece in run.pieces():
        if piece.final and not piece.audio:
            return
        line = timed_json(piece.audio, *piece_alignments(piece, run.plan.spoken_text))
        if more is not None:
            line.update(more(piece))
        yield (json.dumps(line, ensure_ascii=False) + "\n").encode()

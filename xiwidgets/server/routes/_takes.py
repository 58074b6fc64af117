"""Running a take in a worker thread and handing its pieces to the event loop as they arrive."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator

from xiwidgets.server.service import SpeechService
from xiwidgets.server.takes import (
    SharedEncoder,
    TakeCancelledError,
    TakePiece,
    TakePlan,
)


class TakeRun:
    """A take being synthesized in its own thread, started as soon as it is created.

    Starting at once (rather than when the response body is first read) means synthesis
    overlaps sending the headers, and a take whose client never reads the body still finishes,
    so its reservation and history are always settled.
    """

    def __init__(
        self, service: SpeechService, plan: TakePlan, shared: SharedEncoder | None = None
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[TakePiece | BaseException] = asyncio.Queue()
        self._cancelled = threading.Event()
        self._service = service
        self._plan = plan
        self._shared = shared
        threading.Thread(target=self._work, name=f"take-{plan.request_id}", daemon=True).start()

    def _hand_over(self, item: TakePiece | BaseException) -> None:
        # The loop may already be closed when a cancelled take notices; nothing to deliver then.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def _work(self) -> None:
        try:
            self._service.produce(self._plan, self._hand_over, self._cancelled, self._shared)
        except TakeCancelledError:
            pass
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._hand_over(exc)

    async def pieces(self) -> AsyncIterator[TakePiece]:
        """Yield the take's pieces while later clauses are still being synthesized.

        If the consumer stops early (the client went away) the worker is told to stop, and
        the take is refunded and not stored.
        """
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.final:
                    return
        finally:
            self._cancelled.set()


async def whole_take(service: SpeechService, plan: TakePlan) -> list[TakePiece]:
    """All pieces of a take (non-streaming endpoints), without blocking the event loop."""
    return [piece async for piece in TakeRun(service, plan).pieces()]

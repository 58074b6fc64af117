"""Running a take in a worker thread and handing its pieces to the event loop as they arrive."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator

from xiwidgets.server.service import SpeechService, TakeCancelledError, TakePiece, TakePlan


async def take_pieces(service: SpeechService, plan: TakePlan) -> AsyncIterator[TakePiece]:
    """Yield a take's pieces while later clauses are still being synthesized.

    The synthesizer runs in its own thread and feeds a queue; if the consumer stops early
    (client disconnected) the thread is told to stop and the take is refunded.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[TakePiece | BaseException] = asyncio.Queue()
    cancelled = threading.Event()

    def hand_over(item: TakePiece | BaseException) -> None:
        # The loop may already be closed when a cancelled take notices; nothing to deliver then.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        try:
            service.produce(plan, hand_over, cancelled)
        except TakeCancelledError:
            pass
        except BaseException as exc:  # handed to the consumer, which re-raises it
            hand_over(exc)

    threading.Thread(target=work, name=f"take-{plan.request_id}", daemon=True).start()
    try:
        while True:
            item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if item.final:
                return
    finally:
        cancelled.set()


async def whole_take(service: SpeechService, plan: TakePlan) -> list[TakePiece]:
    """All pieces of a take (non-streaming endpoints), without blocking the event loop."""
    return [piece async for piece in take_pieces(service, plan)]

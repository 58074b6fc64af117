"""Blocking work that may wait for speech, on a thread of its own.

``asyncio.to_thread`` runs on the event loop's shared pool of ``min(32, cores + 4)`` threads,
which every short blocking call of the server uses too (parsing a PLS file, adding a voice,
loading a socket's dictionaries). Work that waits for a synthesis slot or a recording's
decoding (a design, a save that speaks its preview, speech to text) would fill that pool and
leave those calls waiting behind it; like a take (``routes._takes.TakeRun``), it gets a thread
of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_own_thread(work: Callable[[], T], name: str) -> T:
    """``work()`` on a new daemon thread called ``name``; its result or its exception.

    Raises
    ------
    BaseException
        Whatever ``work`` raised.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if done.done():  # the awaiting request was cancelled
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = work(), None
        except BaseException as exc:
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name=name, daemon=True).start()
    return await done

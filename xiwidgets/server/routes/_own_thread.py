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
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

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


async def iterate_in_own_thread(
    items: Iterator[T], name: str, depth: int = 4
) -> AsyncIterator[T]:
    """The items of a blocking iterator, read ahead by one daemon thread called ``name``.

    One thread serves the whole iteration (not one per item), at most ``depth`` items ahead
    of the consumer, so a slow client holds the producer back instead of filling memory. When
    the consumer stops early (the client left: the response is cancelled, or the generator
    is closed), the thread stops after the item it is making and closes ``items``.

    Raises
    ------
    BaseException
        Whatever ``items`` raised, in its place after the items before it.
    """
    loop = asyncio.get_running_loop()
    arrived: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    room = threading.Semaphore(depth)
    stopped = threading.Event()

    def hand_over(kind: str, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(arrived.put_nowait, (kind, value))

    def run() -> None:
        try:
            for item in items:
                room.acquire()
                if stopped.is_set():
                    return
                hand_over("item", item)
            hand_over("end", None)
        except BaseException as error:
            hand_over("error", error)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        while True:
            kind, value = await arrived.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            room.release()
            yield value
    finally:
        stopped.set()
        room.release()  # a producer waiting for room sees the stop

"""Making the next clause while this one is encoded and sent.

A take alternates two kinds of work: the engine's ONNX run of a clause (which releases the GIL
and, on two threads, still leaves part of the cores idle) and the encoding of that clause
(resampling and MP3 in this thread). One after the other they add up; ``benchmarks/scale.py``
measured the encoding at 12 % of Piper's own time on a paragraph. :func:`read_ahead` runs the
engine's iterator in its own thread, one clause ahead, so the two overlap.

The iterator is created, advanced and closed in that one thread only (a generator may not be
resumed from two threads), and the thread is always finished when :func:`read_ahead` returns,
so a synthesis slot held around it still counts exactly the work that runs.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
# How long the maker waits to hand over an item before looking whether the reader has gone.
_HAND_OVER_POLL_S = 0.05


@contextlib.contextmanager
def read_ahead(make: Callable[[], Iterator[T]], depth: int = 1) -> Iterator[Iterator[T]]:
    """Items of ``make()``, made up to ``depth`` ahead of the reader in another thread.

    Parameters
    ----------
    make : callable
        Returns the iterator (called in the maker thread, which also closes it).
    depth : int
        Items made and waiting at most.

    Yields
    ------
    iterator
        The items in order; an exception of the iterator is raised here, in the reader.
        Leaving the ``with`` block early stops the maker after the item it is making and
        waits for it.
    """
    handed: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=_HAND_OVER_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def maker() -> None:
        try:
            items = make()
            try:
                for item in items:
                    if not hand_over(item):
                        return
            finally:
                close = getattr(items, "close", None)
                if close is not None:
                    close()
        except BaseException as exc:  # re-raised in the reader
            hand_over(exc)
            return
        hand_over(_DONE)

    thread = threading.Thread(target=maker, name="xiwidgets-read-ahead", daemon=True)
    thread.start()

    def items() -> Iterator[T]:
        while True:
            item = handed.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    try:
        yield items()
    finally:
        stop.set()
        thread.join()

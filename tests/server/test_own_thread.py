"""Blocking iterators read by one thread of their own, for streaming routes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from xiwidgets.server.routes._own_thread import iterate_in_own_thread


class Pieces:
    """A blocking iterator that records which threads made its items and whether it was closed."""

    def __init__(self, count: int, fail_after: int | None = None) -> None:
        self.count = count
        self.fail_after = fail_after
        self.made_by: list[str] = []
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[int]:
        return self

    def __next__(self) -> int:
        made = len(self.made_by)
        if made == self.fail_after:
            raise ValueError("the engine failed")
        if made == self.count:
            raise StopIteration
        self.made_by.append(threading.current_thread().name)
        return made

    def close(self) -> None:
        self.closed.set()


def run(coroutine: Any) -> Any:
    """``asyncio.run`` on a thread of its own: the browser tests' Playwright keeps an event loop
    running in the main thread for the whole session."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if thread.is_alive():
        raise AssertionError("the coroutine did not finish within 60 s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


async def collect(pieces: Pieces, limit: int | None = None) -> list[int]:
    got = []
    stream = iterate_in_own_thread(pieces, "test-reader", depth=2)
    async for item in stream:
        got.append(item)
        if limit is not None and len(got) == limit:
            await stream.aclose()
            break
    return got


def test_all_items_come_in_order_from_one_thread() -> None:
    pieces = Pieces(50)

    assert run(collect(pieces)) == list(range(50))
    assert set(pieces.made_by) == {"test-reader"}
    assert pieces.closed.wait(5)


def test_an_error_comes_after_the_items_before_it() -> None:
    pieces = Pieces(10, fail_after=3)
    got: list[int] = []

    async def consume() -> None:
        async for item in iterate_in_own_thread(pieces, "test-reader"):
            got.append(item)

    with pytest.raises(ValueError, match="the engine failed"):
        run(consume())
    assert got == [0, 1, 2]


def test_a_consumer_that_stops_early_stops_the_reader_within_its_read_ahead() -> None:
    pieces = Pieces(1000)

    assert run(collect(pieces, limit=3)) == [0, 1, 2]
    assert pieces.closed.wait(5), "the reader did not stop and close the iterator"
    # At most ``depth`` items ahead of the consumer, plus the one in hand.
    assert len(pieces.made_by) <= 3 + 2 + 1

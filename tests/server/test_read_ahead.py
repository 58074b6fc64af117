"""read_ahead: the engine's iterator runs one item ahead in its own thread, and is always
closed and finished by the time the reader is done with it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from xiwidgets.server.read_ahead import read_ahead


class Clauses:
    """A generator-like maker that records which thread ran it and whether it was closed."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.made: list[int] = []
        self.threads: set[int] = set()
        self.closed = False

    def __call__(self) -> Iterator[int]:
        def items() -> Iterator[int]:
            try:
                for n in range(self.count):
                    self.threads.add(threading.get_ident())
                    if n == self.fail_at:
                        raise ValueError(f"clause {n} failed")
                    self.made.append(n)
                    yield n
            finally:
                self.closed = True
        return items()


def test_items_come_in_order_from_one_other_thread():
    clauses = Clauses(20)
    with read_ahead(clauses) as items:
        assert list(items) == list(range(20))
    assert len(clauses.threads) == 1 and threading.get_ident() not in clauses.threads
    assert clauses.closed


def test_the_next_item_is_made_while_the_reader_works_on_this_one():
    clauses = Clauses(5)
    with read_ahead(clauses) as items:
        assert next(items) == 0
        # Without reading further, the maker makes the next item (and one waiting).
        for _ in range(200):
            if len(clauses.made) >= 2:
                break
            threading.Event().wait(0.01)
        assert len(clauses.made) >= 2


def test_an_error_of_the_maker_is_raised_in_the_reader():
    clauses = Clauses(5, fail_at=3)
    with pytest.raises(ValueError, match="clause 3 failed"), read_ahead(clauses) as items:
        assert [next(items) for _ in range(3)] == [0, 1, 2]
        next(items)
    assert clauses.closed


def test_a_reader_that_stops_early_stops_the_maker_and_waits_for_it():
    clauses = Clauses(10_000)
    with read_ahead(clauses) as items:
        assert next(items) == 0
    # Left early: the maker made at most a few items ahead, was closed, and has finished.
    assert clauses.closed and len(clauses.made) < 10
    assert not [t for t in threading.enumerate() if t.ident in clauses.threads]

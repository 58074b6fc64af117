"""How much runs at once: synthesis slots, takes in flight, open websocket sessions."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from xiwidgets.server.domain_errors import TooManyConcurrentRequestsError


class SynthesisSlots:
    """At most ``limit`` syntheses run at once; the others wait (queue, not thrash).

    Also counts them, so a benchmark or test can show the limit held: ``running`` now,
    ``peak`` since the last :meth:`reset_peak`, ``started`` in all.

    Parameters
    ----------
    limit : int
        Syntheses allowed at once.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.Semaphore(limit)
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.started = 0

    def __enter__(self) -> SynthesisSlots:
        self._slots.acquire()
        with self._lock:
            self.running += 1
            self.started += 1
            self.peak = max(self.peak, self.running)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self.running -= 1
        self._slots.release()

    def reset_peak(self) -> None:
        """Start a new peak from the syntheses running now."""
        with self._lock:
            self.peak = self.running


class Concurrency:
    """The server's counters of running work.

    Parameters
    ----------
    max_syntheses : int
        Syntheses allowed at once (``max_concurrent_syntheses``).
    max_websocket_sessions : int
        Stream-input sessions allowed at once.
    max_requests : int or None
        Takes allowed in flight at once (``max_concurrent_requests``); past it a take is
        refused with ``too_many_concurrent_requests``. ``None``: takes past the synthesis
        slots wait their turn instead.

    Attributes
    ----------
    synthesis_slots : SynthesisSlots
        Held by every synthesis (takes and previews).
    """

    def __init__(self, max_syntheses: int, max_websocket_sessions: int,
                 max_requests: int | None = None) -> None:
        self.synthesis_slots = SynthesisSlots(max_syntheses)
        self.max_requests = max_requests
        self._max_websocket_sessions = max_websocket_sessions
        self._lock = threading.Lock()
        self._in_flight = 0
        self._websocket_sessions = 0

    @property
    def maximum(self) -> int:
        """Requests that can run at once: the configured limit, else the synthesis slots."""
        return self.max_requests if self.max_requests is not None else self.synthesis_slots.limit

    def headers(self) -> dict[str, str]:
        """``current-concurrent-requests`` / ``maximum-concurrent-requests``."""
        return {
            "current-concurrent-requests": str(self._in_flight),
            "maximum-concurrent-requests": str(self.maximum),
        }

    def admit(self) -> None:
        """Count a new take in, or refuse it when ``max_requests`` are already in flight.

        Checked and counted under one lock, so a burst cannot slip past the limit.

        Raises
        ------
        TooManyConcurrentRequestsError
            At the limit; nothing was counted.
        """
        with self._lock:
            if self.max_requests is not None and self._in_flight >= self.max_requests:
                raise TooManyConcurrentRequestsError(self.max_requests)
            self._in_flight += 1

    @contextlib.contextmanager
    def admitted(self) -> Iterator[None]:
        """Count a take in for a block that plans it (see :meth:`admit`); a block that raises
        counts it out again, as nothing was planned."""
        self.admit()
        try:
            yield
        except BaseException:
            self.change_in_flight(-1)
            raise

    def change_in_flight(self, delta: int) -> None:
        """Count takes in (``+1``) or out (``-1``): planned and not yet over."""
        with self._lock:
            self._in_flight += delta

    def open_websocket_session(self) -> bool:
        """Count a new stream-input session; ``False`` when the limit is reached."""
        with self._lock:
            if self._websocket_sessions >= self._max_websocket_sessions:
                return False
            self._websocket_sessions += 1
            return True

    def close_websocket_session(self) -> None:
        """Forget a finished stream-input session."""
        with self._lock:
            self._websocket_sessions -= 1

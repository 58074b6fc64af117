"""How many takes a batch keeps in flight: up to the server's advertised maximum, fewer after a
429, back up again after successes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xiwidgets.client.transport import Transport

# Concurrency when neither the caller nor the server says (the batch runner's old default).
DEFAULT_CONCURRENCY = 4
# A 429 without Retry-After: wait this long before sending more.
DEFAULT_REFUSAL_WAIT_S = 1.0


def advertised_maximum(transport: Transport) -> tuple[int | None, bool]:
    """The server's maximum of concurrent requests, and whether it refuses (429) past it.

    Read from ``GET /v1/user``: ``subscription_extras.concurrency`` (the hosted API's plan,
    which refuses past it; the local server says the same there), and the local server's
    ``subscription.refuses_past_maximum``. ``(None, True)`` when the account cannot be read
    (a key restricted to text to speech, a server without the field): the takes' own
    ``maximum-concurrent-requests`` headers are used then.
    """
    from xiwidgets.client import endpoints
    from xiwidgets.client.errors import XIError

    try:
        user = transport.json("GET", endpoints.USER)
    except XIError:
        return None, True
    extras = user.get("subscription_extras") if isinstance(user, dict) else None
    maximum = extras.get("concurrency") if isinstance(extras, dict) else None
    subscription = user.get("subscription") if isinstance(user, dict) else None
    refuses = not isinstance(subscription, dict) or subscription.get(
        "refuses_past_maximum", True) is not False
    if isinstance(maximum, int) and not isinstance(maximum, bool) and maximum >= 1:
        return maximum, refuses
    return None, refuses


class AdaptiveLimit:
    """Requests a batch may have in flight now, never above ``ceiling``.

    A refusal (429) lowers the limit below what was running when it came and holds new
    requests back until its ``Retry-After`` has passed; ``current`` successes in a row raise it
    by one again, up to the ceiling. A take's ``maximum-concurrent-requests`` header lowers the
    ceiling when the server allows fewer than was assumed.

    Parameters
    ----------
    ceiling : int
        The most ever in flight.
    clock : callable
        Seconds, monotonic (a parameter so the pacing can be followed in a test).
    """

    def __init__(self, ceiling: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ceiling = ceiling
        self.current = ceiling
        self.refusals = 0
        self._clock = clock
        self._successes = 0
        self._not_before = 0.0

    def wait_s(self) -> float:
        """Seconds until a new request may be sent (0 when it may go now)."""
        return max(0.0, self._not_before - self._clock())

    def refused(self, retry_after: float | None, in_flight: int) -> None:
        """A request was refused while ``in_flight`` requests (itself included) were out."""
        self.refusals += 1
        self._successes = 0
        self.current = max(1, min(self.current, in_flight) - 1)
        wait = retry_after if retry_after is not None else DEFAULT_REFUSAL_WAIT_S
        self._not_before = max(self._not_before, self._clock() + wait)

    def succeeded(self, server_maximum: int | None) -> None:
        """A request was served; ``server_maximum`` is its ``maximum-concurrent-requests``."""
        if server_maximum is not None and 1 <= server_maximum < self.ceiling:
            self.ceiling = server_maximum
            self.current = min(self.current, server_maximum)
        self._successes += 1
        if self._successes >= self.current and self.current < self.ceiling:
            self.current += 1
            self._successes = 0

    def describe(self) -> str:
        """``"3/4"``: in flight allowed now / the ceiling (shown in the progress bar)."""
        return f"{self.current}/{self.ceiling}"

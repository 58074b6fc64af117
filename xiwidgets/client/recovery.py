"""Finding a take whose response was lost: look in the history instead of paying for it again.

A text-to-speech request whose connection broke (or timed out) after it was sent, or that got a
5xx, may still have been made and billed. Before the error reaches the caller, the client looks
for that take in the history — by the ``history-item-id`` header when it arrived, else by
voice, text and time — and returns it. Only when it is not there does the error stand, saying so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from xiwidgets.client import endpoints
from xiwidgets.client.errors import ConnectionFailed, NotFound, ServerError, XIError
from xiwidgets.client.types import HistoryItem, HistoryPage

if TYPE_CHECKING:
    from xiwidgets.client.transport import Transport

# Codes of a ConnectionFailed after which the request may have reached the server.
_MAYBE_SENT = frozenset({"connection_lost", "read_timeout"})
# Seconds to wait between looks: a take still being made shows up in the history when it ends.
LOOK_AGAIN_AFTER = (0.0, 1.0, 2.0)
# How many of the voice's newest history items are compared with the lost request.
_NEWEST_ITEMS = 20
_sleep = time.sleep
T = TypeVar("T")


@dataclass(frozen=True)
class LostTake:
    """A request whose answer never arrived: what was asked and when."""

    voice_id: str
    text: str
    model_id: str | None
    sent_unix: float
    # History items this client already received: never the lost take (a best-of or sweep
    # sends the same text several times at once).
    received: Container[str] = frozenset()


def may_have_been_made(error: XIError) -> bool:
    """Whether ``error`` leaves open that the server made (and billed) the take."""
    if isinstance(error, ConnectionFailed):
        return error.code in _MAYBE_SENT
    return isinstance(error, ServerError) and (error.status_code or 0) >= 500


def find_in_history(transport: Transport, lost: LostTake, error: XIError,
                    pauses: tuple[float, ...] = LOOK_AGAIN_AFTER) -> HistoryItem | None:
    """The history item of ``lost``, or ``None`` when the history does not have it.

    Parameters
    ----------
    transport : Transport
        The client's transport.
    lost : LostTake
        The request whose answer was lost.
    error : XIError
        The failure; its ``history_item_id`` / ``request_id`` (from headers that arrived) pin
        the item when known.
    pauses : tuple of float
        Seconds to wait before each look.

    Returns
    -------
    HistoryItem or None
    """
    for pause in pauses:
        _sleep(pause)
        try:
            found = _look(transport, lost, error)
        except XIError:
            return None  # the history cannot be read either: the original error stands
        if found is not None:
            return found
    return None


def _look(transport: Transport, lost: LostTake, error: XIError) -> HistoryItem | None:
    # idempotent=False: no retries inside one look; the pauses between looks are the retries.
    if error.history_item_id:
        try:
            return HistoryItem.from_dict(transport.json(
                "GET", endpoints.history_item(error.history_item_id), idempotent=False))
        except NotFound:
            return None  # not committed: the server did not bill it
    page = HistoryPage.from_dict(transport.json(
        "GET", endpoints.HISTORY, params={"page_size": _NEWEST_ITEMS, "voice_id": lost.voice_id},
        idempotent=False))
    if error.request_id:
        return next((item for item in page.items if item.request_id == error.request_id), None)
    # One second of slack: the server's date_unix is whole seconds.
    since = int(lost.sent_unix) - 1
    candidates = [item for item in page.items
                  if item.text == lost.text and (item.date_unix or 0) >= since
                  and (lost.model_id is None or item.model_id == lost.model_id)
                  and item.history_item_id not in lost.received]
    # Several unclaimed takes of the same text (requests sent at once): no way to tell which
    # is this one, so none is returned rather than a sibling made with another seed.
    return candidates[0] if len(candidates) == 1 else None


def not_found_sentence(error: XIError, lost: LostTake) -> str:
    """What to add to ``error`` when the take is not in the history (yet)."""
    return (f"{error} It could not be found in the history as this request's take (not there "
            "yet, or several takes of the same text); if it was made it is there: "
            f"client.history.list(voice_id={lost.voice_id!r}) and look for its text.")


def recovered_or_raise(transport: Transport, lost: LostTake, error: XIError,
                       build: Callable[[HistoryItem], T]) -> T:
    """``build(item)`` for the lost take's history item, else ``error`` saying it is not there.

    Raises
    ------
    XIError
        ``error`` itself, its message extended, when the take is not in the history.
    """
    if not may_have_been_made(error):
        raise error
    item = find_in_history(transport, lost, error)
    if item is None:
        error.args = (not_found_sentence(error, lost),)
        raise error
    return build(item)

"""What this client knows of its own takes that the history API does not keep.

The API's history stores the text, voice, model, settings and cost of every take, but not the
seed asked for nor how long the request took. The client remembers those for the takes it made
(in this process), by history item id, so that ``history.to_dataframe()`` can show them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xiwidgets.client.types import Take

LEDGER_COLUMNS = ("seed", "time_to_first_byte", "total_time")
_MAX_ENTRIES = 100_000  # a long-running kernel must not grow without bound


class Ledger:
    """Seed and timings of the takes one client made, by ``history_item_id``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def record(self, take: Take) -> None:
        """Remember ``take`` (ignored when the server gave it no history item id)."""
        if not take.history_item_id:
            return
        with self._lock:
            self._entries[take.history_item_id] = {
                name: getattr(take, name) for name in LEDGER_COLUMNS}
            while len(self._entries) > _MAX_ENTRIES:
                self._entries.popitem(last=False)

    def __contains__(self, history_item_id: object) -> bool:
        """Whether this client already received the take ``history_item_id``."""
        with self._lock:
            return history_item_id in self._entries

    def get(self, history_item_id: str | None) -> dict[str, Any]:
        """What is known of one history item: the :data:`LEDGER_COLUMNS`, ``None`` if not."""
        with self._lock:
            known = self._entries.get(history_item_id or "", {})
        return {name: known.get(name) for name in LEDGER_COLUMNS}

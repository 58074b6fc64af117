"""History: past generations, page by page or all at once, their audio, and a DataFrame view."""

from __future__ import annotations

import dataclasses
import mimetypes
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xiwidgets.client import endpoints
from xiwidgets.client.ledger import LEDGER_COLUMNS, Ledger
from xiwidgets.client.types import HistoryItem, HistoryPage
from xiwidgets.formats import codec_of_media_type

if TYPE_CHECKING:
    import pandas

    from xiwidgets.client.transport import Transport


def _extension(content_type: str | None) -> str:
    codec = codec_of_media_type(content_type)
    if codec is not None:
        return codec.extension
    media = (content_type or "").split(";")[0].strip().lower()
    return mimetypes.guess_extension(media) or ".bin"  # e.g. the zip of several items


class History:
    """``client.history``: the generations made with this account (or local server)."""

    def __init__(self, transport: Transport, ledger: Ledger | None = None) -> None:
        self._transport = transport
        self._ledger = ledger if ledger is not None else Ledger()

    def list(self, page_size: int = 100, start_after_history_item_id: str | None = None,
             voice_id: str | None = None, search: str | None = None,
             **extra: Any) -> HistoryPage:
        """One page of history, newest first (``GET /v1/history``).

        Parameters
        ----------
        page_size : int
            Items per page (at most 1000).
        start_after_history_item_id : str, optional
            ``HistoryPage.last_history_item_id`` of the previous page.
        voice_id, search : str, optional
            Filters.
        **extra
            Further query parameters (``model_id``, ``source``…).

        Returns
        -------
        HistoryPage
        """
        params = {"page_size": page_size, "start_after_history_item_id":
                  start_after_history_item_id, "voice_id": voice_id, "search": search, **extra}
        return HistoryPage.from_dict(self._transport.json("GET", endpoints.HISTORY,
                                                          params=params))

    def iter_all(self, page_size: int = 100, **filters: Any) -> Iterator[HistoryItem]:
        """Every history item matching ``filters`` (see :meth:`list`), following the cursor."""
        cursor = filters.pop("start_after_history_item_id", None)
        while True:
            page = self.list(page_size=page_size, start_after_history_item_id=cursor, **filters)
            yield from page.items
            cursor = page.last_history_item_id or (page.items[-1].history_item_id
                                                   if page.items else None)
            if not page.has_more or not cursor:
                return

    def get(self, history_item_id: str) -> HistoryItem:
        """One history item."""
        return HistoryItem.from_dict(
            self._transport.json("GET", endpoints.history_item(history_item_id)))

    def audio(self, history_item_id: str) -> bytes:
        """The audio of one history item."""
        return self._transport.request("GET", endpoints.history_audio(history_item_id)).content

    def delete(self, history_item_id: str) -> None:
        """Delete one history item."""
        self._transport.json("DELETE", endpoints.history_item(history_item_id))

    def download(self, history_item_ids: str | Sequence[str], path: str | Path,
                 output_format: str | None = None) -> Path:
        """Save history audio: one id gives its audio file, several give a zip archive.

        Parameters
        ----------
        history_item_ids : str or sequence of str
            The items to save.
        path : path-like
            File to write; if it is an existing directory, the file is created inside it
            (named after the id, or ``history.zip``).
        output_format : str, optional
            ``"wav"`` or the stored format (default).

        Returns
        -------
        pathlib.Path
            The file written.
        """
        ids = [history_item_ids] if isinstance(history_item_ids, str) else list(history_item_ids)
        if not ids:
            raise ValueError("history_item_ids is empty: give at least one id.")
        body: dict[str, Any] = {"history_item_ids": ids}
        if output_format is not None:
            body["output_format"] = output_format
        # A POST that only reads: resending it cannot make or bill anything.
        response = self._transport.request("POST", endpoints.HISTORY_DOWNLOAD, json=body,
                                           idempotent=True)
        target = Path(path)
        if target.is_dir():
            name = ids[0] if len(ids) == 1 else "history"
            target = target / (name + _extension(response.headers.get("content-type")))
        target.write_bytes(response.content)
        return target

    def to_dataframe(self, page_size: int = 100, **filters: Any) -> pandas.DataFrame:
        """All matching history items as a DataFrame, one row per item (needs pandas).

        Columns are the :class:`HistoryItem` fields plus ``date`` (UTC timestamp),
        ``character_cost``, and what the API does not keep but this client remembers of the
        takes it made: ``seed``, ``time_to_first_byte`` and ``total_time`` (seconds; empty for
        other takes).
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("history.to_dataframe needs pandas: pip install pandas") from None
        columns = [f.name for f in dataclasses.fields(HistoryItem) if f.name != "extra"]
        rows = [{**{c: getattr(item, c) for c in columns}, "date": item.date,
                 "character_cost": item.character_cost,
                 **self._ledger.get(item.history_item_id)}
                for item in self.iter_all(page_size=page_size, **filters)]
        frame: pd.DataFrame = pd.DataFrame(
            rows, columns=[*columns, "date", "character_cost", *LEDGER_COLUMNS])
        return frame

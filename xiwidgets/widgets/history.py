"""HistoryTable: the generation history as a paged table with play, download, delete and reopen.

Only one page of history is fetched at a time (``GET /v1/history`` with a cursor), so the table
opens as fast with 10 000 takes as with 100. The row widgets are a pool as large as the page size
and are reused from page to page: the number of widgets in the browser is bounded by the page size,
whatever the size of the history.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import ipywidgets as widgets
import traitlets
from IPython.display import Audio
from ipywidgets.widgets.widget import CallbackDispatcher

from xiwidgets.formats import HISTORY_OUTPUT_FORMAT, OutputFormat, codec_of_media_type
from xiwidgets.widgets._base import ClientWidgetMixin
from xiwidgets.widgets._frontend import styled

if TYPE_CHECKING:
    import pandas as pd

    from xiwidgets.client import Client
    from xiwidgets.client.types import HistoryItem

PAGE_SIZES = (5, 10, 25, 50, 100)
ALL_VOICES = ""
_TEXT_PREVIEW_CHARS = 80
# Audio of a type the server did not name (or one unknown here) is taken to be the history's.
_STORED = OutputFormat.parse(HISTORY_OUTPUT_FORMAT)


def item_characters(item: HistoryItem) -> int:
    """Characters billed for ``item``: the counter change if the API reports one, else its text."""
    cost = item.character_cost
    return cost if cost else len(item.spoken_text or "")


def item_date(item: HistoryItem) -> dt.datetime:
    """Creation time of ``item`` as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(item.date_unix or 0, tz=dt.timezone.utc)


def _text_preview(item: HistoryItem) -> str:
    text = item.spoken_text or ""
    return text if len(text) <= _TEXT_PREVIEW_CHARS else text[:_TEXT_PREVIEW_CHARS] + "…"


@dataclass(frozen=True)
class HistoryColumn:
    """One column of the history: its ``to_dataframe()`` name and value, and how the table
    shows it, if it does.

    Attributes
    ----------
    name : str
        The column's name in ``HistoryTable.to_dataframe()``.
    value : callable
        ``value(item)``: the DataFrame value.
    header : str or None
        The label in the table's header; ``None`` for a column of the DataFrame only.
    width : str
        CSS width of the column's cells, shared by the header and every row so they line up.
    cell : callable or None
        ``cell(item)``: the text shown in the row; by default the value as text.
    tooltip : callable or None
        ``tooltip(item)``: the cell's tooltip (none when it returns a blank).
    """

    name: str
    value: Callable[[HistoryItem], object]
    header: str | None = None
    width: str = ""
    cell: Callable[[HistoryItem], str] | None = None
    tooltip: Callable[[HistoryItem], str | None] | None = None

    def text(self, item: HistoryItem) -> str:
        """What the row shows for ``item`` in this column."""
        if self.cell is not None:
            return self.cell(item)
        value = self.value(item)
        return "" if value is None else str(value)

    def title(self, item: HistoryItem) -> str | None:
        """The tooltip of ``item``'s cell in this column, if any."""
        return self.tooltip(item) if self.tooltip is not None else None


# The one description of the history's columns: the header, every row and the DataFrame.
HISTORY_COLUMNS = (
    HistoryColumn("history_item_id", lambda item: item.history_item_id),
    HistoryColumn("date", item_date, "Date", "125px",
                  cell=lambda item: item_date(item).strftime("%Y-%m-%d %H:%M")),
    HistoryColumn("voice_name", lambda item: item.speakers, "Voice", "110px",
                  cell=lambda item: item.speakers or item.voice_id or "",
                  tooltip=lambda item: item.voice_id),
    HistoryColumn("voice_id", lambda item: item.voice_id),
    HistoryColumn("model_id", lambda item: item.model_id, "Model", "150px"),
    HistoryColumn("characters", item_characters, "Chars", "50px"),
    HistoryColumn("text", lambda item: item.spoken_text, "Text", "320px", cell=_text_preview,
                  tooltip=lambda item: item.spoken_text),
)
_SHOWN_COLUMNS = tuple(column for column in HISTORY_COLUMNS if column.header is not None)


class _Filters(TypedDict, total=False):
    """The search and voice filter, as ``client.history.list`` keyword arguments."""

    search: str
    source: str
    voice_id: str


def _cells(cells: Iterable[tuple[HistoryColumn, str, str | None]]) -> str:
    """``(column, text, tooltip)`` cells as one row of HTML (one widget per row, not per cell).

    A column's width is where its cells start; they shrink on a narrow cell, and a cell cut
    short ends in an ellipsis, with the whole value as its tooltip (xiwidgets.css).
    """
    spans = []
    for column, text, title in cells:
        tooltip = title or text
        attribute = f' title="{html.escape(tooltip)}"' if tooltip else ""
        spans.append(
            f'<span class="xi-history-cell xi-history-cell-{html.escape(column.name)}" '
            f'style="flex:0 1 {column.width}"{attribute}>{html.escape(text)}</span>'
        )
    return f'<div class="xi-history-cells-row">{"".join(spans)}</div>'


def _button(description: str, css_class: str, tooltip: str, **kwargs: str) -> widgets.Button:
    button = widgets.Button(
        description=description,
        tooltip=tooltip,
        layout=widgets.Layout(width="auto"),
        **kwargs,
    )
    button.add_class(css_class)
    return button


class _HistoryRow:
    """The widgets of one table row, reused for whichever history item it shows."""

    def __init__(self, table: HistoryTable) -> None:
        self.item: HistoryItem | None = None
        self._table = table
        self.select = widgets.Checkbox(
            value=False, indent=False, layout=widgets.Layout(width="24px"),
            tooltip="Select this take for the zip download",
        )
        self.select.add_class("xi-history-select")
        self.cells = widgets.HTML()
        self.cells.add_class("xi-history-cells")
        self.play_button = _button("Play", "xi-history-play", "Play this take", icon="play")
        self.download_button = _button(
            "Save", "xi-history-download", "Download this take", icon="download"
        )
        self.open_button = _button("Open", "xi-history-open", "Open in Studio", icon="edit")
        self.delete_button = _button(
            "Delete", "xi-history-delete", "Delete this take", icon="trash"
        )
        self.confirm_button = _button(
            "Yes, delete", "xi-history-confirm", "Delete for good", button_style="danger"
        )
        self.cancel_button = _button("No", "xi-history-cancel", "Keep this take")
        self.confirm_box = widgets.HBox(
            [widgets.Label("Delete?"), self.confirm_button, self.cancel_button],
            layout=widgets.Layout(display="none"),
        )
        self.actions = widgets.HBox(
            [
                self.play_button,
                self.download_button,
                self.open_button,
                self.delete_button,
                self.confirm_box,
            ]
        )
        self.actions.add_class("xi-history-actions")
        self.audio = widgets.Output()
        self.audio.add_class("xi-history-audio")
        line = widgets.HBox([self.select, self.cells, self.actions])
        line.add_class("xi-history-line")
        self.box = widgets.VBox([line, self.audio])
        self.box.add_class("xi-history-row")
        self.select.observe(self._on_select, names="value")
        self.play_button.on_click(lambda _: self._act(table.play))
        self.download_button.on_click(lambda _: self._act(table.download_item))
        self.open_button.on_click(lambda _: self._act(table.open_in_studio))
        self.delete_button.on_click(lambda _: self._act(table.request_delete))
        self.confirm_button.on_click(lambda _: self._act(table.confirm_delete))
        self.cancel_button.on_click(lambda _: self._act(table.cancel_delete))

    def show(self, item: HistoryItem, selected: bool, asking_to_delete: bool) -> None:
        self.item = item
        self.cells.value = _cells(
            (column, column.text(item), column.title(item)) for column in _SHOWN_COLUMNS
        )
        self.select.value = selected
        self.show_confirmation(asking_to_delete)
        self.audio.outputs = ()

    def show_confirmation(self, asking: bool) -> None:
        self.confirm_box.layout.display = None if asking else "none"
        self.delete_button.layout.display = "none" if asking else None

    def _on_select(self, change: traitlets.Bunch) -> None:
        if self.item is not None:
            self._table._set_selected(self.item.history_item_id, change["new"])

    def _act(self, action: Callable[[str], object]) -> None:
        if self.item is not None:
            action(self.item.history_item_id)


class HistoryTable(ClientWidgetMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """The generation history as a paged table: play, download, delete, reopen, zip several.

    Pages are fetched one at a time with the API's cursor (``start_after_history_item_id``); the
    cursor of every page seen is kept so that Back costs one request and no scan.

    Parameters
    ----------
    client : Client, optional
        The client to use; by default the shared ``xiwidgets.connect()`` client.
    page_size : int, default 10
        Rows per page; the user can change it in the widget.
    download_dir : str or Path, default "xiwidgets-downloads"
        Where downloads are written (relative paths are relative to the notebook's directory,
        which is where the offered link points).

    Attributes
    ----------
    items : list of HistoryItem
        The takes on the page shown (a trait kept in Python, never synced).
    item_ids, page_index, has_more
        Synced traits: the ids on the page shown, its number (0 = newest), whether one follows.
    last_error : Exception or None
        The error of the last failed action (also shown in the widget's error card).
    """

    # What the browser needs is ids and numbers; the items, with their texts and settings,
    # stay in Python (like a Dropdown's ``options`` beside its synced labels and index).
    items: traitlets.List[HistoryItem] = traitlets.List(
        read_only=True, help="The HistoryItems on the page shown.")
    item_ids: traitlets.List[str] = traitlets.List(traitlets.Unicode(), read_only=True,
                              help="Ids of the takes on the page shown, in order.").tag(sync=True)
    page_index = traitlets.Int(0, read_only=True,
                               help="The page shown (0 = the newest takes).").tag(sync=True)
    has_more = traitlets.Bool(False, read_only=True,
                              help="Whether another page follows this one.").tag(sync=True)

    def __init__(
        self,
        client: Client | None = None,
        page_size: int = 10,
        download_dir: str | Path = "xiwidgets-downloads",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.add_class("xi-history")
        self._init_client(client)
        self.download_dir = Path(download_dir)
        # The cursor of every page seen: cursors[n] starts page n.
        self._cursors: list[str | None] = [None]
        self._selected: set[str] = set()
        self._confirming: str | None = None
        self._open_callbacks = CallbackDispatcher()
        self._rows: list[_HistoryRow] = []

        self.search_box = widgets.Text(
            placeholder="Search text…", continuous_update=False, description="Search",
            layout={"width": "260px"},
        )
        self.search_box.add_class("xi-history-search")
        self.voice_filter = widgets.Dropdown(
            options=[("All voices", ALL_VOICES)], description="Voice", layout={"width": "260px"}
        )
        self.voice_filter.add_class("xi-history-voice")
        sizes = sorted({*PAGE_SIZES, int(page_size)})
        self.page_size_picker = widgets.Dropdown(
            options=sizes, value=int(page_size), description="Rows", layout={"width": "140px"}
        )
        self.page_size_picker.add_class("xi-history-page-size")
        self.refresh_button = _button(
            "Refresh", "xi-history-refresh", "Fetch the history again", icon="refresh"
        )
        self.back_button = _button("Back", "xi-history-back", "Previous page", icon="chevron-left")
        self.next_button = _button("Next", "xi-history-next", "Next page", icon="chevron-right")
        self.page_label = widgets.Label()
        self.page_label.add_class("xi-history-page")
        self.zip_button = _button(
            "Download selected (zip)", "xi-history-zip", "Download the checked takes as a zip"
        )
        self.status = widgets.HTML()
        self.status.add_class("xi-history-status")
        self.rows_box = widgets.VBox()
        self.rows_box.add_class("xi-history-rows")
        header_cells = widgets.HTML(_cells((c, c.header or "", None) for c in _SHOWN_COLUMNS))
        header_cells.add_class("xi-history-cells")
        # The actions column has no header: its buttons carry their own labels.
        self._header = widgets.HBox(
            [widgets.Label(layout=widgets.Layout(width="24px")), header_cells]
        )
        self._header.add_class("xi-history-header")

        self.search_box.observe(lambda _: self._restart(), names="value")
        self.voice_filter.observe(lambda _: self._restart(), names="value")
        self.page_size_picker.observe(lambda _: self._restart(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh(reload_voices=True))
        self.back_button.on_click(lambda _: self.previous_page())
        self.next_button.on_click(lambda _: self.next_page())
        self.zip_button.on_click(lambda _: self.download_selected())

        self.children = [
            widgets.HBox([self.search_box, self.voice_filter, self.page_size_picker,
                          self.refresh_button]),
            self.error_card,
            self._header,
            self.rows_box,
            widgets.HBox([self.back_button, self.page_label, self.next_button, self.zip_button]),
            self.status,
        ]
        styled(self)
        with self._reporting():
            self._load_voice_options()
        self._show_page(0, [None])

    # -- public API -------------------------------------------------------------------------

    @property
    def page_size(self) -> int:
        """Rows per page (the value of the widget's page-size picker)."""
        return int(self.page_size_picker.value)

    @page_size.setter
    def page_size(self, value: int) -> None:
        if value not in self.page_size_picker.options:
            self.page_size_picker.options = sorted({*self.page_size_picker.options, int(value)})
        self.page_size_picker.value = int(value)

    @property
    def selected_ids(self) -> list[str]:
        """Ids of the checked rows, on any page."""
        return sorted(self._selected)

    def refresh(self, reload_voices: bool = False) -> None:
        """Fetch the first page again (the Studio calls this after each take).

        Parameters
        ----------
        reload_voices : bool, default False
            Also fetch the voice list again for the voice filter.
        """
        if reload_voices:
            with self._reporting():
                self._load_voice_options()
        self._restart()

    def next_page(self) -> None:
        """Show the next page (what the Next button does); no-op on the last page."""
        if self.has_more:
            self._show_page(self.page_index + 1, self._cursors)

    def previous_page(self) -> None:
        """Show the previous page (what the Back button does); no-op on the first page."""
        if self.page_index > 0:
            self._show_page(self.page_index - 1, self._cursors)

    def on_open(self, callback: Callable[[HistoryItem], object], remove: bool = False) -> None:
        """Call ``callback(item)`` when a row's "Open" button is clicked.

        Parameters
        ----------
        callback : callable
            Receives the ``HistoryItem`` (text, voice_id, model_id, settings).
        remove : bool, default False
            Unregister ``callback`` instead.
        """
        self._open_callbacks.register_callback(callback, remove=remove)

    def open_in_studio(self, history_item_id: str) -> None:
        """Pass the item to every ``on_open`` callback (what a row's "Open" button does)."""
        with self._reporting():
            self._open_callbacks(self._item(history_item_id))

    def play(self, history_item_id: str) -> None:
        """Fetch the take's audio and play it inline under its row."""

        with self._reporting():
            audio = self.client.history.audio(history_item_id)
            item = self._item(history_item_id)
            player = Audio(data=audio, autoplay=True)
            player.mimetype = item.content_type or _STORED.media_type
            for row in self._rows:
                row.audio.outputs = ()
            shown = self._row(history_item_id)
            if shown is not None:
                # Appending works with and without a running kernel (unlike ``with output:``).
                shown.audio.append_display_data(player)

    def download_item(self, history_item_id: str) -> Path | None:
        """Write one take to ``download_dir`` and offer a link to it.

        Returns
        -------
        Path or None
            The file written, or None when the download failed (see ``last_error``).
        """
        item = self._item(history_item_id)
        extension = (codec_of_media_type(item.content_type) or _STORED).extension
        name = f"{item_date(item):%Y%m%d-%H%M%S}-{history_item_id}{extension}"
        with self._reporting():
            return self._download([history_item_id], self.download_dir / name)
        return None

    def download_selected(self) -> Path | None:
        """Write the checked takes to one zip in ``download_dir`` and offer a link to it.

        Returns
        -------
        Path or None
            The zip written, or None when nothing is checked or the download failed.
        """
        if not self._selected:
            self.status.value = "Check some rows first."
            return None
        stamp = dt.datetime.now(tz=dt.timezone.utc)
        path = self.download_dir / f"history-{stamp:%Y%m%d-%H%M%S}.zip"
        with self._reporting():
            return self._download(self.selected_ids, path)
        return None

    def request_delete(self, history_item_id: str) -> None:
        """Ask "Delete?" on the row (first click of its delete button); nothing is deleted yet."""
        self._confirming = history_item_id
        for row, item in self._visible_rows():
            row.show_confirmation(item.history_item_id == history_item_id)

    def cancel_delete(self, history_item_id: str | None = None) -> None:
        """Answer "no" to the pending "Delete?" question."""
        self._confirming = None
        for row, _item in self._visible_rows():
            row.show_confirmation(False)

    def confirm_delete(self, history_item_id: str) -> None:
        """Delete the take whose deletion was asked for, then reload the page.

        Only the row that asked "Delete?" can be confirmed, so a stray click never deletes.
        """
        if self._confirming != history_item_id:
            return
        with self._reporting():
            self.client.history.delete(history_item_id)
            self._confirming = None
            self._selected.discard(history_item_id)
            self._load_page(self.page_index, self._cursors)
            self.status.value = "Deleted 1 take."

    def to_dataframe(self, all_pages: bool = False) -> pd.DataFrame:
        """The history as a pandas DataFrame.

        Parameters
        ----------
        all_pages : bool, default False
            False: the rows of the page being shown. True: every item matching the current
            search and voice filter (fetched page by page by the client).

        Returns
        -------
        pandas.DataFrame
            The columns of ``HISTORY_COLUMNS``: ``history_item_id``, ``date``, ``voice_name``,
            ``voice_id``, ``model_id``, ``characters``, ``text``.
        """
        # Imported here: pandas is optional (not a dependency of xiwidgets) and takes about a
        # second to import, which the table itself never needs.
        import pandas as pd

        items: Iterable[HistoryItem] = self.items
        if all_pages:
            items = self.client.history.iter_all(**self._filters())
        records = [{column.name: column.value(item) for column in HISTORY_COLUMNS}
                   for item in items]
        # Annotated: pandas-stubs types DataFrame's constructors as returning Any.
        frame: pd.DataFrame = pd.DataFrame.from_records(
            records, columns=[column.name for column in HISTORY_COLUMNS])
        return frame

    def close(self) -> None:
        """Close the table and every widget it made, including rows not on the current page."""
        for row in self._rows:
            _close_tree(row.box)
        self.rows_box.children = ()
        for child in self.children:
            _close_tree(child)
        self.layout.close()
        super().close()

    # -- internals --------------------------------------------------------------------------

    def _filters(self) -> _Filters:
        filters: _Filters = {}
        if self.search_box.value.strip():
            filters["search"] = self.search_box.value.strip()
            # The hosted API wants a source with a search; the history of TTS takes is ours.
            filters["source"] = "TTS"
        if self.voice_filter.value:
            filters["voice_id"] = self.voice_filter.value
        return filters

    def _restart(self) -> None:
        self._show_page(0, [None])

    def _show_page(self, index: int, cursors: list[str | None]) -> None:
        with self._reporting():
            self._load_page(index, cursors)

    def _load_voice_options(self) -> None:
        voices = sorted(self.client.voices.list(),
                        key=lambda voice: (voice.name or voice.voice_id).lower())
        current = self.voice_filter.value
        options = [("All voices", ALL_VOICES)]
        options += [(voice.name or voice.voice_id, voice.voice_id) for voice in voices]
        with self.voice_filter.hold_trait_notifications():
            self.voice_filter.options = options
            if current in {value for _, value in options}:
                self.voice_filter.value = current

    def _load_page(self, index: int, cursors: list[str | None]) -> None:
        """Fetch page ``index`` (``cursors[index]`` starts it) and show it.

        Nothing changes until the page has arrived, so a failed request leaves the page shown,
        its number and its cursors as they were.
        """
        page = self.client.history.list(
            page_size=self.page_size,
            start_after_history_item_id=cursors[index],
            **self._filters(),
        )
        items = list(page.items)
        del cursors[index + 1 :]
        if page.has_more:
            cursors.append(page.last_history_item_id or items[-1].history_item_id)
        self._cursors = cursors
        ids = [item.history_item_id for item in items]
        if self._confirming not in ids:
            self._confirming = None
        # One state message to the browser, and observers see the new page whole.
        with self.hold_sync(), self.hold_trait_notifications():
            self.set_trait("items", items)
            self.set_trait("item_ids", ids)
            self.set_trait("page_index", index)
            self.set_trait("has_more", bool(page.has_more))
        self._render()

    def _render(self) -> None:
        while len(self._rows) < len(self.items):
            self._rows.append(_HistoryRow(self))
        for row, item in zip(self._rows, self.items, strict=False):
            row.show(
                item,
                selected=item.history_item_id in self._selected,
                asking_to_delete=item.history_item_id == self._confirming,
            )
        for row in self._rows[len(self.items) :]:
            row.item = None
        self.rows_box.children = [row.box for row, _item in self._visible_rows()]
        self.back_button.disabled = self.page_index == 0
        self.next_button.disabled = not self.has_more
        first = self.page_index * self.page_size
        if self.items:
            self.page_label.value = (
                f"Page {self.page_index + 1} · rows {first + 1}–{first + len(self.items)}"
            )
        else:
            self.page_label.value = f"Page {self.page_index + 1} · no takes"
        self._update_zip_button()

    def _visible_rows(self) -> list[tuple[_HistoryRow, HistoryItem]]:
        """The rows that show an item, with the item each shows."""
        return [(row, row.item) for row in self._rows if row.item is not None]

    def _row(self, history_item_id: str) -> _HistoryRow | None:
        for row, item in self._visible_rows():
            if item.history_item_id == history_item_id:
                return row
        return None

    def _item(self, history_item_id: str) -> HistoryItem:
        for item in self.items:
            if item.history_item_id == history_item_id:
                return item
        return self.client.history.get(history_item_id)

    def _set_selected(self, history_item_id: str, selected: bool) -> None:
        if selected:
            self._selected.add(history_item_id)
        else:
            self._selected.discard(history_item_id)
        self._update_zip_button()

    def _update_zip_button(self) -> None:
        count = len(self._selected)
        self.zip_button.disabled = count == 0
        self.zip_button.description = (
            f"Download {count} selected (zip)" if count else "Download selected (zip)"
        )

    def _download(self, ids: list[str], path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        written = Path(self.client.history.download(ids, path))
        self.status.value = _file_link(written)
        return written


def _close_tree(widget: widgets.Widget) -> None:
    """Close ``widget``, its children and their layout and style widgets (each is a comm)."""
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if isinstance(part, widgets.Widget):
            part.close()
    widget.close()


def _file_link(path: Path) -> str:
    """A link to ``path`` that JupyterLab resolves against the notebook's directory."""
    try:
        href = path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return f"Saved to <code>{html.escape(str(path))}</code>"
    return (
        f'Saved <a href="{html.escape(href)}" download="{html.escape(path.name)}" '
        f'target="_blank">{html.escape(path.name)}</a>'
    )


__all__ = ["HISTORY_COLUMNS", "HistoryColumn", "HistoryTable", "item_characters", "item_date"]

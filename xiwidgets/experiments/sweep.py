"""Sweeps: a grid of request parameters run as one batch, shown as a table to listen and rate.

A sweep is a folder: the batch's audio files and manifest, the figures (``scores.csv``) and the
ratings (``ratings.json``). Running the same sweep again finds all three and bills nothing.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from ipywidgets.widgets.widget import CallbackDispatcher

from xiwidgets.experiments.grid import batch_row, digest, expand
from xiwidgets.experiments.metrics import METRICS, _metric_list, evaluate
from xiwidgets.experiments.ranking import best_index
from xiwidgets.formats import NOTEBOOK_OUTPUT_FORMAT
from xiwidgets.widgets._base import ClientWidgetMixin
from xiwidgets.widgets._frontend import styled

if TYPE_CHECKING:
    import pandas

    from xiwidgets.client import Client
    from xiwidgets.client.types import BatchItem, Take

SCORES_NAME = "scores.csv"
RATINGS_NAME = "ratings.json"
_STARS = [("—", 0), *((("★" * n), n) for n in range(1, 6))]
_FIGURE_FORMATS = {"wer": "WER {:.2f}", "dnsmos": "DNSMOS {:.2f}", "speaking_rate": "{:.0f} wpm",
                   "loudness": "{:.1f} LUFS", "pitch": "{:.0f} Hz", "duration": "{:.2f} s"}


def _figures_line(row: Mapping[str, Any]) -> str:
    parts = []
    for column, pattern in _FIGURE_FORMATS.items():
        value = row.get(column)
        if isinstance(value, (int, float)) and math.isfinite(value):
            parts.append(pattern.format(value))
    return " · ".join(parts)


def _cell_label(cell: dict[str, Any]) -> str:
    """A cell's parameters, one to a line: a narrow column wraps between them, never inside
    one ("stability=0" / ".35"); a value too long for the column is cut with an ellipsis and
    shown whole in its tooltip."""
    lines = []
    for name, value in cell.items():
        text = html.escape(f"{name}={value!r}")
        lines.append(f'<span class="xi-sweep-param" title="{text}">{text}</span>')
    return "".join(lines)


class SweepGrid(ClientWidgetMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """A settings sweep: every cell of ``grid`` as a take, playable, scored and rated.

    The grid runs as one batch (:meth:`Client.synthesize_many`: a progress bar, at most
    ``max_concurrency`` requests at once, resumable) when the widget is made; takes are decoded
    once, for the figures and the players alike.

    Parameters
    ----------
    text : str, optional
        What every cell says (unless ``text`` is an axis).
    voice : Voice or str, optional
        The voice of every cell (unless ``voice`` is an axis).
    grid : mapping of str to list
        Axes and their values. Any request parameter: the voice settings (``stability``,
        ``similarity_boost``, ``style``, ``use_speaker_boost``, ``speed``), ``seed``,
        ``voice``, ``model_id``, ``text``, ``output_format``, ``voice_settings`` (whole
        mappings) and the further
        body fields (``language_code``, ``previous_text``, ``apply_text_normalization``…).
    model_id : str, optional
        The model of every cell (unless it is an axis); the server's default when ``None``.
    seed : int, optional
        The seed of every cell (unless it is an axis).
    settings : mapping, optional
        Voice settings every cell starts from.
    evaluate : bool, default True
        Score every take (see :func:`xiwidgets.experiments.evaluate`).
    metrics : iterable of str, optional
        The figures to compute; all of them by default.
    output_format : str, default "mp3_44100_64"
        The format of every cell (unless it is an axis); MP3 keeps the players small in a
        saved notebook.
    out_dir : path-like, optional
        The sweep's folder; ``sweeps/<a digest of the sweep>`` by default, so that running
        the same sweep again resumes it.
    max_concurrency : int, default 4
        Requests in flight at once.
    max_cells : int, optional
        Allow more than 200 cells (every cell is a billed take).
    progress : bool, default True
        Show the batch's progress bar.
    client : Client, optional
        ``xiwidgets.connect()`` by default.

    Attributes
    ----------
    results : pandas.DataFrame
        One row per cell: the axes, ``file``, ``status``, ``request_id``, ``character_cost``,
        the figures, ``rating`` (0 = not rated, 1–5 stars) and ``pick``.
    items : list of BatchItem
        What the batch did with each cell.
    out_dir : pathlib.Path
        The sweep's folder.

    Raises
    ------
    ValueError
        An empty grid, an axis that is not a request parameter, an axis without values, more
        than ``max_cells`` cells, an unknown metric: before any request is sent.
    """

    def __init__(self, text: str | None = None, *, voice: Any = None,
                 grid: Mapping[str, Iterable[Any]], model_id: str | None = None,
                 seed: int | None = None, settings: Mapping[str, Any] | None = None,
                 evaluate: bool = True, metrics: Iterable[str] | None = None,
                 output_format: str = NOTEBOOK_OUTPUT_FORMAT, out_dir: str | Path | None = None,
                 max_concurrency: int = 4, max_cells: int | None = None,
                 progress: bool = True, client: Client | None = None, **kwargs: Any) -> None:
        cells = expand(grid, max_cells)
        rows = [batch_row(cell, text=text, voice=voice, model_id=model_id, seed=seed,
                          settings=settings, output_format=output_format, name=f"{index:03d}")
                for index, cell in enumerate(cells)]
        self._metrics = [m.name for m in _metric_list(metrics)] if evaluate else []
        super().__init__(**kwargs)
        self._init_client(client)
        self.add_class("xi-sweep")
        self.axes = list(cells[0])
        self.cells = cells
        self._voice = voice
        self.out_dir = Path(out_dir) if out_dir is not None else Path("sweeps") / digest(
            text, voice, model_id, seed, settings, output_format, grid)
        self._rating_callbacks = CallbackDispatcher()
        self._ratings: dict[str, dict[str, Any]] = {}
        self._scores: pandas.DataFrame | None = None
        self.items: list[BatchItem] = []
        self._takes: dict[int, Take] = {}
        self._summary = widgets.HTML()
        # Cells, players and figures share what is left by the rating and pick columns, so
        # the table fits a narrow cell (its text wraps, its players shrink) and a wide one.
        self._table = widgets.GridBox(layout=widgets.Layout(
            grid_template_columns="fit-content(14em) minmax(0, 2fr) minmax(0, 1fr) auto auto",
            grid_gap="2px 12px", align_items="center", width="100%"))
        self._table.add_class("xi-sweep-table")
        self.children = [self._summary, self.error_card, self._table]
        styled(self)
        with self._reporting():
            result = self.client.synthesize_many(
                rows, out_dir=self.out_dir, output_format=output_format,
                max_concurrency=max_concurrency, progress=progress)
            self.items = list(result.items)
            self._ratings = self._read_ratings()
            if self._metrics:
                self._scores = self._score()
        self._render()

    # What the sweep keeps in its folder.

    def _read_ratings(self) -> dict[str, dict[str, Any]]:
        path = self.out_dir / RATINGS_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_ratings(self) -> None:
        path = self.out_dir / RATINGS_NAME
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps(self._ratings, indent=1, sort_keys=True), encoding="utf-8")
        partial.replace(path)

    def take(self, index: int) -> Take:
        """The take of cell ``index``, loaded (and later decoded) once."""
        if index not in self._takes:
            take = self.items[index].take()
            voice = self.cells[index].get("voice", self._voice)
            if isinstance(voice, str) and voice != take.voice_id:  # named by the sweep
                take = dataclasses.replace(take, voice_name=voice)
            self._takes[index] = take
        return self._takes[index]

    def _score(self) -> pandas.DataFrame:
        """Figures of every finished cell; those of an earlier run of the same take are reused."""
        import pandas as pd

        path = self.out_dir / SCORES_NAME
        try:
            cached = pd.read_csv(path, dtype={"file": str, "request_id": str})
        except (OSError, ValueError):
            cached = pd.DataFrame(columns=["file", "request_id"])
        fresh_items = []
        kept = []
        for item in self.items:
            if item.path is None:
                continue
            match = cached[(cached["file"] == item.file)
                           & (cached["request_id"] == (item.request_id or ""))]
            columns_known = all(c in cached.columns for c in self._metrics)
            if len(match) == 1 and columns_known:
                kept.append(match)
            else:
                fresh_items.append(item)
        frames = kept
        if fresh_items:
            scores = evaluate([self.take(i.index) for i in fresh_items], metrics=self._metrics)
            scores.insert(0, "file", [i.file for i in fresh_items])
            scores.insert(1, "request_id", [i.request_id or "" for i in fresh_items])
            frames = [*kept, scores]
        table: pandas.DataFrame = pd.concat(frames, ignore_index=True) if frames else (
            pd.DataFrame(columns=["file", "request_id"]))
        partial = path.with_name(path.name + ".part")
        table.to_csv(partial, index=False)
        partial.replace(path)
        return table

    # The table.

    def _rating_of(self, index: int) -> dict[str, Any]:
        item = self.items[index]
        saved = self._ratings.get(item.file or "", {})
        return {"rating": int(saved.get("rating", 0)), "pick": bool(saved.get("pick", False))}

    def _figures_of(self, index: int) -> dict[str, Any]:
        item = self.items[index]
        if self._scores is None or item.path is None:
            return {}
        match = self._scores[self._scores["file"] == item.file]
        if match.empty:
            return {}
        return {k: v for k, v in match.iloc[0].to_dict().items()
                if k in METRICS or k == "transcript"}

    def _render(self) -> None:
        done = [i for i in self.items if i.path is not None]
        failed = len(self.items) - len(done)
        billed = sum(i.character_cost or 0 for i in self.items if i.status == "ok")
        skipped = sum(1 for i in self.items if i.status == "skipped")
        line = (f"{len(self.cells)} cells over {', '.join(self.axes)} · {billed:,} characters "
                f"billed · {skipped} from an earlier run · folder {self.out_dir}")
        if failed:
            line += f" · {failed} failed"
        self._summary.value = f"<b>Sweep</b>: {html.escape(line)}"
        headers = ["cell", "take", "figures", "rating", "pick"]
        children: list[widgets.Widget] = [widgets.HTML(f"<b>{h}</b>") for h in headers]
        for index, item in enumerate(self.items):
            cell = ", ".join(f"{k}={v!r}" for k, v in self.cells[index].items())
            children.append(widgets.HTML(_cell_label(self.cells[index])))
            if item.path is None:
                children.append(widgets.HTML(
                    f'<span class="xi-sweep-failed">failed: {html.escape(item.error or "")}'
                    "</span>"))
            else:
                children.append(widgets.HTML(self.take(index)._repr_html_()))
            children.append(widgets.HTML(html.escape(_figures_line(self._figures_of(index)))))
            saved = self._rating_of(index)
            stars = widgets.Dropdown(options=_STARS, value=saved["rating"],
                                     layout=widgets.Layout(width="90px"),
                                     disabled=item.path is None, tooltip=f"Rating of {cell}")
            pick = widgets.Checkbox(value=saved["pick"], indent=False,
                                    disabled=item.path is None, tooltip=f"Pick {cell}",
                                    layout=widgets.Layout(width="auto"))
            stars.observe(lambda change, i=index: self.rate(i, change["new"]), names="value")
            pick.observe(lambda change, i=index: self.pick(i, change["new"]), names="value")
            children.extend([stars, pick])
        self._table.children = children

    # Ratings.

    def _controls(self, index: int) -> tuple[widgets.Dropdown, widgets.Checkbox]:
        first = 5 * (index + 1) + 3
        return self._table.children[first], self._table.children[first + 1]

    def _finished(self, index: int) -> BatchItem:
        if not 0 <= index < len(self.items):
            raise IndexError(f"No cell {index}: the sweep has {len(self.items)} cells.")
        item = self.items[index]
        if item.path is None:
            raise ValueError(f"Cell {index} failed ({item.error}); there is no take to rate.")
        return item

    def rate(self, index: int, stars: int) -> None:
        """Give cell ``index`` a rating of 1–5 stars (0 clears it); kept in the sweep's folder."""
        item = self._finished(index)
        if isinstance(stars, bool) or not isinstance(stars, int) or not 0 <= stars <= 5:
            raise ValueError(f"A rating is 0 (none) to 5 stars, not {stars!r}.")
        self._update(index, item, rating=stars)

    def pick(self, index: int, picked: bool = True) -> None:
        """Mark cell ``index`` as picked (or not); kept in the sweep's folder."""
        self._update(index, self._finished(index), pick=bool(picked))

    def _update(self, index: int, item: BatchItem, **change: Any) -> None:
        entry = {**self._rating_of(index), **change}
        if entry == self._rating_of(index):
            return
        with self._reporting():
            self._ratings[item.file or ""] = entry
            self._write_ratings()
            stars, pick = self._controls(index)
            stars.value, pick.value = entry["rating"], entry["pick"]
            self._rating_callbacks(index, entry["rating"], entry["pick"])

    def on_rating(self, callback: Callable[[int, int, bool], Any], remove: bool = False) -> None:
        """Call ``callback(index, rating, pick)`` when a cell's rating or pick changes.

        Parameters
        ----------
        callback : callable
            Receives the cell's index, its stars (0–5) and whether it is picked.
        remove : bool, default False
            Unregister ``callback`` instead.
        """
        self._rating_callbacks.register_callback(callback, remove=remove)

    # Results.

    @property
    def results(self) -> pandas.DataFrame:
        """One row per cell: axes, file, status, request, figures, rating and pick."""
        import pandas as pd

        rows = []
        for index, item in enumerate(self.items):
            rows.append({
                **self.cells[index], "file": item.file, "status": item.status,
                "request_id": item.request_id, "character_cost": item.character_cost,
                **self._figures_of(index), **self._rating_of(index)})
        table: pandas.DataFrame = pd.DataFrame(rows)
        return table

    def best(self, by: str = "wer") -> Take:
        """The take of the best cell by a figure (``"wer"``, ``"dnsmos"``) or ``"rating"``.

        Raises
        ------
        ValueError
            ``by`` does not rank takes, or no cell has that figure.
        """
        table = self.results
        if by == "rating":  # 0 stars means "not rated", not "worst"
            table["rating"] = table["rating"].where(table["rating"] > 0)
        return self.take(int(best_index(table, by)))


def sweep(text: str | None = None, **kwargs: Any) -> SweepGrid:
    """Run a grid of request parameters as one batch and show it (see :class:`SweepGrid`).

    Examples
    --------
    >>> grid = xi.sweep("Hello!", voice="Joe", grid={"stability": [0.3, 0.7],
    ...                 "seed": [1, 2]})                                  # doctest: +SKIP
    >>> grid.best(by="wer")                                               # doctest: +SKIP
    """
    return SweepGrid(text, **kwargs)

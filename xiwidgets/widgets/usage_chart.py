"""UsageChart: characters used per day, drawn as small bars in the browser.

An anywidget (``static/usage_chart.js``) because ipywidgets has no chart: the Python side
syncs only the days and their counts; the bars are SVG coloured from the theme's variables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

if TYPE_CHECKING:
    from xiwidgets.client import Client

_STATIC = Path(__file__).parent / "static"
DAYS = 30
_DAY_MS = 86_400_000


def daily_usage(client: Client, days: int = DAYS,
                now: dt.datetime | None = None) -> list[tuple[str, int]]:
    """Characters used on each of the last ``days`` days (UTC), oldest first, today last.

    Reads ``GET /v1/usage/character-stats`` with one-day buckets and sums its series (the
    account's total, whatever the breakdown).
    """
    moment = now or dt.datetime.now(dt.timezone.utc)
    end_ms = int(moment.timestamp() * 1000)
    first_ms = (end_ms - end_ms % _DAY_MS) - (days - 1) * _DAY_MS
    stats = client.usage.character_stats(first_ms, end_ms, aggregation_interval="day")
    by_day: dict[str, int] = {}
    for index, start in enumerate(stats.time):
        day = dt.datetime.fromtimestamp(start / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%d")
        used = sum(series[index] for series in stats.usage.values() if index < len(series))
        by_day[day] = by_day.get(day, 0) + int(used)
    wanted = [(dt.datetime.fromtimestamp((first_ms + i * _DAY_MS) / 1000, tz=dt.timezone.utc)
               .strftime("%Y-%m-%d")) for i in range(days)]
    return [(day, by_day.get(day, 0)) for day in wanted]


def summary(days: Sequence[str], characters: Sequence[int]) -> str:
    """The chart's accessible name: what a reader would take from the bars."""
    if not days:
        return "Characters used per day: no usage figures yet."
    total = sum(characters)
    text = f"Characters used per day, last {len(days)} days: {total:,} in all"
    if total:
        peak = max(range(len(days)), key=lambda i: characters[i])
        text += f", most on {days[peak]} ({characters[peak]:,})"
    return text + f", {characters[-1]:,} today."


class UsageChart(anywidget.AnyWidget):
    """Bars of the characters used on each of the last days, today on the right.

    Attributes
    ----------
    days : list of str
        The days, ``YYYY-MM-DD`` (UTC), oldest first.
    characters : list of int
        Characters used on each day.
    label : str
        The chart's accessible name (and tooltip): total, busiest day, today.
    """

    _esm = _STATIC / "usage_chart.js"
    _css = _STATIC / "usage_chart.css"

    days = traitlets.List(traitlets.Unicode(), help="Days, YYYY-MM-DD (UTC).").tag(sync=True)
    characters = traitlets.List(traitlets.Int(), help="Characters used each day.").tag(
        sync=True)
    label = traitlets.Unicode(summary([], []), help="Accessible name.").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("xi-usage-chart")

    def show(self, usage: Sequence[tuple[str, int]], unavailable: str | None = None) -> None:
        """Draw ``[(day, characters), ...]``; or no bars, saying why, when ``unavailable``."""
        with self.hold_sync():
            self.days = [day for day, _ in usage]
            self.characters = [int(count) for _, count in usage]
            self.label = (summary(self.days, self.characters) if unavailable is None
                          else f"Characters used per day: not available ({unavailable}).")

"""QuotaMeter: characters used out of the account's limit, and when the count resets."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets

from xiwidgets.client.errors import XIError
from xiwidgets.widgets._base import ClientWidgetMixin
from xiwidgets.widgets._frontend import styled
from xiwidgets.widgets.usage_chart import UsageChart, daily_usage

if TYPE_CHECKING:
    from xiwidgets.client import Client
    from xiwidgets.client.types import Subscription


def reset_date(reset_unix: int | None) -> str:
    """``"2026-12-01"`` for a reset time in unix seconds (``""`` when unknown)."""
    if not reset_unix:
        return ""
    return dt.datetime.fromtimestamp(reset_unix, tz=dt.timezone.utc).strftime("%Y-%m-%d")


class QuotaMeter(ClientWidgetMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """A bar of the characters used this period out of the limit, with the reset date, and a
    small chart of the characters used on each of the last 30 days
    (``GET /v1/usage/character-stats``).

    Parameters
    ----------
    client : Client, optional
        The client to read the subscription with; ``xiwidgets.connect()`` when omitted.

    Attributes
    ----------
    subscription : Subscription or None
        What the last refresh read.
    usage : list of (str, int)
        Characters used on each of the last 30 days (UTC), oldest first, as last read.
    chart : UsageChart
        The bars of :attr:`usage`.
    last_error : Exception or None
        Why the last refresh failed (also shown on the error card).
    """

    character_count = traitlets.Int(0, help="Characters used this period.").tag(sync=True)
    character_limit = traitlets.Int(0, help="Characters allowed this period.").tag(sync=True)
    reset_unix = traitlets.Int(None, allow_none=True,
                               help="When the count resets (unix seconds).").tag(sync=True)
    tier = traitlets.Unicode("", help="The account's plan.").tag(sync=True)

    def __init__(self, client: Client | None = None, **kwargs: Any) -> None:
        self._init_client(client)
        self.subscription: Subscription | None = None
        self._bar = widgets.IntProgress(value=0, min=0, max=1, description="Quota")
        self._bar.add_class("xi-quota-bar")
        self._label = widgets.HTML()
        self._label.add_class("xi-quota-label")
        self.usage: list[tuple[str, int]] = []
        self.chart = UsageChart()
        super().__init__(**kwargs)
        self.add_class("xi-quota")
        self.children = [widgets.HBox([self._bar, self._label, self.chart]), self.error_card]
        styled(self)
        self.refresh()

    @property
    def characters_left(self) -> int:
        """Characters still available this period."""
        return max(0, self.character_limit - self.character_count)

    @property
    def reset_date(self) -> str:
        """The reset day as ``YYYY-MM-DD`` (``""`` when the API does not say)."""
        return reset_date(self.reset_unix)

    def refresh(self) -> None:
        """Read the subscription again (after each take)."""
        with self._reporting():
            subscription = self.client.user.subscription()
            self.subscription = subscription
            with self.hold_sync():
                self.character_count = subscription.character_count or 0
                self.character_limit = subscription.character_limit or 0
                self.reset_unix = subscription.next_character_count_reset_unix
                self.tier = subscription.tier or ""
            try:
                self.usage = daily_usage(self.client)
            except XIError as error:  # the bar and numbers above still hold
                self.usage = []
                self.chart.show([], unavailable=str(error))
            else:
                self.chart.show(self.usage)

    @traitlets.observe("character_count", "character_limit", "reset_unix")
    def _show(self, _change: traitlets.Bunch) -> None:
        self._bar.max = max(1, self.character_limit)
        self._bar.value = min(self.character_count, self._bar.max)
        self._bar.bar_style = "danger" if self.characters_left == 0 else (
            "warning" if self.characters_left < 0.1 * self.character_limit else "")
        resets = f" · resets on {self.reset_date}" if self.reset_date else ""
        self._label.value = (f"{self.character_count:,} / {self.character_limit:,} characters used"
                             f" · {self.characters_left:,} left{resets}")

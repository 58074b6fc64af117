"""Which take is best by a figure: the direction of each metric, and the pick."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from xiwidgets.experiments.metrics import METRICS

if TYPE_CHECKING:
    import pandas

# Figures that are not metrics but still rank takes.
_OTHER_DIRECTIONS = {"rating": True}


def ranked_metrics() -> list[str]:
    """The names ``by=`` accepts."""
    return [n for n, m in METRICS.items() if m.higher_is_better is not None] + list(
        _OTHER_DIRECTIONS)


def higher_is_better(by: str) -> bool:
    """Whether a larger ``by`` is better; a clear error for a figure with no direction."""
    direction = _OTHER_DIRECTIONS.get(by)
    if direction is None and by in METRICS:
        direction = METRICS[by].higher_is_better
    if direction is None:
        raise ValueError(f"Cannot rank takes by {by!r}: rank by one of "
                         f"{', '.join(ranked_metrics())}.")
    return direction


def best_index(table: pandas.DataFrame, by: str) -> Any:
    """The index label of the best row of ``table`` by column ``by`` (NaN rows rank last)."""
    higher = higher_is_better(by)
    if by not in table.columns:
        raise ValueError(f"No {by!r} figures to rank by: evaluate with metrics including "
                         f"{by!r}.")
    values = table[by].astype(float)
    usable = values[values.notna() & values.map(math.isfinite)]
    if usable.empty:
        raise ValueError(f"No take has a {by!r} figure to rank by.")
    return usable.idxmax() if higher else usable.idxmin()

"""Experiments with takes: scores, pictures, best-of-N and settings sweeps.

Needs the ``eval`` extra (``pip install 'xiwidgets[eval]'``); every function says which package
is missing when one is.
"""

from xiwidgets.experiments._deps import MissingExtraError
from xiwidgets.experiments.best_of import BestOf
from xiwidgets.experiments.metrics import METRICS, Metric, evaluate, word_error_rate
from xiwidgets.experiments.plots import plot_compare, plot_take
from xiwidgets.experiments.sweep import SweepGrid, sweep

__all__ = [
    "METRICS",
    "BestOf",
    "Metric",
    "MissingExtraError",
    "SweepGrid",
    "evaluate",
    "plot_compare",
    "plot_take",
    "sweep",
    "word_error_rate",
]

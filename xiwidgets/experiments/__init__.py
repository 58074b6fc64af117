"""Experiments with takes: scores, pictures, best-of-N and settings sweeps.

Needs the ``eval`` extra (``pip install 'xiwidgets[eval]'``); every function says which package
is missing when one is.
"""

from xiwidgets.experiments._deps import MissingExtraError
from xiwidgets.experiments.metrics import METRICS, Metric, evaluate, word_error_rate
from xiwidgets.experiments.plots import plot_compare, plot_take

__all__ = [
    "METRICS",
    "Metric",
    "MissingExtraError",
    "evaluate",
    "plot_compare",
    "plot_take",
    "word_error_rate",
]

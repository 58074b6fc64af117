"""The optional packages behind experiments, and the error that names the extra to install."""

from __future__ import annotations

import importlib
from typing import Any

EVAL_EXTRA = "pip install 'xiwidgets[eval]'"


class MissingExtraError(ImportError):
    """A feature needs a package of the ``eval`` extra that is not installed."""


def require(module: str, feature: str) -> Any:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``feature`` and the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{feature} needs the package {exc.name or module!r}, which is not installed: "
            f"{EVAL_EXTRA}") from None

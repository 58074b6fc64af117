"""Notebook widgets: voice and model pickers, settings sliders, the streaming player, the studio,
the history table, the quota meter and the voice maker.

All of them take an optional ``client``; without one they share ``xiwidgets.connect()``, which
talks to the hosted API when a key is set and to the embedded local voice server otherwise.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY_NAMES = {
    "VoicePicker": "xiwidgets.widgets.voices",
    "ModelPicker": "xiwidgets.widgets.models",
    "VoiceSettings": "xiwidgets.widgets.settings",
    "Player": "xiwidgets.widgets.player",
    "Studio": "xiwidgets.widgets.studio",
    "HistoryTable": "xiwidgets.widgets.history",
    "QuotaMeter": "xiwidgets.widgets.quota",
    "VoiceMaker": "xiwidgets.widgets.maker",
}

__all__ = sorted(_LAZY_NAMES)


def __getattr__(name: str) -> Any:
    module_name = _LAZY_NAMES.get(name)
    if module_name is None:
        raise AttributeError(f"module 'xiwidgets.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value

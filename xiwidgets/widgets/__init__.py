"""Notebook widgets: voice and model pickers, settings sliders, the streaming player, the studio,
the history table, the quota meter, the voice maker, the voice designer, the dialogue editor
and the pronunciation editor.

All of them take an optional ``client``; without one they share ``xiwidgets.connect()``, which
talks to the hosted API when a key is set and to the embedded local voice server otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xiwidgets._lazy import lazy_attributes

_LAZY_NAMES = {
    "VoicePicker": "xiwidgets.widgets.voices",
    "ModelPicker": "xiwidgets.widgets.models",
    "VoiceSettings": "xiwidgets.widgets.settings",
    "Player": "xiwidgets.widgets.player",
    "Studio": "xiwidgets.widgets.studio",
    "HistoryTable": "xiwidgets.widgets.history",
    "QuotaMeter": "xiwidgets.widgets.quota",
    "VoiceMaker": "xiwidgets.widgets.maker",
    "PronunciationEditor": "xiwidgets.widgets.pronunciation",
    "DialogueEditor": "xiwidgets.widgets.dialogue",
    "VoiceDesigner": "xiwidgets.widgets.designer",
}

__all__ = sorted(_LAZY_NAMES)

if TYPE_CHECKING:  # pragma: no cover - names for type checkers and IDEs only (``as``: exported)
    from xiwidgets.widgets.designer import VoiceDesigner as VoiceDesigner
    from xiwidgets.widgets.dialogue import DialogueEditor as DialogueEditor
    from xiwidgets.widgets.history import HistoryTable as HistoryTable
    from xiwidgets.widgets.maker import VoiceMaker as VoiceMaker
    from xiwidgets.widgets.models import ModelPicker as ModelPicker
    from xiwidgets.widgets.player import Player as Player
    from xiwidgets.widgets.pronunciation import PronunciationEditor as PronunciationEditor
    from xiwidgets.widgets.quota import QuotaMeter as QuotaMeter
    from xiwidgets.widgets.settings import VoiceSettings as VoiceSettings
    from xiwidgets.widgets.studio import Studio as Studio
    from xiwidgets.widgets.voices import VoicePicker as VoicePicker


__getattr__ = lazy_attributes(__name__, _LAZY_NAMES, globals())

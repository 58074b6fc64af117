"""Text-to-speech inside a notebook cell, for the ElevenLabs API and an offline voice server.

``import xiwidgets as xi; xi.Studio()`` gives a voice picker, setting sliders, a Speak button whose
audio plays while it is generated, and the history table. With no API key the widgets talk to the
bundled local voice server; with a key, to the hosted service.

Public names are imported lazily so that ``import xiwidgets`` stays fast and never pulls in the
server or the widget stack before they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xiwidgets._lazy import lazy_attributes
from xiwidgets._version import __version__

_LAZY_NAMES = {
    "Client": "xiwidgets.client",
    "connect": "xiwidgets.client",
    "XIError": "xiwidgets.client",
    "Studio": "xiwidgets.widgets",
    "VoicePicker": "xiwidgets.widgets",
    "ModelPicker": "xiwidgets.widgets",
    "VoiceSettings": "xiwidgets.widgets",
    "Player": "xiwidgets.widgets",
    "HistoryTable": "xiwidgets.widgets",
    "QuotaMeter": "xiwidgets.widgets",
    "VoiceMaker": "xiwidgets.widgets",
    "DialogueEditor": "xiwidgets.widgets",
    "VoiceDesigner": "xiwidgets.widgets",
    "evaluate": "xiwidgets.experiments",
    "plot_compare": "xiwidgets.experiments",
    "sweep": "xiwidgets.experiments",
    "SweepGrid": "xiwidgets.experiments",
}

__all__ = [*sorted(_LAZY_NAMES), "__version__", "load_ipython_extension"]

if TYPE_CHECKING:  # pragma: no cover - names for type checkers and IDEs only
    from IPython.core.interactiveshell import InteractiveShell

    # ``as`` marks each name as re-exported (``__all__`` is computed, so checkers cannot read it).
    from xiwidgets.client import Client as Client
    from xiwidgets.client import XIError as XIError
    from xiwidgets.client import connect as connect
    from xiwidgets.experiments import SweepGrid as SweepGrid
    from xiwidgets.experiments import evaluate as evaluate
    from xiwidgets.experiments import plot_compare as plot_compare
    from xiwidgets.experiments.sweep import sweep as sweep
    from xiwidgets.widgets import DialogueEditor as DialogueEditor
    from xiwidgets.widgets import HistoryTable as HistoryTable
    from xiwidgets.widgets import ModelPicker as ModelPicker
    from xiwidgets.widgets import Player as Player
    from xiwidgets.widgets import QuotaMeter as QuotaMeter
    from xiwidgets.widgets import Studio as Studio
    from xiwidgets.widgets import VoiceDesigner as VoiceDesigner
    from xiwidgets.widgets import VoiceMaker as VoiceMaker
    from xiwidgets.widgets import VoicePicker as VoicePicker
    from xiwidgets.widgets import VoiceSettings as VoiceSettings


__getattr__ = lazy_attributes(__name__, _LAZY_NAMES, globals())


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the ``%%speak``, ``%xi_voices`` and ``%xi_history`` magics.

    Called by ``%load_ext xiwidgets``.

    Parameters
    ----------
    ipython : IPython.core.interactiveshell.InteractiveShell
        The running shell.
    """
    # Imported here, like the names above: the magics pull in the client and the widgets.
    from xiwidgets.magics import register_magics

    register_magics(ipython)

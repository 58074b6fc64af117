"""What the widgets that make a voice share (VoiceMaker, VoiceDesigner): labelled fields, the
callbacks told of the new voice, and how it is announced."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as widgets
from ipywidgets.widgets.widget import CallbackDispatcher

if TYPE_CHECKING:
    from xiwidgets.client.types import Voice


def labelled(description: str, widget: widgets.Widget) -> widgets.Widget:
    """``widget`` with ``description`` as its label, every label as wide as the others."""
    widget.description = description
    widget.style = {"description_width": "90px"}
    return widget


class NewVoiceMixin:
    """A widget that makes voices: ``.voice``, its ``on_*`` callbacks and its status line.

    The widget has ``status`` (an HTML line) and ``name_box`` (the new voice's name).
    """

    voice: Voice | None
    status: widgets.HTML
    name_box: widgets.Text

    def _init_new_voice(self) -> None:
        self.voice = None
        self._new_voice_callbacks = CallbackDispatcher()

    def _on_new_voice(self, callback: Callable[[Voice], object], remove: bool = False) -> None:
        """Call ``callback(voice)`` after this widget makes a voice.

        Parameters
        ----------
        callback : callable
            Receives the new ``Voice``.
        remove : bool, default False
            Unregister ``callback`` instead.
        """
        self._new_voice_callbacks.register_callback(callback, remove=remove)

    def _keep_new_voice(self, voice: Voice, verb: str, name: str, more: str = "") -> None:
        """Keep ``voice``, say "``verb`` name (voice_id)``more``" and empty the name box."""
        self.voice = voice
        self.status.value = (
            f"{verb} <b>{html.escape(voice.name or name)}</b> "
            f"(<code>{html.escape(voice.voice_id)}</code>){more}"
        )
        self.name_box.value = ""

"""The front-end helper every xiwidgets widget carries: the stylesheet, accessible names, keys.

ipywidgets' own box model has no way to load a stylesheet or to listen to keys, so one invisible
anywidget per top-level widget does both: anywidget injects its ``_css`` once per page (one
``<style>`` per widget class), and its script names the controls of the widget it sits in and,
in a Studio, turns Ctrl/Cmd+Enter and Esc into custom messages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

_STATIC = Path(__file__).parent / "static"
ROOT_CLASS = "xi-root"


class Frontend(anywidget.AnyWidget):
    """Loads ``xiwidgets.css`` and names the controls of the widget it is a child of.

    Parameters
    ----------
    on_key : callable, optional
        ``on_key(action, text)`` for the Studio's keys: ``("speak", text_box_value)`` on
        Ctrl/Cmd+Enter in its text box, ``("stop", None)`` on Esc. Without it no key is bound.
    """

    _esm = _STATIC / "frontend.js"
    _css = _STATIC / "xiwidgets.css"

    bind_keys = traitlets.Bool(False, help="Bind Ctrl/Cmd+Enter (speak) and Esc (stop).").tag(
        sync=True
    )

    def __init__(self, on_key: Callable[[str, str | None], object] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(bind_keys=on_key is not None, **kwargs)
        self._on_key = on_key
        self.on_msg(self._handle_message)

    def _handle_message(self, _widget: object, content: object, _buffers: object) -> None:
        if self._on_key is None or not isinstance(content, dict):
            return
        action = content.get("type")
        text = content.get("text")
        if action in ("speak", "stop"):
            self._on_key(action, text if isinstance(text, str) else None)


def styled(box: widgets.Box, frontend: Frontend | None = None) -> Frontend:
    """Mark ``box`` as an xiwidgets root and give it its (invisible) front-end helper.

    Parameters
    ----------
    box : ipywidgets.Box
        A top-level widget; its children must be set already.
    frontend : Frontend, optional
        A helper made by the caller (e.g. with keys bound); a plain one otherwise.

    Returns
    -------
    Frontend
        The helper, appended as ``box``'s last child.
    """
    helper = frontend if frontend is not None else Frontend()
    box.add_class(ROOT_CLASS)
    box.children = (*box.children, helper)
    return helper

"""A simulated front end for widget tests without a browser.

Every widget created during a test talks through a :class:`RecordingComm` instead of a kernel:
messages the kernel sends (state updates, custom messages with binary buffers) are recorded, and
the test plays the browser by sending the messages JupyterLab would send (``update`` with new
state, a button's ``click`` event, an anywidget's custom message). The server is real: the
session-wide local voice server from ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm


@dataclass
class SentMessage:
    """One message the kernel published on a widget's comm."""

    msg_type: str
    data: dict[str, Any]
    buffers: list[bytes] = field(default_factory=list)

    @property
    def method(self) -> str | None:
        return self.data.get("method")


class RecordingComm(BaseComm):
    """A comm whose peer is the test: it keeps everything the kernel sends."""

    def __init__(self, *args: Any, in_order: list[tuple[Any, SentMessage]] | None = None,
                 **kwargs: Any) -> None:
        self.sent: list[SentMessage] = []
        # Every comm of the front end appends here too: the order the browser gets them in.
        self._in_order = in_order if in_order is not None else []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:
        # Widgets may send from a background thread; JSON round-trip proves the data is JSON.
        json.dumps(data or {})
        message = SentMessage(msg_type, dict(data or {}), [bytes(b) for b in buffers or ()])
        self.sent.append(message)
        self._in_order.append((self, message))


class FrontEnd:
    """What the browser sees of the widgets, and what it can do to them."""

    def __init__(self) -> None:
        self.comms: list[RecordingComm] = []
        self._log: list[tuple[RecordingComm, SentMessage]] = []

    def create_comm(self, **kwargs: Any) -> RecordingComm:
        created = RecordingComm(in_order=self._log, **kwargs)
        self.comms.append(created)
        return created

    # -- what the kernel sent -----------------------------------------------------------------

    def sent(self, widget: Any) -> list[SentMessage]:
        """Every message sent on ``widget``'s comm (open, updates, custom)."""
        return list(widget.comm.sent)

    def custom(self, widget: Any) -> list[tuple[dict, list[bytes]]]:
        """``(content, buffers)`` of the custom messages sent to ``widget``'s views."""
        return [(m.data["content"], m.buffers) for m in widget.comm.sent
                if m.method == "custom"]

    def updates(self, widget: Any) -> list[dict]:
        """The state updates sent for ``widget`` (each a dict of changed traits)."""
        return [m.data["state"] for m in widget.comm.sent if m.method in ("update", "echo_update")]

    def in_order(self, *watched: Any) -> list[tuple[Any, SentMessage]]:
        """``(widget, message)`` for every message sent on the watched widgets' comms, in the
        order the browser receives (and handles) them."""
        by_comm = {widget.comm: widget for widget in watched}
        return [(by_comm[sent_on], message) for sent_on, message in self._log
                if sent_on in by_comm]

    def all_sent_text(self) -> str:
        """Every JSON payload sent on any comm during the test, as one string."""
        return "\n".join(json.dumps(m.data) for c in self.comms for m in c.sent)

    def find(self, root: Any, css_class: str) -> Any:
        """The first widget under ``root`` (depth first) carrying ``css_class``, as the browser
        tests find it by CSS selector."""
        found = self.find_all(root, css_class)
        if not found:
            raise LookupError(f"no widget with class {css_class!r}")
        return found[0]

    def find_all(self, root: Any, css_class: str) -> list[Any]:
        """Every widget under ``root`` carrying ``css_class``, in the order the page shows them
        (like ``querySelectorAll``)."""
        found = []
        stack = [root]
        while stack:
            widget = stack.pop(0)
            if css_class in getattr(widget, "_dom_classes", ()):
                found.append(widget)
            stack[:0] = getattr(widget, "children", ())
        return found

    def is_shown(self, root: Any, widget: Any) -> bool:
        """Whether ``widget`` is on screen under ``root``: it and every box around it are in the
        layout and none is hidden with ``display: none``."""

        def path(node: Any) -> list[Any] | None:
            if node is widget:
                return [node]
            for child in getattr(node, "children", ()):
                below = path(child)
                if below is not None:
                    return [node, *below]
            return None

        chain = path(root)
        return chain is not None and all(node.layout.display != "none" for node in chain)

    def render(self, widget: Any) -> int:
        """Resolve ``widget``'s view as the browser's widget manager would.

        Follows the model id in the widget's display data and every ``IPY_MODEL_`` reference in
        the states sent so far; a reference to a model the front end was never told about is the
        browser's "Error displaying widget: model not found".

        Returns
        -------
        int
            How many models the view needs.
        """
        states: dict[str, dict] = {}
        for opened in self.comms:
            for message in opened.sent:
                if message.msg_type == "comm_open":
                    states[opened.comm_id] = dict(message.data["state"])
                elif message.method == "update":
                    states.setdefault(opened.comm_id, {}).update(message.data["state"])
        bundle = widget._repr_mimebundle_()
        root = bundle["application/vnd.jupyter.widget-view+json"]["model_id"]
        needed, stack = set(), [root]
        while stack:
            model_id = stack.pop()
            if model_id in needed:
                continue
            if model_id not in states:
                raise AssertionError(f"model not found: {model_id!r}")
            needed.add(model_id)
            stack += re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(states[model_id]))
        return len(needed)

    # -- what the browser does ----------------------------------------------------------------

    def set_state(self, widget: Any, **state: Any) -> None:
        """The browser changes ``state`` of ``widget`` (e.g. a slider moved, text typed)."""
        widget.comm.handle_msg({"content": {"data": {"method": "update", "state": state,
                                                     "buffer_paths": []}}, "buffers": []})

    def upload(self, file_upload: Any, files: list[tuple[str, bytes]],
               media_type: str = "audio/mpeg") -> None:
        """The user picks ``(name, bytes)`` files in a FileUpload: metadata arrives as state,
        the contents as binary buffers."""
        state = {"value": [{"name": name, "type": media_type, "size": len(data),
                            "last_modified": 0} for name, data in files]}
        file_upload.comm.handle_msg({
            "content": {"data": {"method": "update", "state": state,
                                 "buffer_paths": [["value", index, "content"]
                                                  for index in range(len(files))]}},
            "buffers": [memoryview(data) for _, data in files],
        })

    def click(self, button: Any) -> None:
        """The user clicks ``button`` in the browser."""
        self.send_custom(button, {"event": "click"})

    def send_custom(self, widget: Any, content: dict, buffers: list[bytes] | None = None) -> None:
        """A custom message from the widget's JavaScript."""
        widget.comm.handle_msg({"content": {"data": {"method": "custom", "content": content}},
                                "buffers": buffers or []})


@pytest.fixture
def frontend(monkeypatch: pytest.MonkeyPatch) -> Iterator[FrontEnd]:
    """Route every widget created in the test through a recording comm."""
    simulated = FrontEnd()
    monkeypatch.setattr(comm, "create_comm", simulated.create_comm)
    yield simulated


@pytest.fixture
def client(server: Any) -> Any:
    """A client on the session-wide local server."""
    from xiwidgets.client import Client

    return Client(base_url=server.base_url)


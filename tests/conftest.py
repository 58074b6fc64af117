"""Fixtures shared by every test package: real local voice servers on 127.0.0.1, port 0.

``server`` is one open server for the whole session (start it once: loading the voices costs
a second or two). ``server_factory`` starts servers with special settings (API keys, a small
character limit, ...) and stops them when the test ends. Every widget a test makes is closed
when it ends.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A session-wide local server in open mode (no API keys) on a temporary data dir."""
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("server-data"))
    yield handle
    handle.stop()


@pytest.fixture
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """Start servers with special settings: ``server_factory(api_keys=["k1"], ...)``.

    ``data_dir`` defaults to a fresh temporary directory; pass the ``data_dir`` of an earlier
    server to check what survives a restart. Every server started is stopped at teardown.
    """
    from xiwidgets.server import start_in_thread

    handles: list[Any] = []

    def start(data_dir: str | Path | None = None, **config: Any) -> Any:
        directory = data_dir if data_dir is not None else tmp_path_factory.mktemp("server")
        handle = start_in_thread(data_dir=directory, **config)
        handles.append(handle)
        return handle

    yield start
    for handle in reversed(handles):
        handle.stop()


@pytest.fixture(autouse=True)
def _close_the_widgets_a_test_made() -> Iterator[None]:
    """Close every widget made during the test, as closing its notebook does.

    An open widget stays registered with ipywidgets for the rest of the process, and an open
    VoicePicker is refreshed by every later ``notify_voices_changed()``: left open, every
    test's pickers (many on servers stopped long ago, each refresh then a refused connection)
    made each later refresh slower. Tests that never import ipywidgets pay nothing.
    """
    before = set(_open_widgets())
    yield
    for model_id, widget in list(_open_widgets().items()):
        if model_id not in before:
            widget.close()


def _open_widgets() -> dict[str, Any]:
    module = sys.modules.get("ipywidgets.widgets.widget")
    return dict(module._instances) if module is not None else {}

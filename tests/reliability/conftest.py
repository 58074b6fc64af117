"""Fixtures of the reliability tests: one shared open-mode server with its own data directory.

The reliability tests count history items and data-dir files before and after each request, so
they use a server of their own rather than the suite's shared one, which other tests write to.
"""

from __future__ import annotations

import pytest

from .bad_inputs import Target
from .harness import english_voice_id


@pytest.fixture(scope="session")
def reliability_server(tmp_path_factory):
    """An open-mode (no keys) server on 127.0.0.1 with a private data directory."""
    server = pytest.importorskip("xiwidgets.server")
    handle = server.start_in_thread(data_dir=tmp_path_factory.mktemp("reliability-data"))
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def target(reliability_server) -> Target:
    """Where the bad-input cases are sent, with a voice that speaks English."""
    return Target(reliability_server.base_url, reliability_server.data_dir,
                  english_voice_id(reliability_server.base_url))

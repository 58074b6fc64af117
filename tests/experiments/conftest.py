"""Fixtures for the experiment tests: a client of the shared local server, a clean environment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from xiwidgets.client import Client


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests must not depend on (or leak into) the developer's own key or base URL."""
    for name in ("ELEVENLABS_API_KEY", "XI_API_KEY", "ELEVENLABS_BASE_URL",
                 "XIWIDGETS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def client(server: Any) -> Iterator[Client]:
    """A client of the shared local server."""
    with Client(base_url=server.base_url) as c:
        yield c

"""A small seeded schemathesis run: no 5xx, every documented response matches its schema."""

from __future__ import annotations

import pytest

from .fuzz import run_schemathesis
from .harness import is_healthy


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_schemathesis_finds_no_server_error_or_schema_mismatch(server_factory, tmp_path):
    server = server_factory()
    result = run_schemathesis(server.base_url, tmp_path, max_examples=6, seed=20261124)

    assert result.generated >= 100
    assert result.failures == [], result.output
    assert result.errors == [], result.output
    assert is_healthy(server.base_url)

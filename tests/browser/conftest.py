"""Fixtures for the browser tests: a JupyterLab server and Debian's Chromium, both started here.

The server's root is a temporary copy of ``notebooks/`` and its kernels get an environment with
no API key and a temporary data directory, so ``xi.connect()`` in a notebook starts the embedded
local voice server on a fresh store and nothing touches the user's own data.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyterlab_harness import (
    ARTIFACTS_DIR,
    CHROMIUM_PATH,
    REPO_ROOT,
    JupyterLabServer,
    kernel_environment,
    launch_chromium,
    start_jupyterlab,
)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; the browser tests skip (with the reason) when it is not installed."""
    if not CHROMIUM_PATH.exists():
        pytest.skip(
            f"{CHROMIUM_PATH} is not installed (apt-get install chromium); "
            "Playwright's own browser download is not used"
        )
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    return CHROMIUM_PATH


@pytest.fixture(scope="session")
def jupyterlab(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    JupyterLabServer
]:
    """JupyterLab on 127.0.0.1 (free port, fixed token) serving a temporary copy of notebooks/."""
    scratch = tmp_path_factory.mktemp("jupyterlab")
    root_dir = scratch / "notebooks"
    shutil.copytree(REPO_ROOT / "notebooks", root_dir)
    server = start_jupyterlab(root_dir, scratch / "lab", kernel_environment(scratch))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    """Headless Chromium driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page; when the test fails, a screenshot of it goes to test-artifacts/."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    lab_page = context.new_page()
    yield lab_page
    call_report = getattr(request.node, "report_call", None)
    if call_report is not None and call_report.failed:
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        lab_page.screenshot(path=str(ARTIFACTS_DIR / f"{request.node.name}-failure.png"))
    context.close()

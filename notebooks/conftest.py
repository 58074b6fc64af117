"""Run the notebooks (nbval) against a fresh embedded local voice server, never a real account.

nbval starts one kernel per notebook while setting up the notebook's first cell; the kernel
inherits this process's environment at that moment. So, only around that setup, the API key and
base URL variables are removed (``xi.connect()`` then starts the embedded server) and
``XIWIDGETS_DATA_DIR`` points at a new temporary directory, one per notebook. The environment of
the test process itself is restored right after.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from xiwidgets.config import API_KEY_ENV_VARS, BASE_URL_ENV_VAR, DATA_DIR_ENV_VAR

_DATA_ROOT = Path(tempfile.mkdtemp(prefix="xiwidgets-notebooks-"))
_HIDDEN = (*API_KEY_ENV_VARS, BASE_URL_ENV_VAR)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    notebook = Path(str(item.fspath))
    if notebook.suffix != ".ipynb":
        yield
        return
    saved = {name: os.environ.get(name) for name in (*_HIDDEN, DATA_DIR_ENV_VAR)}
    for name in _HIDDEN:
        os.environ.pop(name, None)
    os.environ[DATA_DIR_ENV_VAR] = str(_DATA_ROOT / notebook.stem)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pytest_sessionfinish(session: pytest.Session) -> None:
    shutil.rmtree(_DATA_ROOT, ignore_errors=True)

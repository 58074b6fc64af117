"""Drive a real JupyterLab in Debian's Chromium: start the server, open a notebook, run it.

Shared by the browser tests (through ``conftest.py``) and by ``benchmarks/notebook.py``. Follows
the recipe in ``../shared/reference/browser-testing.md``: JupyterLab from this environment on
127.0.0.1 with a fixed token and isolated ``JUPYTER_*`` directories, settings overrides that keep
news toasts and the kernel picker away, and Chromium launched with networking side channels off.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from xiwidgets.config import API_KEY_ENV_VARS, BASE_URL_ENV_VAR, DATA_DIR_ENV_VAR

REPO_ROOT = Path(__file__).resolve().parents[2]
# Screenshots and other evidence from browser runs (gitignored).
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
CHROMIUM_PATH = Path("/usr/bin/chromium")

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # The player starts audio from a widget message, not from a click in its own frame.
    "--autoplay-policy=no-user-gesture-required",
)

# Without these a news toast covers the cells, and a notebook without a kernelspec opens a modal
# "Select Kernel" dialog. ``fetchNews`` really is a string in JupyterLab's schema.
LAB_SETTING_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension:tracker": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
    },
}

# Text that means the widget manager failed: the front end shows one of these instead of a widget.
BROKEN_WIDGET_MARKERS = (
    "Click to show javascript error",
    "Error displaying widget",
    "VBox(children=",
    "HBox(children=",
    "Box(children=",
    "Studio(",
    "Player(",
    "HistoryTable(",
)


@dataclass
class JupyterLabServer:
    """A JupyterLab server started by :func:`start_jupyterlab`."""

    base_url: str
    token: str
    root_dir: Path
    process: subprocess.Popen
    log_path: Path

    def notebook_url(self, notebook: str) -> str:
        """URL that opens ``notebook`` (relative to the root dir) in a fresh workspace."""
        return f"{self.base_url}/lab/tree/{notebook}?token={self.token}&reset"

    def stop(self) -> None:
        """Stop the server and its kernels."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server's log, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kernel_environment(scratch_dir: Path) -> dict[str, str | None]:
    """Environment for notebook kernels: local server, data under ``scratch_dir``, no API key."""
    hidden: dict[str, str | None] = dict.fromkeys((*API_KEY_ENV_VARS, BASE_URL_ENV_VAR))
    return {
        **hidden,
        DATA_DIR_ENV_VAR: str(scratch_dir / "xiwidgets-data"),
        "IPYTHONDIR": str(scratch_dir / "ipython"),
    }


def isolated_environment(
    work_dir: Path, kernel_env: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """This process's environment with the ``JUPYTER_*`` directories under ``work_dir``, the
    settings overrides written there and ``kernel_env`` applied (``None`` removes a variable)."""
    env = dict(os.environ)
    for name in ("config", "data", "runtime", "settings", "workspaces"):
        (work_dir / name).mkdir(parents=True, exist_ok=True)
    env.update(
        JUPYTER_CONFIG_DIR=str(work_dir / "config"),
        JUPYTER_DATA_DIR=str(work_dir / "data"),
        JUPYTER_RUNTIME_DIR=str(work_dir / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(work_dir / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(work_dir / "workspaces"),
        PYTHONUNBUFFERED="1",
    )
    for name, value in (kernel_env or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    labconfig = work_dir / "config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "default_setting_overrides.json").write_text(json.dumps(LAB_SETTING_OVERRIDES))
    return env


# The options that differ between the front ends; the rest of the command is shared.
_FRONT_END_OPTIONS = {
    "lab": (
        "jupyterlab", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ),
    "notebook": ("notebook", "--JupyterNotebookApp.expose_app_in_browser=True"),
}  # fmt: skip


def start_jupyterlab(
    root_dir: Path,
    work_dir: Path,
    kernel_env: Mapping[str, str | None] | None = None,
    startup_timeout: float = 60.0,
    front_end: str = "lab",
) -> JupyterLabServer:
    """Start JupyterLab (or Notebook 7) on 127.0.0.1 with a fixed token and isolated configuration.

    Parameters
    ----------
    root_dir : Path
        Directory the server shows (notebooks are opened relative to it).
    work_dir : Path
        Scratch directory for the ``JUPYTER_*`` directories and the server log.
    kernel_env : mapping, optional
        Environment changes for the server, inherited by its kernels; a ``None`` value removes
        the variable.
    startup_timeout : float
        Seconds to wait for ``/api/status`` to answer.
    front_end : {"lab", "notebook"}
        JupyterLab, or Notebook 7 (same server, its own single-document pages).

    Returns
    -------
    JupyterLabServer
        The running server; call ``.stop()`` when done.
    """
    env = isolated_environment(work_dir, kernel_env)
    port = free_port()
    token = secrets.token_hex(16)
    log_path = work_dir / f"{front_end}.log"
    module, *options = _FRONT_END_OPTIONS[front_end]
    command = [
        sys.executable, "-m", module, "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}", *options,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=root_dir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = JupyterLabServer(f"http://127.0.0.1:{port}", token, root_dir, process, log_path)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{module} exited early:\n{server.log_tail()}")
        try:
            status = requests.get(f"{server.base_url}/api/status?token={token}", timeout=2)
            if status.status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"{module} did not answer within {startup_timeout}s:\n{server.log_tail()}")


def launch_chromium(playwright: Any) -> Any:
    """Launch Debian's Chromium headless through Playwright (never a downloaded browser)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM_PATH), headless=True, args=list(CHROMIUM_ARGS)
    )


_NOTEBOOK_READY_JS = """
() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.context || !panel.sessionContext || !panel.content) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return panel.context.isReady && !!kernel && kernel.connectionStatus === 'connected'
    && kernel.status === 'idle';
}
"""

_KERNEL_INFO_JS = """
async () => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const timeout = new Promise((_, reject) => setTimeout(() => reject('kernel_info timeout'), 5000));
  const info = await Promise.race([kernel.info, timeout]);
  return info.status || 'ok';
}
"""

_START_RUN_ALL_JS = """
() => {
  window.__xiRunAll = null;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    (result) => { window.__xiRunAll = {ok: result}; },
    (error) => { window.__xiRunAll = {error: String(error)}; });
}
"""

_CELL_ERRORS_JS = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const errors = [];
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== 'code') continue;
    const outputs = cell.model.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const out = outputs.get(i).toJSON();
      if (out.output_type === 'error') errors.push(out.ename + ': ' + out.evalue);
    }
  }
  return errors;
}
"""

_KERNEL_EXECUTE_JS = """
async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  const parts = [];
  let error = null;
  future.onIOPub = (msg) => {
    const type = msg.header.msg_type;
    if (type === 'stream' && msg.content.name === 'stdout') parts.push(msg.content.text);
    else if (type === 'execute_result') parts.push(msg.content.data['text/plain']);
    else if (type === 'error') error = msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return {text: parts.join(''), error};
}
"""


def open_notebook(page: Any, server: JupyterLabServer, notebook: str, timeout: float = 90) -> None:
    """Open ``notebook`` and wait until its kernel is connected, idle and answered kernel_info.

    The status bar says "Idle" before the session is wired to the panel, so this waits on the
    panel's own context and session instead.
    """
    page.goto(server.notebook_url(notebook), wait_until="domcontentloaded")
    page.wait_for_function(_NOTEBOOK_READY_JS, timeout=timeout * 1000, polling=250)
    page.evaluate(_KERNEL_INFO_JS)
    # The file browser takes a quarter of the width; the notebook gets it back, as users do.
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")


def run_all_cells(page: Any, timeout: float = 120) -> None:
    """Run every cell through JupyterLab's own command and wait until all of them finished.

    The command's promise is parked on ``window`` and polled, because awaiting it inside
    ``page.evaluate`` ties the evaluation to the whole run.

    Raises
    ------
    AssertionError
        When the command fails or a cell ends with an error (its ename and message are shown).
    """
    page.evaluate(_START_RUN_ALL_JS)
    page.wait_for_function("() => window.__xiRunAll !== null", timeout=timeout * 1000, polling=250)
    result = page.evaluate("() => window.__xiRunAll")
    assert "error" not in result, f"run-all-cells failed: {result['error']}"
    page.wait_for_function(_NOTEBOOK_READY_JS, timeout=timeout * 1000, polling=250)
    cell_errors = page.evaluate(_CELL_ERRORS_JS)
    assert not cell_errors, f"cells raised: {cell_errors}"


def kernel_execute(page: Any, code: str) -> str:
    """Run ``code`` in the notebook's live kernel and return what it printed.

    Raises
    ------
    AssertionError
        When the code raises in the kernel.
    """
    reply = page.evaluate(_KERNEL_EXECUTE_JS, code)
    assert reply["error"] is None, f"kernel code failed: {reply['error']}\n{code}"
    return reply["text"]


def wait_for_widget(page: Any, selector: str, timeout: float = 60) -> None:
    """Wait until ``selector`` is on the page, failing at once if the widget failed to render."""
    page.wait_for_function(
        """([selector, markers]) => {
          if (document.querySelector(selector)) return true;
          const outputs = [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea')];
          const text = outputs.map((output) => output.innerText).join('\\n');
          return markers.some((marker) => text.includes(marker));
        }""",
        arg=[selector, list(BROKEN_WIDGET_MARKERS)],
        timeout=timeout * 1000,
        polling=250,
    )
    assert_widgets_rendered(page)


def assert_widgets_rendered(page: Any) -> None:
    """Fail when the page shows a widget-manager error or a widget's text repr instead of a view."""
    # Only outputs: the cells' source legitimately contains ``xi.Studio()``.
    text = "\n".join(page.locator(".jp-NotebookPanel .jp-OutputArea").all_inner_texts())
    found = [marker for marker in BROKEN_WIDGET_MARKERS if marker in text]
    assert not found, f"widgets did not render, page shows {found}:\n{text[:2000]}"


def start_voila(
    notebook: Path,
    work_dir: Path,
    kernel_env: Mapping[str, str | None] | None = None,
    startup_timeout: float = 60.0,
) -> JupyterLabServer:
    """Start ``voila <notebook>`` (a dashboard of one notebook) on 127.0.0.1 with a fixed token.

    Each page load runs the notebook in a fresh kernel; the page is ``base_url/?token=...``.
    Ready when the port accepts connections (asking for the page would run the notebook).
    """
    env = isolated_environment(work_dir, kernel_env)
    port = free_port()
    token = secrets.token_hex(16)
    log_path = work_dir / "voila.log"
    command = [
        sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1",
        f"--port={port}", "--Voila.port_retries=0", f"--token={token}",
        "--show_tracebacks=True",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=notebook.parent, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = JupyterLabServer(
        f"http://127.0.0.1:{port}", token, notebook.parent, process, log_path
    )
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"voila exited early:\n{server.log_tail()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"voila did not listen within {startup_timeout}s:\n{server.log_tail()}")

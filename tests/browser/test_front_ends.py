"""The quickstart's Studio in the other front ends the README promises, in Debian's Chromium:
Notebook 7 and a Voilà dashboard (``voila notebooks/01-quickstart.ipynb``). In each, the Studio
renders, Speak is audible (the page's ``<audio>`` time advances) and the take lands in the
history. Also the whole-blob fallback: with ``MediaSource`` removed from the page, as in players
that lack it, a take still plays.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from jupyterlab_harness import (
    REPO_ROOT,
    JupyterLabServer,
    kernel_environment,
    run_all_cells,
    start_jupyterlab,
    start_voila,
    wait_for_widget,
)
from studio_page import HISTORY_ROW, STUDIO, STUDIO_AUDIO, wait_audio_advances

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

QUICKSTART = "01-quickstart.ipynb"
TEXT = "Spoken from another front end, one sentence after another, to be heard."
BROKEN = ("Click to show javascript error", "Error displaying widget", "Studio(", "VBox(children=")

# Players without MediaSource (VS Code's webview, Colab's output frame) are played by the
# player's whole-blob path; deleting the constructors before any script runs makes this page one.
NO_MEDIA_SOURCE = """
delete window.MediaSource;
delete window.ManagedMediaSource;
delete window.WebKitMediaSource;
"""


@pytest.fixture(scope="module")
def scratch(chromium_path: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("front-ends")
    shutil.copytree(REPO_ROOT / "notebooks", folder / "notebooks")
    return folder


@pytest.fixture(scope="module")
def notebook7(scratch: Any) -> Iterator[JupyterLabServer]:
    server = start_jupyterlab(scratch / "notebooks", scratch / "nb7",
                              kernel_environment(scratch / "nb7"), front_end="notebook")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def voila(scratch: Any) -> Iterator[JupyterLabServer]:
    server = start_voila(scratch / "notebooks" / QUICKSTART, scratch / "voila",
                         kernel_environment(scratch / "voila"))
    yield server
    server.stop()


def _no_broken_widgets(page: Any) -> None:
    # Outputs only: the notebook's sources legitimately say ``xi.Studio(``.
    text = "\n".join(page.locator(".jp-OutputArea").all_inner_texts())
    found = [marker for marker in BROKEN if marker in text]
    assert not found, f"widgets did not render, the page shows {found}:\n{text[:2000]}"


def _speak_and_hear(page: Any) -> None:
    """Type, click Speak, hear the new take on the Studio's <audio>, see it in the history."""
    page.locator(f"{STUDIO} .xi-voice-select select option").first.wait_for(state="attached")
    rows_before = page.locator(HISTORY_ROW).count()
    source_before = page.evaluate(f"() => document.querySelector({STUDIO_AUDIO!r}).src")
    page.locator(f"{STUDIO} .xi-text textarea").fill(TEXT)
    page.wait_for_timeout(300)  # the text box syncs to the kernel on input
    page.locator(f"{STUDIO} button.xi-speak").click()
    page.wait_for_function(
        "([selector, before]) => { const a = document.querySelector(selector);"
        " return a && a.src && a.src !== before; }",
        arg=[STUDIO_AUDIO, source_before], timeout=60_000,
    )
    wait_audio_advances(page, STUDIO_AUDIO, timeout_ms=60_000)
    page.wait_for_function(
        "([selector, count]) => document.querySelectorAll(selector).length > count",
        arg=[HISTORY_ROW, rows_before], timeout=90_000,
    )
    assert TEXT[:30] in page.locator(HISTORY_ROW).first.inner_text()
    _no_broken_widgets(page)


def test_notebook7_runs_the_quickstart_studio(page: Any, notebook7: JupyterLabServer) -> None:
    page.goto(f"{notebook7.base_url}/notebooks/{QUICKSTART}?token={notebook7.token}",
              wait_until="domcontentloaded")
    page.wait_for_function(
        """() => { const app = window.jupyterapp; const panel = app && app.shell.currentWidget;
          const kernel = panel && panel.sessionContext && panel.sessionContext.session
            && panel.sessionContext.session.kernel;
          return !!(panel && panel.context && panel.context.isReady && kernel
            && kernel.connectionStatus === 'connected' && kernel.status === 'idle'); }""",
        timeout=90_000, polling=250,
    )
    run_all_cells(page, timeout=180)
    wait_for_widget(page, STUDIO)
    _speak_and_hear(page)


def _open_dashboard(page: Any, voila: JupyterLabServer) -> None:
    # Voilà runs every cell before it shows the page (the quickstart's speak(wait=True) too).
    page.goto(f"{voila.base_url}/?token={voila.token}", wait_until="domcontentloaded",
              timeout=180_000)
    page.locator(STUDIO).wait_for(timeout=180_000)
    _no_broken_widgets(page)


def test_voila_dashboard_of_the_quickstart_is_a_working_studio(page: Any,
                                                                voila: JupyterLabServer) -> None:
    _open_dashboard(page, voila)
    assert page.evaluate("() => typeof MediaSource") == "function"
    _speak_and_hear(page)
    # The quota's 30-day chart: an image with a name, one bar a day, today's drawn after takes.
    chart = page.locator(f"{STUDIO} .xi-usage-chart svg[role='img']")
    chart.wait_for()
    assert chart.get_attribute("aria-label").startswith("Characters used per day, last 30 days:")
    assert chart.locator("rect.xi-usage-bar").count() == 30
    page.wait_for_function(
        "() => Number(document.querySelector('.xi-studio .xi-usage-today')"
        ".getAttribute('height')) > 0", timeout=20_000)


def test_without_media_source_a_take_still_plays_as_one_blob(page: Any,
                                                             voila: JupyterLabServer) -> None:
    page.add_init_script(NO_MEDIA_SOURCE)
    _open_dashboard(page, voila)
    assert page.evaluate("() => typeof MediaSource") == "undefined"
    _speak_and_hear(page)

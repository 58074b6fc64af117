"""The Studio as a designed interface in JupyterLab 4 (issue 14), measured in Chromium.

One JupyterLab session for the whole module (a browser test costs seconds of a shared machine):
the quickstart notebook is run once, then each test measures what a user would see: no element
wider than its box at 600 and 1 200 px, one ``<audio>`` per take, text contrast ≥ 4.5:1 in the
light, dark and high-contrast themes, every control named and tabbed through in layout order,
Ctrl+Enter in the text box speaking and Esc stopping.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from design_checks import control_names, overflowing, set_theme, tab_walk, text_contrasts
from jupyterlab_harness import ARTIFACTS_DIR, open_notebook, run_all_cells, wait_for_widget
from studio_page import STUDIO, TAKE_AUDIO, kernel_value, open_settings, wait_kernel_value

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

QUICKSTART = "01-quickstart.ipynb"
WIDTHS = (600, 1200)
THEME_NAMES = {"JupyterLab Light": "light", "JupyterLab Dark": "dark",
               "JupyterLab Dark High Contrast": "high-contrast"}
THEMES = tuple(THEME_NAMES)
LONG_TEXT = " ".join(["A sentence long enough to keep the voice busy for a while."] * 12)


@pytest.fixture(scope="module")
def studio_page(browser: Any, jupyterlab: Any) -> Iterator[Any]:
    """The quickstart notebook, all cells run: a Studio that has made one take (cell 3)."""
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    open_notebook(page, jupyterlab, QUICKSTART)
    run_all_cells(page)
    wait_for_widget(page, STUDIO)
    page.locator(f"{STUDIO} .xi-history-row").first.wait_for(timeout=30_000)
    # Measured open: the settings' sliders are part of what must fit.
    open_settings(page)
    yield page
    context.close()


def show_studio(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 1000})
    page.wait_for_timeout(400)  # JupyterLab re-lays out on resize
    page.locator(STUDIO).scroll_into_view_if_needed()


def screenshot(page: Any, name: str) -> None:
    """The whole Studio in test-artifacts/: the window is made tall enough to hold all of it."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    width = page.viewport_size["width"]
    height = page.locator(STUDIO).evaluate("(element) => element.scrollHeight")
    page.set_viewport_size({"width": width, "height": height + 400})
    page.wait_for_timeout(300)
    page.locator(STUDIO).scroll_into_view_if_needed()
    page.locator(f"{STUDIO} .xi-text textarea").evaluate("(element) => { element.scrollTop = 0; }")
    page.locator(STUDIO).screenshot(path=str(ARTIFACTS_DIR / f"studio-{name}.png"))
    page.set_viewport_size({"width": width, "height": 1000})


def test_one_audio_element_per_take(studio_page: Any) -> None:
    page = studio_page
    # Cell 3's take is in the Studio's player and saved as cell 3's output: one control.
    assert page.locator(TAKE_AUDIO).count() == 1
    assert page.locator(f"{STUDIO} audio").count() == 1
    page.locator(f"{STUDIO} .xi-text textarea").fill("One more take, from the Speak button.")
    wait_kernel_value(page, "_xi_studio.text", "One more take, from the Speak button.")
    page.locator(f"{STUDIO} button.xi-speak").click()
    page.locator(f"{STUDIO} .xi-status", has_text="done").wait_for(timeout=60_000)
    page.locator(f"{STUDIO} .xi-take-card").wait_for(state="attached", timeout=20_000)
    page.wait_for_timeout(300)
    # Two takes now: cell 3's card plays its own again, the new one is the Studio's player.
    assert page.locator(TAKE_AUDIO).count() == 2
    assert page.locator(f"{STUDIO} audio").count() == 1
    assert page.locator(f"{STUDIO} .xi-player-wave").is_visible()


def test_waveform_click_seeks(studio_page: Any) -> None:
    page = studio_page
    wave = page.locator(f"{STUDIO} .xi-player-wave")
    wave.wait_for(timeout=20_000)
    audio = f"{STUDIO} .xi-player-audio"
    page.evaluate(f"() => document.querySelector({audio!r}).pause()")
    box = wave.bounding_box()
    wave.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    fraction = page.locator(audio).evaluate("(element) => element.currentTime / element.duration")
    assert fraction == pytest.approx(0.75, abs=0.05)


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_overflows_or_is_cut_silently(studio_page: Any, width: int) -> None:
    page = studio_page
    show_studio(page, width)
    studio_width = page.locator(STUDIO).evaluate("(element) => element.clientWidth")
    offenders = overflowing(page, STUDIO)
    assert not offenders, f"at a {width} px window (Studio {studio_width} px):\n" + "\n".join(
        offenders[:40]
    )


@pytest.mark.parametrize("theme", THEMES)
def test_text_contrast_is_at_least_4_5(studio_page: Any, theme: str) -> None:
    page = studio_page
    set_theme(page, theme)
    try:
        for width in WIDTHS:
            show_studio(page, width)
            screenshot(page, f"{THEME_NAMES[theme]}-{width}")
        measured = text_contrasts(page, STUDIO)
    finally:
        set_theme(page, "JupyterLab Light")
    assert len(measured) > 30, measured
    low = [entry for entry in measured if entry["ratio"] < 4.5]
    lowest = min(entry["ratio"] for entry in measured)
    print(f"{theme}: {len(measured)} text elements, lowest contrast {lowest:.2f}:1")
    assert not low, f"{theme}: " + "\n".join(
        f"{entry['element']}: {entry['ratio']:.2f}:1" for entry in low[:30]
    )


def test_every_control_has_a_name_and_tab_follows_the_layout(studio_page: Any) -> None:
    page = studio_page
    show_studio(page, 1200)
    names = control_names(page, STUDIO)
    assert not names["unnamed"], "controls without an accessible name:\n" + "\n".join(
        names["unnamed"]
    )
    assert not names["positive"], f"a positive tabindex reorders Tab: {names['positive']}"
    count, visited = tab_walk(page, STUDIO, presses=120)
    # Tab visits the stops in document order (the layout's order), skipping none, up to the
    # point where focus leaves the Studio.
    inside = [index for index in visited if index != -1]
    assert inside == list(range(len(inside))), visited
    assert len(inside) == count, f"{count} tab stops, Tab reached {len(inside)}: {visited}"


def test_ctrl_enter_speaks_and_escape_stops(studio_page: Any) -> None:
    page = studio_page
    text_box = page.locator(f"{STUDIO} .xi-text textarea")
    takes_before = int(kernel_value(page, "len(_xi_studio.history.items)"))
    cells_run = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets"
                              ".map((cell) => cell.model.executionCount)")
    text_box.fill(LONG_TEXT)
    players_before = page.locator(TAKE_AUDIO).count()
    text_box.press("Control+Enter")
    page.locator(f"{STUDIO} .xi-status", has_text="streaming").wait_for(timeout=30_000)
    # While the new take streams, the saved card of the take the player held before stays
    # out of the page (putting it back at Speak moved everything below it): one player.
    assert page.locator(TAKE_AUDIO).count() == players_before
    assert kernel_value(page, "_xi_studio.player.text") == LONG_TEXT
    # The stream's alignment marks the word being spoken in the player's caption.
    word = page.locator(f"{STUDIO} .xi-player-caption mark.xi-word")
    word.wait_for(timeout=30_000)
    assert word.inner_text().strip(".,") in LONG_TEXT.split() + [w.strip(".") for w in
                                                                 LONG_TEXT.split()]
    text_box.press("Escape")
    page.locator(f"{STUDIO} .xi-status", has_text="stopped").wait_for(timeout=30_000)
    assert kernel_value(page, "_xi_studio.player.status") == "stopped"
    # A stopped take is not saved: the take before is the notebook's again, with its player.
    assert page.locator(TAKE_AUDIO).count() == players_before + 1
    # What was heard of the stopped take is drawn in the player's waveform, not left blank.
    page.locator(f"{STUDIO} .xi-player-wave:not(.xi-player-wave-empty)").wait_for(
        state="visible", timeout=10_000)
    # The notebook did not take the keys as its own: no cell ran, focus stayed in the box.
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets"
                         ".map((cell) => cell.model.executionCount)") == cells_run
    assert text_box.evaluate("(element) => element === document.activeElement")
    # A stopped take is not kept: the history did not grow.
    wait_kernel_value(page, "_xi_studio.busy", "False")
    assert int(kernel_value(page, "len(_xi_studio.history.items)")) == takes_before

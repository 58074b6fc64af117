"""Every other widget as a designed interface in JupyterLab 4 (issue 14, item 7), in Chromium.

One notebook, run once, shows each widget in its own cell: VoicePicker, VoiceSettings,
HistoryTable, QuotaMeter, VoiceMaker, VoiceDesigner, SweepGrid, DialogueEditor,
PronunciationEditor, and a Studio whose take is also a cell's value. Each test measures what a
user would see: no element wider than its box at 600 and 1 200 px, every control named, text
contrast ≥ 4.5:1 in the light and dark themes, and one ``<audio>`` per take. Screenshots of
every widget (light and dark, both widths) go to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from design_checks import control_names, overflowing, set_theme, text_contrasts
from jupyterlab_harness import ARTIFACTS_DIR, open_notebook, run_all_cells, wait_for_widget

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(400)]

NOTEBOOK = "widgets-design.ipynb"
WIDTHS = (600, 1200)
THEMES = {"JupyterLab Light": "light", "JupyterLab Dark": "dark"}
# Each widget's root, outside the Studio (which holds a picker, settings, quota and history).
WIDGETS = {
    "voice-picker": ".xi-voice-picker:not(.xi-studio *)",
    "voice-settings": ".xi-voice-settings:not(.xi-studio *)",
    "history": ".xi-history:not(.xi-studio *)",
    "quota": ".xi-quota:not(.xi-studio *)",
    "voice-maker": ".xi-voice-maker",
    "sweep": ".xi-sweep",
    "dialogue": ".xi-dialogue-editor",
    "pronunciation": ".xi-pronunciation:not(.xi-studio *)",
    "voice-designer": ".xi-voice-designer",
}
ALL_WIDGETS = ", ".join(WIDGETS.values())
TAKE_AUDIO = ".jp-NotebookPanel audio:not(.xi-history-audio audio)"

CELLS = [
    "import xiwidgets as xi\nfrom xiwidgets.experiments import SweepGrid\n"
    "from xiwidgets.widgets import PronunciationEditor",
    "xi.VoicePicker(voice='Joe')",
    "xi.VoiceSettings()",
    # Two takes with long axis values: the table's cells must wrap, not push the grid wider.
    "SweepGrid('A short sweep line.', voice='Joe', evaluate=False, progress=False,\n"
    "          grid={'speed': [0.9, 1.1], 'stability': [0.35]})",
    "xi.HistoryTable(page_size=5)",
    "xi.QuotaMeter()",
    "xi.VoiceMaker()",
    "xi.VoiceDesigner()",
    "xi.DialogueEditor(lines=[('Good morning, how did you sleep?', 'Joe'),\n"
    "                         ('Like a log, thank you for asking.', 'Joe')])",
    "editor = PronunciationEditor(voice='Joe')\n"
    "editor.add_rule('xiwidgets', 'ex eye widgets')\neditor",
    "studio = xi.Studio(text='One player for this take.')\nstudio",
    "take = studio.speak(wait=True)",
    "take",
]


@pytest.fixture(scope="module")
def widgets_page(browser: Any, jupyterlab: Any) -> Iterator[Any]:
    """The notebook above, all cells run, every widget drawn."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, jupyterlab.root_dir / NOTEBOOK)
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    open_notebook(page, jupyterlab, NOTEBOOK)
    run_all_cells(page, timeout=240)
    for selector in WIDGETS.values():
        wait_for_widget(page, selector)
    page.locator(f"{WIDGETS['history']} .xi-history-row").first.wait_for(timeout=30_000)
    page.locator(".xi-studio .xi-player-wave").wait_for(timeout=30_000)
    yield page
    context.close()


def show_at(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 1000})
    page.wait_for_timeout(400)  # JupyterLab re-lays out on resize


def screenshots(page: Any, theme: str, width: int) -> None:
    """Each widget, whole, in test-artifacts/widget-<name>-<theme>-<width>.png."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    for name, selector in WIDGETS.items():
        widget = page.locator(selector).first
        height = widget.evaluate("(element) => element.scrollHeight")
        page.set_viewport_size({"width": width, "height": max(1000, height + 200)})
        widget.scroll_into_view_if_needed()
        widget.screenshot(path=str(ARTIFACTS_DIR / f"widget-{name}-{theme}-{width}.png"))
    page.set_viewport_size({"width": width, "height": 1000})


def test_a_take_shown_by_the_studio_and_as_a_cell_value_is_one_player(widgets_page: Any) -> None:
    page = widgets_page
    take_ref = page.locator(".jp-OutputArea .xi-take-ref")
    take_ref.wait_for(timeout=20_000)
    assert "plays in the Studio's player" in take_ref.inner_text()
    # The take is the Studio's player: the speak cell's saved card and the cell whose value is
    # the take add no <audio> of their own.
    assert page.locator(".xi-studio audio").count() == 1
    audio_per_cell = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets"
        ".map((cell) => cell.node.querySelectorAll('.jp-OutputArea audio').length)")
    assert audio_per_cell[-2:] == [0, 0], audio_per_cell
    # Every take in the notebook is one player: the Studio's and the sweep's two.
    assert page.locator(f"{TAKE_AUDIO}:not(.xi-player-audio)").count() == 2
    assert page.locator(".xi-sweep audio").count() == 2

@pytest.mark.parametrize("width", WIDTHS)
def test_no_widget_overflows_or_is_cut_silently(widgets_page: Any, width: int) -> None:
    page = widgets_page
    show_at(page, width)
    failures = []
    for name, selector in WIDGETS.items():
        assert page.locator(selector).count() == 1, name
        offenders = overflowing(page, selector)
        failures += [f"{name}: {offender}" for offender in offenders[:15]]
    assert not failures, f"at a {width} px window:\n" + "\n".join(failures)


@pytest.mark.parametrize("width", [600, 1200])
def test_a_sweep_cell_breaks_between_its_parameters_never_inside_one(widgets_page: Any,
                                                                     width: int) -> None:
    page = widgets_page
    show_at(page, width)
    lines = page.locator(f"{WIDGETS['sweep']} .xi-sweep-param").evaluate_all(
        "(spans) => spans.map((span) => { const style = getComputedStyle(span);"
        " const line = parseFloat(style.lineHeight);"
        " const one = Number.isFinite(line) ? line : parseFloat(style.fontSize) * 1.3;"
        " return [span.textContent, span.getClientRects().length,"
        " span.getBoundingClientRect().height / one]; })")
    assert len(lines) == 2 * 2  # two cells, two parameters each
    broken = [text for text, boxes, height in lines if boxes != 1 or height > 1.5]
    assert not broken, f"at {width} px these values wrap inside themselves: {broken}"


def test_every_control_of_every_widget_has_a_name(widgets_page: Any) -> None:
    page = widgets_page
    show_at(page, 1200)
    names = control_names(page, ALL_WIDGETS)
    assert not names["unnamed"], "controls without an accessible name:\n" + "\n".join(
        names["unnamed"]
    )
    assert not names["positive"], f"a positive tabindex reorders Tab: {names['positive']}"


@pytest.mark.parametrize("theme", THEMES)
def test_text_contrast_is_at_least_4_5_in_every_widget(widgets_page: Any, theme: str) -> None:
    page = widgets_page
    set_theme(page, theme)
    try:
        for width in WIDTHS:
            show_at(page, width)
            screenshots(page, THEMES[theme], width)
        show_at(page, 1200)
        low = []
        for name, selector in WIDGETS.items():
            measured = text_contrasts(page, selector)
            assert measured, f"{name}: no text measured"
            low += [f"{name}: {entry['element']}: {entry['ratio']:.2f}:1"
                    for entry in measured if entry["ratio"] < 4.5]
    finally:
        set_theme(page, "JupyterLab Light")
    assert not low, f"{theme}:\n" + "\n".join(low[:40])

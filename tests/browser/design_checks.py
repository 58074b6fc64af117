"""What the browser measures of a widget's design: overflow, contrast, names, tab order.

Each check runs in the page (``design_checks.js``) and returns the offending elements, described
so that a failure message says which element and by how much: the tests assert the lists are
empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_SCRIPT = (Path(__file__).with_name("design_checks.js")).read_text()
_FOCUSABLE = (
    "button, select, input, textarea, a[href], audio[controls], [tabindex], "
    "[contenteditable='true']"
)


def _run(page: Any, check: str, *args: object) -> Any:
    """Call ``check`` of design_checks.js in the page (the script is added on first use)."""
    if not page.evaluate("() => typeof window.__xiDesign === 'object'"):
        page.add_script_tag(content=_SCRIPT)
    return page.evaluate("([check, args]) => window.__xiDesign[check](...args)", [check, args])


def overflowing(page: Any, root_selector: str) -> list[str]:
    """Elements under ``root_selector`` wider than their box, or reaching outside the root."""
    result: list[str] = _run(page, "overflowing", root_selector)
    return result


def text_contrasts(page: Any, root_selector: str) -> list[dict[str, Any]]:
    """``{"element", "ratio"}`` for every visible, enabled text element under the root."""
    result: list[dict[str, Any]] = _run(page, "textContrasts", root_selector)
    return result


def control_names(page: Any, root_selector: str) -> dict[str, list[str]]:
    """Controls with no accessible name (``unnamed``) and with a positive tabindex."""
    result: dict[str, list[str]] = _run(page, "controlNames", root_selector, _FOCUSABLE)
    return result


def tab_walk(page: Any, root_selector: str, presses: int) -> tuple[int, list[int]]:
    """Focus the root's first tab stop, press Tab ``presses`` times.

    Returns the number of tab stops in DOM order and, for each press, the index of the focused
    element among them (-1: focus is on something that is not one of them), with repeats of the
    same stop collapsed (an ``<audio>``'s own buttons are several stops on one element).
    """
    count = _run(page, "tabStops", root_selector, _FOCUSABLE)
    visited: list[int] = [0]
    for _ in range(presses):
        page.keyboard.press("Tab")
        index = page.evaluate(
            "() => window.__xiTabStops.findIndex((stop) => stop === document.activeElement"
            " || stop.contains(document.activeElement))"
        )
        if index != visited[-1]:
            visited.append(index)
        if index == -1:
            break
    return count, visited


def set_theme(page: Any, theme: str) -> None:
    """Switch JupyterLab's theme and wait until its variables apply."""
    page.evaluate(
        "(theme) => { window.__xiTheme = null; window.jupyterapp.commands"
        ".execute('apputils:change-theme', {theme}).then(() => { window.__xiTheme = theme; }); }",
        theme,
    )
    page.wait_for_function(
        "(theme) => window.__xiTheme === theme && document.body.dataset.jpThemeName === theme",
        arg=theme,
        timeout=20_000,
    )
    page.wait_for_timeout(500)

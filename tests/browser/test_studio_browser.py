"""The quickstart Studio used like a person would, in JupyterLab in Debian's Chromium.

One test walks the whole workflow, because each step needs the state the previous one left
(a kernel with a Studio, a take in the history): open ``01-quickstart.ipynb``, run all cells,
pick a voice, move the speed slider, type a paragraph, click Speak, hear the take while it is
still being generated, see it land in the history, play it from there and delete it.
"""

from __future__ import annotations

import shutil

import pytest
from jupyterlab_harness import (
    ARTIFACTS_DIR,
    REPO_ROOT,
    assert_widgets_rendered,
    kernel_execute,
    open_notebook,
    run_all_cells,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

QUICKSTART = "01-quickstart.ipynb"
README_SCREENSHOT = REPO_ROOT / "docs" / "images" / "studio.png"
README_SCREENSHOT_MAX_BYTES = 300_000

# Long enough that the Piper voice needs several seconds for the whole take, so "audible before
# the take is finished" is a real observation and not a race.
PARAGRAPH = (
    "The lighthouse keeper climbed the narrow stairs every evening at dusk. "
    "He polished the great lens, trimmed the wick, and checked the clockwork that turned the "
    "beam across the dark water. Ships he would never meet passed safely in the night, their "
    "captains trusting a light they could not see the hands of. In winter the storms came "
    "from the north, and the whole tower hummed like a bell. Still he climbed, one step at a "
    "time, because somewhere out there someone was counting on the light."
)

STUDIO = ".xi-studio"
STUDIO_AUDIO = ".xi-studio > .xi-player-box .xi-player-audio"
HISTORY_ROW = ".xi-studio .xi-history-row"

# Finds the notebook's Studio without assuming the variable name the notebook gives it.
FIND_STUDIO = """
import ipywidgets as _ipw
from xiwidgets.widgets.studio import Studio as _Studio
_xi_studio = [_w for _w in list(_ipw.Widget.widgets.values()) if isinstance(_w, _Studio)][-1]
"""

# Samples, from the moment Speak is clicked, what the page shows: when the studio's <audio>
# first advances, the player's state line and the history rows at that instant, and when the
# new history row appears. One sampler in the page makes these observations atomic.
WATCH_SPEAK_JS = """
() => {
  const audio = document.querySelector(arguments_audio);
  const rows = () => document.querySelectorAll(arguments_rows).length;
  const watch = window.__xiSpeak = {
    rowsBefore: rows(), clickAt: null, audibleAt: null, rowAt: null,
    playerStateAtAudible: null, rowsAtAudible: null, timeAtAudible: null,
  };
  document.addEventListener('click', (event) => {
    if (watch.clickAt === null && event.target.closest('.xi-speak')) {
      watch.clickAt = performance.now();
    }
  }, true);
  const sample = () => {
    if (watch.clickAt === null) return;
    if (watch.audibleAt === null && audio.currentTime > 0 && !audio.paused) {
      watch.audibleAt = performance.now();
      watch.timeAtAudible = audio.currentTime;
      watch.playerStateAtAudible = document.querySelector('.xi-studio .xi-player-state')
        .textContent;
      watch.rowsAtAudible = rows();
    }
    if (watch.rowAt === null && rows() > watch.rowsBefore) watch.rowAt = performance.now();
  };
  audio.addEventListener('timeupdate', sample);
  watch.timer = setInterval(sample, 10);
}
"""


def watch_speak_js() -> str:
    """The sampler with this test's selectors filled in."""
    return WATCH_SPEAK_JS.replace("arguments_audio", repr(STUDIO_AUDIO)).replace(
        "arguments_rows", repr(HISTORY_ROW)
    )


def select_voice(page, name: str) -> str:
    """Choose the voice called ``name`` in the Studio's voice picker; return its option value."""
    select = page.locator(f"{STUDIO} .xi-voice-select select")
    options = select.locator("option").all_inner_texts()
    label = next(text for text in options if text == name or text.startswith(f"{name} —"))
    select.select_option(label=label)
    return label


def kernel_value(page, expression: str) -> str:
    """``str(expression)`` evaluated in the notebook's kernel, next to its Studio."""
    return kernel_execute(page, f"{FIND_STUDIO}print({expression})").strip()


def wait_kernel_value(page, expression: str, expected: str, attempts: int = 40) -> None:
    """Wait until the kernel's ``str(expression)`` equals ``expected`` (widget sync is async)."""
    value = None
    for _ in range(attempts):
        value = kernel_value(page, expression)
        if value == expected:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"kernel has {expression} = {value!r}, expected {expected!r}")


def wait_audio_advances(page, selector: str, timeout_ms: int = 20_000) -> None:
    """Wait until the ``<audio>`` at ``selector`` is playing and its currentTime moved ≥ 0.3 s."""
    page.wait_for_function(
        """(selector) => {
          const audio = document.querySelector(selector);
          if (!audio || audio.readyState < 1) return false;
          if (audio.paused && !audio.ended) audio.play().catch(() => {});
          if (audio.__xiStart === undefined && audio.currentTime > 0) {
            audio.__xiStart = audio.currentTime;
          }
          return audio.__xiStart !== undefined && audio.currentTime - audio.__xiStart >= 0.3;
        }""",
        arg=selector,
        timeout=timeout_ms,
        polling=50,
    )


def save_studio_screenshot(page) -> None:
    """Keep a screenshot of the Studio after a take; refresh the README's copy if it fits."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    artifact = ARTIFACTS_DIR / "studio.png"
    page.locator(STUDIO).screenshot(path=str(artifact))
    if artifact.stat().st_size < README_SCREENSHOT_MAX_BYTES:
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artifact, README_SCREENSHOT)


def test_quickstart_studio_speaks_while_generating_and_keeps_history(page, jupyterlab):
    open_notebook(page, jupyterlab, QUICKSTART)
    run_all_cells(page)
    page.locator(STUDIO).wait_for(timeout=60_000)
    page.locator(f"{STUDIO} .xi-voice-select select option").first.wait_for()
    assert_widgets_rendered(page)

    # Pick a voice: another one first, then Joe (the Piper voice, slow enough to stream).
    for name in ("Riley", "Joe"):
        select_voice(page, name)
        wait_kernel_value(page, "_xi_studio.voice_picker.voice.name", name)

    speed = page.locator(f"{STUDIO} .xi-speed .widget-readout")
    speed.fill("1.1")
    speed.press("Enter")
    wait_kernel_value(page, "round(_xi_studio.voice_settings.speed, 3)", "1.1")

    page.locator(f"{STUDIO} .xi-text textarea").fill(PARAGRAPH)
    wait_kernel_value(page, "len(_xi_studio.text)", str(len(PARAGRAPH)))
    assert f"{len(PARAGRAPH):,} / " in page.locator(f"{STUDIO} .xi-count").inner_text()

    page.evaluate(watch_speak_js())
    page.locator(f"{STUDIO} button.xi-speak").click()

    page.wait_for_function("() => window.__xiSpeak.audibleAt !== null", timeout=60_000)
    watch = page.evaluate("() => window.__xiSpeak")
    assert watch["playerStateAtAudible"].startswith("streaming"), (
        f"the take was already finished when it became audible: {watch}"
    )
    assert watch["rowsAtAudible"] == watch["rowsBefore"], watch
    wait_audio_advances(page, STUDIO_AUDIO)

    page.wait_for_function("() => window.__xiSpeak.rowAt !== null", timeout=90_000)
    page.locator(f"{STUDIO} .xi-status", has_text="done").wait_for()
    assert page.locator(HISTORY_ROW).count() == watch["rowsBefore"] + 1
    take_id = kernel_value(page, "_xi_studio.last_take.history_item_id")
    assert kernel_value(page, "_xi_studio.player.status") == "done"
    # The slider's value reached the server with the take.
    saved_speed = kernel_value(
        page, f"_xi_studio.client.history.get({take_id!r}).settings['speed']"
    )
    assert float(saved_speed) == pytest.approx(1.1)
    newest_row = page.locator(HISTORY_ROW).first
    assert PARAGRAPH[:40] in newest_row.inner_text()
    assert_widgets_rendered(page)
    save_studio_screenshot(page)

    # Play the take from its history row: an inline <audio> appears under the row and plays.
    page.evaluate(f"() => document.querySelector({STUDIO_AUDIO!r}).pause()")
    newest_row.locator("button.xi-history-play").click()
    row_audio = f"{HISTORY_ROW} .xi-history-audio audio"
    page.locator(row_audio).first.wait_for(timeout=20_000)
    wait_audio_advances(page, row_audio)

    # Delete it: the first click only asks, the confirmation deletes.
    newest_row.locator("button.xi-history-delete").click()
    confirm = newest_row.locator("button.xi-history-confirm")
    confirm.wait_for(state="visible")
    assert page.locator(HISTORY_ROW).count() == watch["rowsBefore"] + 1
    confirm.click()
    page.wait_for_function(
        "([selector, count]) => document.querySelectorAll(selector).length === count",
        arg=[HISTORY_ROW, watch["rowsBefore"]],
        timeout=20_000,
    )
    assert PARAGRAPH[:40] not in page.locator(f"{STUDIO} .xi-history").inner_text()
    remaining = kernel_value(
        page, "[i.history_item_id for i in _xi_studio.client.history.list().items]"
    )
    assert take_id not in remaining
    assert_widgets_rendered(page)

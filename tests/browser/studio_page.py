"""The Studio as a page: its selectors, and what a user does with it, for tests and benchmarks."""

from __future__ import annotations

from typing import Any

from jupyterlab_harness import kernel_execute

STUDIO = ".xi-studio"
STUDIO_AUDIO = ".xi-studio > .xi-player-box .xi-player-audio"
HISTORY_ROW = ".xi-studio .xi-history-row"
# Every <audio> of a take in the notebook: the history's inline players play old takes.
TAKE_AUDIO = ".jp-NotebookPanel audio:not(.xi-history-audio audio)"
SETTINGS_HEADER = ".xi-studio .xi-settings-section .jupyter-widget-Collapse-header"

# Finds the notebook's Studio without assuming the variable name the notebook gives it.
FIND_STUDIO = """
from ipywidgets.widgets.widget import _instances as _live_widgets
from xiwidgets.widgets.studio import Studio as _Studio
_xi_studio = [_w for _w in list(_live_widgets.values()) if isinstance(_w, _Studio)][-1]
"""

# Watches, from the moment Speak is clicked, what the page shows: when the studio's <audio>
# first advances on the new take's source, the player's state line and the history rows at that
# instant, and when the new history row appears. The watch is driven by the media element's own
# events and polls only once playback has begun: a sampler or a Playwright poll running while
# the take's first clause is synthesized would take CPU from that synthesis on a small machine,
# and the benchmark would measure its own harness.
_WATCH_SPEAK_JS = """
([audioSelector, rowSelector]) => {
  const audio = document.querySelector(audioSelector);
  const rows = () => document.querySelectorAll(rowSelector).length;
  const watch = window.__xiSpeak = {
    rowsBefore: rows(), sourceBefore: audio.src, clickAt: null, audibleAt: null, rowAt: null,
    playerStateAtAudible: null, rowsAtAudible: null, timeAtAudible: null,
  };
  const waiters = window.__xiSpeakWaiters = [];
  document.addEventListener('click', (event) => {
    if (watch.clickAt === null && event.target.closest('.xi-speak')) {
      watch.clickAt = performance.now();
    }
  }, true);
  const watchRows = () => {
    if (watch.rowAt === null && rows() > watch.rowsBefore) watch.rowAt = performance.now();
    else if (watch.rowAt === null) setTimeout(watchRows, 20);
  };
  const sample = () => {
    if (watch.clickAt === null || watch.audibleAt !== null) return;
    const newTake = audio.src && audio.src !== watch.sourceBefore;
    if (newTake && audio.currentTime > 0 && !audio.paused) {
      watch.audibleAt = performance.now();
      watch.timeAtAudible = audio.currentTime;
      watch.playerStateAtAudible =
        document.querySelector('.xi-studio .xi-player-state').textContent;
      watch.rowsAtAudible = rows();
      waiters.splice(0).forEach((resolve) => resolve());
      watchRows();
    } else if (newTake && !audio.paused && audio.readyState >= 3) {
      setTimeout(sample, 1);  // playing: the position moves within a few milliseconds
    }
  };
  audio.addEventListener('playing', sample);
  audio.addEventListener('timeupdate', sample);
  audio.pause();
}
"""


def watch_next_speak(page: Any) -> None:
    """Start watching the page for the next click on Speak; read ``window.__xiSpeak`` after.

    Times are ``performance.now()`` milliseconds: ``clickAt``, ``audibleAt`` (the new take's
    ``<audio>`` playing with ``currentTime > 0``) and ``rowAt`` (a history row was added).
    """
    page.evaluate(_WATCH_SPEAK_JS, [STUDIO_AUDIO, HISTORY_ROW])


def wait_until_audible(page: Any, timeout_ms: int = 60_000) -> None:
    """Wait, without polling the page, until the watched take is audible (or fail after
    ``timeout_ms``)."""
    page.evaluate(
        """(timeoutMs) => new Promise((resolve, reject) => {
          if (window.__xiSpeak.audibleAt !== null) return resolve();
          window.__xiSpeakWaiters.push(resolve);
          setTimeout(() => reject(new Error(`not audible after ${timeoutMs} ms`)), timeoutMs);
        })""", timeout_ms)


def speak_watch(page: Any) -> dict[str, Any]:
    """What the watch started by :func:`watch_next_speak` has seen so far."""
    return page.evaluate("() => ({...window.__xiSpeak})")


def select_voice(page: Any, name: str) -> None:
    """Choose the voice called ``name`` in the Studio's voice picker, as a user would."""
    select = page.locator(f"{STUDIO} .xi-voice-select select")
    # ipywidgets renders the spaces of option labels as no-break spaces.
    labels = select.evaluate(
        "(element) => [...element.options].map((option) => option.text.replace(/\\u00a0/g, ' '))"
    )
    index = next(i for i, label in enumerate(labels) if label.split(" — ")[0] == name)
    select.select_option(index=index)


def open_settings(page: Any) -> None:
    """Open the Studio's settings section (closed, it shows a one-line summary) as a user does."""
    speed = page.locator(f"{STUDIO} .xi-speed .widget-readout")
    if not speed.is_visible():
        page.locator(SETTINGS_HEADER).click()
        speed.wait_for(state="visible")


def kernel_value(page: Any, expression: str) -> str:
    """``str(expression)`` evaluated in the notebook's kernel, next to its Studio."""
    return kernel_execute(page, f"{FIND_STUDIO}print({expression})").strip()


def wait_kernel_value(page: Any, expression: str, expected: str, attempts: int = 40) -> None:
    """Wait until the kernel's ``str(expression)`` equals ``expected`` (widget sync is async)."""
    value = None
    for _ in range(attempts):
        value = kernel_value(page, expression)
        if value == expected:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"kernel has {expression} = {value!r}, expected {expected!r}")


def wait_audio_advances(page: Any, selector: str, timeout_ms: int = 20_000) -> None:
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

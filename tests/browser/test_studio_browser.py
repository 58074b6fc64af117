"""The quickstart Studio used like a person would, in JupyterLab in Debian's Chromium.

One test walks the whole workflow, because each step needs the state the previous one left
(a kernel with a Studio, a take in the history): open ``01-quickstart.ipynb``, run all cells,
pick a voice, move the speed slider, type a paragraph, click Speak, hear the take while it is
still being generated, see it land in the history, play it from there and delete it.
"""

from __future__ import annotations

import pytest
from jupyterlab_harness import (
    ARTIFACTS_DIR,
    assert_widgets_rendered,
    open_notebook,
    run_all_cells,
    wait_for_widget,
)
from studio_page import (
    HISTORY_ROW,
    STUDIO,
    STUDIO_AUDIO,
    TAKE_AUDIO,
    kernel_value,
    open_settings,
    select_voice,
    speak_watch,
    wait_audio_advances,
    wait_kernel_value,
    wait_until_audible,
    watch_next_speak,
)

from xiwidgets.formats import NOTEBOOK_OUTPUT_FORMAT, OutputFormat

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

QUICKSTART = "01-quickstart.ipynb"

# Long enough that the Piper voice needs several seconds for the whole take, so "audible before
# the take is finished" is a real observation and not a race.
PARAGRAPH = (
    "The lighthouse keeper climbed the narrow stairs every evening at dusk. "
    "He polished the great lens, trimmed the wick, and checked the clockwork that turned the "
    "beam across the dark water. Ships he would never meet passed safely in the night, their "
    "captains trusting a light they could not see the hands of. In winter the storms came "
    "from the north, and the whole tower hummed like a bell. Still he climbed, one step at a "
    "time, because somewhere out there someone was counting on the light. When spring "
    "returned, he painted the railings white again and counted the gulls that nested on the "
    "rocks below. Visitors sometimes asked whether he was lonely. He would smile, point at the "
    "horizon, and tell them that the sea was never quiet enough for that."
)


def save_studio_screenshot(page) -> None:
    """Keep a screenshot of the Studio after a take (test-artifacts/, not the repo's docs)."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    # Show the paragraph from its first line, as it reads when typed.
    page.locator(f"{STUDIO} .xi-text textarea").evaluate("(element) => { element.scrollTop = 0; }")
    page.locator(STUDIO).screenshot(path=str(ARTIFACTS_DIR / "studio.png"))


def player_gap(page) -> float:
    """Pixels between the Studio player's caption and its audio controls (the waveform's place)."""
    return page.evaluate(
        """() => {
          const player = document.querySelector('.xi-studio > .xi-player-box');
          return player.querySelector('.xi-player-audio').getBoundingClientRect().top -
                 player.querySelector('.xi-player-caption').getBoundingClientRect().bottom;
        }""")


def count_player_frames_without_waveform(page) -> None:
    """Count, in ``window.__xiFramesWithoutWave``, the animation frames xiwidgets' scripts
    (loaded as blob modules) ask for while the Studio's waveform is hidden."""
    page.evaluate(
        """(selector) => {
          const wave = document.querySelector(selector);
          const ask = window.requestAnimationFrame.bind(window);
          window.__xiFramesWithoutWave = 0;
          window.requestAnimationFrame = (callback) => {
            const blank = wave.hidden || wave.classList.contains('xi-player-wave-empty');
            if (blank && /blob:/.test(new Error().stack)) window.__xiFramesWithoutWave++;
            return ask(callback);
          };
        }""", f"{STUDIO} .xi-player-wave")


def test_quickstart_studio_speaks_while_generating_and_keeps_history(page, jupyterlab):
    open_notebook(page, jupyterlab, QUICKSTART)
    run_all_cells(page)
    wait_for_widget(page, STUDIO)
    page.locator(f"{STUDIO} .xi-voice-select select option").first.wait_for(state="attached")

    # Pick a voice: another one first, then Joe (the Piper voice, slow enough to stream).
    for name in ("Riley", "Joe"):
        select_voice(page, name)
        wait_kernel_value(page, "_xi_studio.voice_picker.voice.name", name)

    open_settings(page)
    speed = page.locator(f"{STUDIO} .xi-speed .widget-readout")
    speed.fill("1.1")
    speed.press("Enter")
    wait_kernel_value(page, "round(_xi_studio.voice_settings.speed, 3)", "1.1")

    page.locator(f"{STUDIO} .xi-text textarea").fill(PARAGRAPH)
    wait_kernel_value(page, "len(_xi_studio.text)", str(len(PARAGRAPH)))
    assert f"{len(PARAGRAPH):,} / " in page.locator(f"{STUDIO} .xi-count").inner_text()

    count_player_frames_without_waveform(page)
    # The quickstart's own take left its waveform between the caption and the audio controls.
    page.locator(f"{STUDIO} .xi-player-wave").wait_for(state="visible")
    gap_before = player_gap(page)
    watch_next_speak(page)
    # The player's own listener, installed when it rendered, runs ahead of this one.
    page.locator(STUDIO_AUDIO).evaluate("""(audio) => {
      window.__xiSourceBeforeClick = audio.src;
      document.addEventListener('click', (event) => {
        if (!event.target.closest('.xi-speak')) return;
        window.__xiSourceAtClick = audio.src;
        const state = document.querySelector('.xi-studio .xi-player-state');
        window.__xiStateAtClick = state.textContent;
        // Every later write of the player's state line, in order.
        window.__xiStateWrites = [];
        new MutationObserver(() => window.__xiStateWrites.push(state.textContent))
          .observe(state, {childList: true, characterData: true, subtree: true});
      }, {capture: true, once: true});
    }""")
    page.locator(f"{STUDIO} button.xi-speak").click()
    # The take's MediaSource is opened by the press itself, not when the kernel's first
    # message about the take arrives.
    assert page.evaluate(
        "() => window.__xiSourceAtClick !== window.__xiSourceBeforeClick "
        "&& window.__xiSourceAtClick.startsWith('blob:')")

    wait_until_audible(page, timeout_ms=60_000)
    watch = speak_watch(page)
    # The player says "streaming" with the press itself, in the click's own frame: the
    # kernel's "start" then changes nothing in the page while the first clause is made (each
    # frame there takes CPU from the synthesis); the next write is the first chunk's.
    assert page.evaluate("() => window.__xiStateAtClick").startswith("streaming · 0 chunks")
    # (The chunk's counts may reach the page after its audio is already playing.)
    page.wait_for_function("() => window.__xiStateWrites.length > 0", timeout=30_000)
    writes = page.evaluate("() => window.__xiStateWrites")
    assert "· 0 chunks" not in writes[0], writes
    assert watch["playerStateAtAudible"].startswith("streaming"), (
        f"the take was already finished when it became audible: {watch}"
    )
    # The new take keeps the waveform's place while it streams: nothing below the player
    # jumped up when Speak was pressed (and will not jump down when the take ends).
    assert player_gap(page) == pytest.approx(gap_before, abs=1)
    # Cell 3's saved take stays out of the page while the new take streams: putting its
    # <audio> back at Speak grew that cell, and moved the Studio, during the first clause.
    assert page.locator(TAKE_AUDIO).count() == 1
    # Pressing Speak leaves the focus in the text box: the user goes on typing.
    assert page.evaluate("() => !!document.activeElement.closest('.xi-studio .xi-text')")
    assert watch["rowsAtAudible"] == watch["rowsBefore"], watch
    wait_audio_advances(page, STUDIO_AUDIO)
    # The browser reports playback to the kernel (one message per media event, after it).
    wait_kernel_value(page, "_xi_studio.player.playing", "True")
    wait_kernel_value(page, "_xi_studio.player.position > 0.2", "True")

    page.wait_for_function("() => window.__xiSpeak.rowAt !== null", timeout=90_000)
    page.locator(f"{STUDIO} .xi-status", has_text="done").wait_for()
    page.locator(f"{STUDIO} .xi-player-wave").wait_for(state="visible")
    # Once the new take's card is in the Studio, cell 3's card plays its take again.
    page.locator(f"{STUDIO} .xi-take-card").wait_for(state="attached", timeout=20_000)
    page.wait_for_function("(selector) => document.querySelectorAll(selector).length === 2",
                           arg=TAKE_AUDIO, timeout=10_000)
    # While the take streamed there was no waveform yet: nothing for the player to animate.
    assert page.evaluate("() => window.__xiFramesWithoutWave") == 0
    # The player's JavaScript names the take's download with the extension Python sent.
    download_name = page.locator(f"{STUDIO} a.xi-download").get_attribute("download")
    assert download_name == f"take{OutputFormat.parse(NOTEBOOK_OUTPUT_FORMAT).extension}"
    assert page.locator(HISTORY_ROW).count() == watch["rowsBefore"] + 1
    take_id = kernel_value(page, "_xi_studio.last_take.history_item_id")
    assert kernel_value(page, "_xi_studio.player.status") == "done"
    # The media source opened at the press holds the take, from 0, and nothing else.
    held = page.locator(STUDIO_AUDIO).evaluate(
        "(a) => [a.buffered.length, a.buffered.start(0), a.duration]")
    take_seconds = float(kernel_value(page, "_xi_studio.player.duration"))
    assert held[:2] == [1, 0]
    assert held[2] == pytest.approx(take_seconds, abs=0.02)
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

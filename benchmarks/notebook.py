"""Figures of the notebook experience (issue 4), measured side by side in one run; nothing asserted.

1. Click on Speak in JupyterLab (Debian's Chromium) → first audible sample of the take (the
   Studio's ``<audio>`` playing with ``currentTime > 0``, timed with ``performance.now()`` in the
   page), against the local server's own time to first audio byte for the same text, measured
   with plain ``requests`` on the same server (the one the notebook's kernel started). Target
   ≤ 1.3×.
2. Saved notebook bytes per minute of audio: the Studio's default policy (``embed`` MP3) against
   ``IPython.display.Audio`` of the WAV of the same text. Each notebook runs under nbclient, is
   saved, and a twin that makes the same take without keeping it is subtracted. Target ≤ 0.1×.
3. ``HistoryTable`` first page with 10 000 history items against 100 (servers seeded through the
   store, as in ``benchmarks/history_table.py``, whose seeding this reuses). Target ≤ 1.5×.

Run: ``.venv/bin/python benchmarks/notebook.py [--only click,bytes,history] [--rounds N]``.
Part 1 needs /usr/bin/chromium and is skipped with a note when it is absent.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "benchmarks")]

# About 40 s of speech with the Piper voice: long enough that streaming matters, short enough
# to synthesize several times in one run.
TEXT = (
    "The lighthouse keeper climbed the narrow stairs every evening at dusk. He polished the "
    "great lens, trimmed the wick, and checked the clockwork that turned the beam across the "
    "dark water. Ships he would never meet passed safely in the night, their captains trusting a "
    "light they could not see the hands of. In winter the storms came from the north, and the "
    "whole tower hummed like a bell. Still he climbed, one step at a time, because somewhere out "
    "there someone was counting on the light. When spring returned, he painted the railings "
    "white again and counted the gulls that nested on the rocks below."
)
# The time to first audio depends on the first clause only; two sentences keep the rounds short.
CLICK_TEXT = TEXT[: TEXT.index("dark water.") + len("dark water.")]
VOICE = "Joe"
WAV_FORMAT = "wav_44100"  # the same sample rate as the default MP3 (mp3_44100_64)


@contextlib.contextmanager
def local_kernel_environment(scratch_dir: Path) -> Iterator[None]:
    """Kernels started inside this block use a fresh embedded local server (no key, no URL)."""
    from jupyterlab_harness import kernel_environment

    saved = dict(os.environ)
    for name, value in kernel_environment(scratch_dir).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# -- 1. click → first audible sample ------------------------------------------------------------


# Defined in the kernel, which holds the embedded server's key: the key never leaves it (no
# output, no benchmark variable); only the seconds come back.
_KERNEL_TIME_TO_FIRST_AUDIO = """
def _xi_time_to_first_audio(voice_id, text):
    import time
    import requests
    from xiwidgets.client.embedded import embedded_server
    server = embedded_server()
    url = f"{server.base_url}/v1/text-to-speech/{voice_id}/stream"
    started = time.perf_counter()
    with requests.post(url, json={"text": text}, headers={"xi-api-key": server.api_key},
                       stream=True, timeout=120) as response:
        response.raise_for_status()
        chunks = response.iter_content(chunk_size=None)
        next(chunk for chunk in chunks if chunk)
        elapsed = time.perf_counter() - started
        for _ in chunks:
            pass
    return elapsed
"""


def measure_click_to_audio(rounds: int) -> list[tuple[str, str, str, str]]:
    """Median click → audible in the browser and the server's median time to first audio."""
    from jupyterlab_harness import (
        CHROMIUM_PATH,
        kernel_environment,
        launch_chromium,
        open_notebook,
        run_all_cells,
        start_jupyterlab,
        wait_for_widget,
    )
    from playwright.sync_api import sync_playwright
    from studio_page import (
        STUDIO,
        STUDIO_AUDIO,
        kernel_value,
        select_voice,
        speak_watch,
        wait_kernel_value,
        wait_until_audible,
        watch_next_speak,
    )

    if not CHROMIUM_PATH.exists():
        print(f"note: {CHROMIUM_PATH} is missing; click → audio not measured")
        return []
    browser_s: list[float] = []
    server_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="xi-bench-lab-") as scratch_name:
        scratch = Path(scratch_name)
        root = scratch / "notebooks"
        root.mkdir()
        shutil.copy(ROOT / "notebooks" / "01-quickstart.ipynb", root)
        lab = start_jupyterlab(root, scratch / "lab", kernel_environment(scratch))
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                open_notebook(page, lab, "01-quickstart.ipynb")
                run_all_cells(page, timeout=300)
                wait_for_widget(page, STUDIO)
                select_voice(page, VOICE)
                wait_kernel_value(page, "_xi_studio.voice_picker.voice.name", VOICE)
                page.locator(f"{STUDIO} .xi-text textarea").fill(CLICK_TEXT)
                wait_kernel_value(page, "len(_xi_studio.text)", str(len(CLICK_TEXT)))
                voice_id = kernel_value(page, "_xi_studio.voice_picker.voice_id")
                kernel_value(page, f"(exec({_KERNEL_TIME_TO_FIRST_AUDIO!r}, globals()), 1)[1]")
                for _ in range(rounds):
                    # Alternate the two paths so that load on the machine hits both alike.
                    watch_next_speak(page)
                    page.locator(f"{STUDIO} button.xi-speak").click()
                    wait_until_audible(page, timeout_ms=120_000)
                    seen = speak_watch(page)
                    browser_s.append((seen["audibleAt"] - seen["clickAt"]) / 1000)
                    page.locator(f"{STUDIO} .xi-status", has_text="done").wait_for(
                        timeout=180_000)
                    # Playback reports its position to the kernel, which hosts the embedded
                    # server: silence it so both paths are timed on an equally quiet kernel.
                    page.evaluate(f"() => document.querySelector({STUDIO_AUDIO!r}).pause()")
                    server_s.append(float(kernel_value(
                        page, f"_xi_time_to_first_audio({voice_id!r}, {CLICK_TEXT!r})")))
                browser.close()
        finally:
            lab.stop()
    browser_median = statistics.median(browser_s)
    server_median = statistics.median(server_s)
    overhead = statistics.median(b - s for b, s in zip(browser_s, server_s, strict=True))
    return [
        ("click → first audible sample (browser)", f"{browser_median * 1000:.0f} ms", "", ""),
        ("server time to first audio (requests)", f"{server_median * 1000:.0f} ms", "", ""),
        ("  browser path overhead (per-round difference)", f"{overhead * 1000:.0f} ms", "", ""),
        ("  ratio browser / server", f"{browser_median / server_median:.2f}×", "≤ 1.3×",
         "met" if browser_median / server_median <= 1.3 else "MISSED"),
    ]


# -- 2. saved notebook bytes per minute of audio ------------------------------------------------


def notebook_with(cells: list[str]) -> nbformat.NotebookNode:
    """A notebook of code cells for the python3 kernel."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def studio_cells(policy: str) -> list[str]:
    """The quickstart's way: a Studio with ``policy`` speaks TEXT; prints the take's seconds."""
    return [
        "import xiwidgets as xi",
        f"studio = xi.Studio(voice={VOICE!r}, policy={policy!r})\nstudio",
        f"take = studio.speak({TEXT!r}, wait=True)\nprint(f'SECONDS={{take.duration}}')",
    ]


def wav_cells(display_audio: bool) -> list[str]:
    """The plain way: the WAV of TEXT, shown with ``IPython.display.Audio`` or not at all."""
    return [
        "import xiwidgets as xi\nfrom IPython.display import Audio",
        f"wav = xi.connect().tts.convert({VOICE!r}, text={TEXT!r}, "
        f"output_format={WAV_FORMAT!r}).audio",
        "import io, wave\nwith wave.open(io.BytesIO(wav)) as w:\n"
        "    print(f'SECONDS={w.getnframes() / w.getframerate()}')",
        "Audio(data=wav)" if display_audio else "len(wav)",
    ]


def saved_size_and_seconds(cells: list[str], work_dir: Path) -> tuple[int, float]:
    """Run ``cells`` under nbclient (widget state kept, as JupyterLab saves it); bytes and audio."""
    from nbclient import NotebookClient

    notebook = notebook_with(cells)
    with local_kernel_environment(work_dir):
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(work_dir)}}).execute()
    path = work_dir / "saved.ipynb"
    nbformat.write(notebook, path)
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    seconds = float(printed.split("SECONDS=")[1].split()[0])
    return path.stat().st_size, seconds


def measure_notebook_bytes() -> list[tuple[str, str, str, str]]:
    """Bytes a take adds to the saved notebook, per minute of audio, for both ways of keeping it."""
    per_minute = {}
    with tempfile.TemporaryDirectory(prefix="xi-bench-nb-") as scratch_name:
        scratch = Path(scratch_name)
        runs = {"embed": studio_cells("embed"), "embed-baseline": studio_cells("none"),
                "wav": wav_cells(True), "wav-baseline": wav_cells(False)}
        sizes, seconds = {}, {}
        for name, cells in runs.items():
            work_dir = scratch / name
            work_dir.mkdir()
            sizes[name], seconds[name] = saved_size_and_seconds(cells, work_dir)
        for way in ("embed", "wav"):
            added = sizes[way] - sizes[f"{way}-baseline"]
            per_minute[way] = added / (seconds[way] / 60)
    ratio = per_minute["embed"] / per_minute["wav"]
    return [
        ("saved bytes per minute of audio, Studio (embed MP3)",
         f"{per_minute['embed'] / 1e6:.2f} MB", "", ""),
        (f"saved bytes per minute of audio, Audio({WAV_FORMAT})",
         f"{per_minute['wav'] / 1e6:.2f} MB", "", ""),
        ("  ratio embed / WAV", f"{ratio:.2f}×", "≤ 0.1×", "met" if ratio <= 0.1 else "MISSED"),
    ]


# -- 3. HistoryTable first page ------------------------------------------------------------------


def measure_history_first_page(rounds: int) -> list[tuple[str, str, str, str]]:
    """Median time to build a HistoryTable (voices + first page) with 100 and 10 000 items."""
    from history_table import SIZES, measure_history_table

    timings, _next_page = measure_history_table(rounds)
    small, large = SIZES
    medians = {count: statistics.median(timings[count]) for count in SIZES}
    ratio = medians[large] / medians[small]
    return [
        (f"HistoryTable first page, {small:,} items", f"{medians[small] * 1000:.0f} ms", "", ""),
        (f"HistoryTable first page, {large:,} items", f"{medians[large] * 1000:.0f} ms", "", ""),
        ("  ratio", f"{ratio:.2f}×", "≤ 1.5×", "met" if ratio <= 1.5 else "MISSED"),
    ]


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    """Print ``(figure, value, target, verdict)`` rows as aligned columns."""
    header = ("figure", "value", "target", "")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="click,bytes,history",
                        help="comma-separated parts to run: click, bytes, history")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per figure")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    rows: list[tuple[str, str, str, str]] = []
    if "click" in parts:
        rows += measure_click_to_audio(args.rounds)
    if "bytes" in parts:
        rows += measure_notebook_bytes()
    if "history" in parts:
        # The seeding prints its own progress; keep the table readable.
        with contextlib.redirect_stdout(io.StringIO()):
            rows += measure_history_first_page(args.rounds)
    print_table(rows)


if __name__ == "__main__":
    main()

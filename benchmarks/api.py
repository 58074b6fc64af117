"""The newer API operations against one local server (in a subprocess), one section each.

1. Dialogue: time to the first audio bytes of ``/v1/text-to-dialogue/stream`` (two voices)
   against a single-voice take of the same first line (``/v1/text-to-speech/{id}/stream``),
   alternating, median over ROUNDS runs each (target: dialogue / single ≤ 1.2).

Run: ``.venv/bin/python benchmarks/api.py [section ...]`` (every section by default).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROUNDS = 15
CHUNK_SIZE = 1024
FIRST_LINE = "Good morning, did you sleep well last night?"
SECOND_LINE = "Very well, thank you, and you?"

_SERVER_SCRIPT = """
import sys
from xiwidgets.server import start_in_thread
handle = start_in_thread(data_dir=sys.argv[1])
print(handle.base_url, flush=True)
sys.stdin.read()
handle.stop()
"""


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """A local server in its own process, so it does not share the benchmark's interpreter."""
    process = subprocess.Popen([sys.executable, "-c", _SERVER_SCRIPT, str(data_dir)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def first_audio(session: requests.Session, url: str, body: dict) -> float:
    """Seconds from sending the request to its first audio bytes (the take then finishes)."""
    start = time.perf_counter()
    response = session.post(url, json=body, stream=True)
    response.raise_for_status()
    chunks = response.iter_content(chunk_size=CHUNK_SIZE)
    next(chunks)
    elapsed = time.perf_counter() - start
    for _ in chunks:  # finish the take so the next run starts on an idle server
        pass
    return elapsed


def voice_ids(session: requests.Session, base_url: str) -> dict[str, str]:
    voices = session.get(f"{base_url}/v1/voices").json()["voices"]
    return {voice["name"]: voice["voice_id"] for voice in voices}


def dialogue_time_to_first_audio(base_url: str) -> None:
    session = requests.Session()
    ids = voice_ids(session, base_url)
    single_url = f"{base_url}/v1/text-to-speech/{ids['Joe']}/stream"
    single_body = {"text": FIRST_LINE}
    dialogue_url = f"{base_url}/v1/text-to-dialogue/stream"
    dialogue_body = {"inputs": [{"text": FIRST_LINE, "voice_id": ids["Joe"]},
                                {"text": SECOND_LINE, "voice_id": ids["Amelia"]}]}
    runs: dict[str, list[float]] = {"single": [], "dialogue": []}
    measure: dict[str, Callable[[], float]] = {
        "single": lambda: first_audio(session, single_url, single_body),
        "dialogue": lambda: first_audio(session, dialogue_url, dialogue_body),
    }
    for name in measure:  # warm the connection and both voices
        measure[name]()
    for round_number in range(ROUNDS):
        order = ["single", "dialogue"] if round_number % 2 == 0 else ["dialogue", "single"]
        for name in order:
            runs[name].append(measure[name]())
    single, dialogue = (statistics.median(runs[name]) for name in ("single", "dialogue"))
    print("Dialogue: time to first audio (median of "
          f"{ROUNDS}): single voice {single * 1000:.0f} ms, dialogue of two voices "
          f"{dialogue * 1000:.0f} ms, ratio {dialogue / single:.2f} (target ≤ 1.2)")


SECTIONS = {"dialogue": dialogue_time_to_first_audio}


def main(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        process, base_url = start_server(Path(data_dir))
        try:
            for name in names or list(SECTIONS):
                SECTIONS[name](base_url)
        finally:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=60)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Voice design figures, against local servers in subprocesses.

``bench_voice_design``: three design previews of a 100-character text (goal ≤ 2 s), median of
ROUNDS designs after one warm-up (the first take loads the models), with the server process's
CPU seconds per preview beside it (a shared machine's wall time is partly waiting for a core):

* ``kokoro blends``: the Kokoro voices, the default server (one synthesis slot per two cores,
  so on two cores the previews are made one after another);
* ``kokoro, 2 slots``: the same with ``max_concurrent_syntheses=2`` (previews side by side);
* ``joe + espeak-ng``: a server whose Kokoro assets are hidden.

Beside each: the same design with ``stream_previews`` (ids only), the time to the first byte
of a preview's first stream (which makes it) and of its next stream (which replays the kept
audio).

Run: ``.venv/bin/python benchmarks/voice_design.py``
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

ROUNDS = 3
GOAL_SECONDS = 2.0
DESIGN_TEXT = (
    "The morning train was late again, so Maria walked to the office along the river and "
    "saw three boats."
)
DESCRIPTIONS = (
    "A deep, slow male voice, calm and measured.",
    "A bright, fast female voice, young and cheerful.",
)

_SERVER_SCRIPT = """
import json, sys
from xiwidgets.server import start_in_thread
handle = start_in_thread(data_dir=sys.argv[1], **json.loads(sys.argv[2]))
print(handle.base_url, flush=True)
sys.stdin.read()
handle.stop()
"""


def start_server(
    data_dir: Path, env: dict[str, str], config: dict[str, object]
) -> tuple[subprocess.Popen[str], str]:
    """A local server in its own process with ``env`` (so the client does not share its GIL)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER_SCRIPT, str(data_dir), json.dumps(config)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, **env},
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _design(base_url: str, description: str, **fields: object) -> tuple[float, dict]:
    started = time.perf_counter()
    response = requests.post(
        f"{base_url}/v1/text-to-voice/design",
        json={"voice_description": description, "text": DESIGN_TEXT, **fields}, timeout=600,
    )
    response.raise_for_status()
    return time.perf_counter() - started, response.json()


def _first_byte(base_url: str, generated_voice_id: str) -> float:
    started = time.perf_counter()
    with requests.get(f"{base_url}/v1/text-to-voice/{generated_voice_id}/stream",
                      stream=True, timeout=600) as response:
        response.raise_for_status()
        chunks = response.iter_content(1024)  # one iterator: a second would find no more
        next(chunks)
        elapsed = time.perf_counter() - started
        for _ in chunks:
            pass
    return elapsed


def design_rounds(process: psutil.Process, base_url: str) -> dict[str, float]:
    """Median figures of ROUNDS designs (after a warm-up) against the server ``process``."""
    _design(base_url, DESCRIPTIONS[0])  # warm-up: the first take loads the models
    runs: dict[str, list[float]] = {"design_s": [], "cpu_per_preview_s": [],
                                    "stream_previews_s": [], "first_stream_ttfb_s": [],
                                    "replay_ttfb_s": []}
    for round_ in range(ROUNDS):
        description = DESCRIPTIONS[round_ % 2]
        cpu = _cpu_seconds(process)
        seconds, answer = _design(base_url, description, seed=round_)
        runs["design_s"].append(seconds)
        runs["cpu_per_preview_s"].append((_cpu_seconds(process) - cpu) / len(answer["previews"]))
        seconds, answer = _design(base_url, description, seed=round_, stream_previews=True)
        runs["stream_previews_s"].append(seconds)
        preview = answer["previews"][0]["generated_voice_id"]
        runs["first_stream_ttfb_s"].append(_first_byte(base_url, preview))
        runs["replay_ttfb_s"].append(_first_byte(base_url, preview))
    return {name: statistics.median(values) for name, values in runs.items()}


def bench_voice_design() -> dict[str, dict[str, float]]:
    """Median seconds of a three-preview design per server set-up, printed as a table."""
    assert len(DESIGN_TEXT) == 100
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        no_kokoro = {"XIWIDGETS_VOICE_ASSETS": str(Path(scratch) / "none")}
        setups: dict[str, tuple[dict[str, str], dict[str, object]]] = {
            "kokoro blends": ({}, {}),
            "kokoro, 2 slots": ({}, {"max_concurrent_syntheses": 2}),
            "joe + espeak-ng": (no_kokoro, {}),
        }
        for name, (env, config) in setups.items():
            data_dir = Path(scratch) / name.replace(" ", "_").replace(",", "")
            process, base_url = start_server(data_dir, env, config)
            try:
                results[name] = design_rounds(psutil.Process(process.pid), base_url)
            finally:
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=60)
    print(f"Voice design: three previews of a {len(DESIGN_TEXT)}-character text "
          f"(median of {ROUNDS}; goal <= {GOAL_SECONDS:g} s)")
    print(f"{'voices':<17}{'design':>8}{'CPU/preview':>13}{'ids only':>10}"
          f"{'1st stream':>12}{'replay':>9}")
    for name, row in results.items():
        print(f"{name:<17}{row['design_s']:>7.2f}s{row['cpu_per_preview_s']:>12.2f}s"
              f"{row['stream_previews_s']:>9.3f}s{row['first_stream_ttfb_s']:>11.2f}s"
              f"{row['replay_ttfb_s']:>8.3f}s")
    return results


def main() -> None:
    """Every figure of this file."""
    bench_voice_design()


if __name__ == "__main__":
    main()

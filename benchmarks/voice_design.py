"""Voice design figures, against local servers in subprocesses.

``bench_voice_design``: three design previews of a 100-character text (goal ≤ 2 s), median of
ROUNDS designs after one warm-up, on the Kokoro voices (blends) and on Joe/espeak-ng (a server
whose Kokoro assets are hidden); beside it the same design with ``stream_previews`` (ids only)
and the time to the first byte of one preview's stream.

Run: ``.venv/bin/python benchmarks/voice_design.py``
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROUNDS = 3
DESIGN_TEXT = (
    "The morning train was late again, so Maria walked to the office along the river and "
    "saw three boats."
)
DESCRIPTIONS = (
    "A deep, slow male voice, calm and measured.",
    "A bright, fast female voice, young and cheerful.",
)

_SERVER_SCRIPT = """
import sys
from xiwidgets.server import start_in_thread
handle = start_in_thread(data_dir=sys.argv[1])
print(handle.base_url, flush=True)
sys.stdin.read()
handle.stop()
"""


def start_server(data_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """A local server in its own process with ``env`` (so the client does not share its GIL)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER_SCRIPT, str(data_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, **env},
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


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
        next(response.iter_content(1024))
        elapsed = time.perf_counter() - started
        for _ in response.iter_content(65536):
            pass
    return elapsed


def bench_voice_design() -> dict[str, dict[str, float]]:
    """Median seconds of a three-preview design per engine set, printed as a table."""
    assert len(DESIGN_TEXT) == 100
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        setups = {
            "kokoro blends": {},
            "joe + espeak-ng": {"XIWIDGETS_VOICE_ASSETS": str(Path(scratch) / "none")},
        }
        for name, env in setups.items():
            process, base_url = start_server(Path(scratch) / name.replace(" ", "_"), env)
            try:
                _design(base_url, DESCRIPTIONS[0])  # warm-up: the first take loads models
                full, ids_only, first_bytes = [], [], []
                for round_ in range(ROUNDS):
                    description = DESCRIPTIONS[round_ % 2]
                    full.append(_design(base_url, description, seed=round_)[0])
                    seconds, answer = _design(base_url, description, seed=round_,
                                              stream_previews=True)
                    ids_only.append(seconds)
                    preview = answer["previews"][0]["generated_voice_id"]
                    first_bytes.append(_first_byte(base_url, preview))
                results[name] = {
                    "design_s": statistics.median(full),
                    "stream_previews_s": statistics.median(ids_only),
                    "preview_first_byte_s": statistics.median(first_bytes),
                }
            finally:
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=60)
    print(f"Voice design: three previews of a {len(DESIGN_TEXT)}-character text "
          f"(median of {ROUNDS}; goal <= 2 s)")
    print(f"{'voices':<18}{'design':>10}{'ids only':>10}{'stream TTFB':>13}")
    for name, row in results.items():
        print(f"{name:<18}{row['design_s']:>9.2f}s{row['stream_previews_s']:>9.3f}s"
              f"{row['preview_first_byte_s']:>12.2f}s")
    return results


def main() -> None:
    """Every figure of this file."""
    bench_voice_design()


if __name__ == "__main__":
    main()

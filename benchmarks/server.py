"""Server overhead over the raw engine: time to first audio, total time, memory.

Measured side by side in one run on a 125-word paragraph and an 8-word sentence (Joe voice):

* raw engine (``Synthesizer`` in this process): time to the first chunk and to the last;
* the server (``xiwidgets serve --port 0`` as a subprocess, so its RSS is its own) over HTTP
  ``/stream``: time to the first audio byte (TTFA) and to the last, for ``mp3_44100_128`` and
  ``pcm_24000``;
* ratios against the raw engine, and real-time factors (wall seconds per second of audio,
  lower is faster);
* the server's RSS after 10 and after 100 requests.

Engine and server runs alternate (engine, server mp3, engine, server pcm, ...) so that load
from other processes and cache warmth hit both alike; each figure is the median of its
``REPEATS``.
Run: ``.venv/bin/python benchmarks/server.py``.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import psutil
import requests

from xiwidgets.server.catalog import PREMADE_VOICES
from xiwidgets.server.engines import SynthesisSettings, Synthesizer

# Runs per figure; the short sentence is cheap, so it gets more runs against the machine's noise.
REPEATS = {"paragraph": 5, "sentence": 15}
PARAGRAPH = (
    "The old lighthouse stood at the edge of the cliff, its white paint peeling after many "
    "winters of salt and wind. Every evening the keeper climbed the narrow stairs, lit the "
    "great lamp, and watched the beam sweep across the dark water. Ships passing in the night "
    "trusted that light to guide them safely around the rocks. When the keeper retired, the "
    "town replaced him with an automatic lamp that never slept and never complained. Children "
    "still walk up the hill on summer afternoons to look at the empty tower, and some of them "
    "say that on stormy nights they can see a figure in the window, checking the horizon one "
    "last time before the morning comes, just as the old keeper always had done."
)
SENTENCE = "Please read this short sentence out loud now."
FORMATS = ("mp3_44100_128", "pcm_24000")
READY = re.compile(r"listening on (http://\S+)")
TARGETS = {
    "ttfa_vs_engine_first_chunk": 1.2,
    "ttfa_vs_paragraph_total": 0.15,
    "rtf_vs_engine": 1.2,
    "rss_100_vs_10": 1.1,
}


@dataclass
class Timing:
    first: float
    total: float
    audio_seconds: float

    @property
    def rtf(self) -> float:
        return self.total / self.audio_seconds


def median_timing(timings: list[Timing]) -> Timing:
    return Timing(
        statistics.median(t.first for t in timings),
        statistics.median(t.total for t in timings),
        statistics.median(t.audio_seconds for t in timings),
    )


def engine_timing(synthesizer: Synthesizer, text: str, spec) -> Timing:
    start = time.perf_counter()
    first = None
    samples = 0
    rate = 1
    for chunk in synthesizer.synthesize(text, spec, SynthesisSettings()):
        first = first if first is not None else time.perf_counter() - start
        samples += len(chunk.pcm)
        rate = chunk.sample_rate
    return Timing(first or 0.0, time.perf_counter() - start, samples / rate)


def server_timing(base_url: str, voice_id: str, text: str, output_format: str) -> Timing:
    start = time.perf_counter()
    first = None
    received = bytearray()
    with requests.post(
        f"{base_url}/v1/text-to-speech/{voice_id}/stream",
        params={"output_format": output_format, "enable_logging": "false"},
        json={"text": text},
        stream=True,
        timeout=300,
    ) as response:
        response.raise_for_status()
        for piece in response.iter_content(chunk_size=None):
            if piece and first is None:
                first = time.perf_counter() - start
            received += piece
    total = time.perf_counter() - start
    if output_format.startswith("pcm_"):
        audio_seconds = len(received) / 2 / int(output_format.split("_")[1])
    else:
        audio_seconds = len(received) * 8 / (int(output_format.split("_")[2]) * 1000)
    return Timing(first or total, total, audio_seconds)


def start_server(data_dir: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "xiwidgets.cli", "serve", "--port", "0", "--data-dir", data_dir],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    match = READY.search(line)
    if not match:
        process.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return process, match.group(1)


def row(label: str, *values: str) -> None:
    print(f"{label:<44}" + "".join(f"{value:>16}" for value in values))


def verdict(name: str, value: float) -> str:
    return f"{value:.3f} ({'ok' if value <= TARGETS[name] else 'MISSED'} ≤ {TARGETS[name]})"


def main() -> None:
    joe = next(voice for voice in PREMADE_VOICES if voice.name == "Joe")
    print(f"paragraph: {len(PARAGRAPH.split())} words; sentence: {len(SENTENCE.split())} words")

    synthesizer = Synthesizer()
    synthesizer.warm_up()
    engine_timing(synthesizer, SENTENCE, joe.spec)
    texts = (("paragraph", PARAGRAPH), ("sentence", SENTENCE))
    engine_runs: dict[str, list[Timing]] = {name: [] for name, _ in texts}
    server_runs: dict[tuple[str, str], list[Timing]] = {
        (name, fmt): [] for name, _ in texts for fmt in FORMATS
    }
    with tempfile.TemporaryDirectory() as data_dir:
        process, base_url = start_server(data_dir)
        try:
            server_timing(base_url, joe.voice_id, SENTENCE, "mp3_44100_128")  # warm
            for run in range(max(REPEATS.values())):
                for name, text in texts:
                    if run >= REPEATS[name]:
                        continue
                    for fmt in FORMATS:
                        # Each server run follows an engine run and vice versa, so neither
                        # side finds the CPU caches warmer than the other.
                        engine_runs[name].append(engine_timing(synthesizer, text, joe.spec))
                        server_runs[(name, fmt)].append(
                            server_timing(base_url, joe.voice_id, text, fmt)
                        )
            rss = measure_rss(process.pid, base_url, joe.voice_id)
        finally:
            process.terminate()
            process.wait(timeout=30)
    engine = {name: median_timing(runs) for name, runs in engine_runs.items()}
    served = {key: median_timing(runs) for key, runs in server_runs.items()}

    row("", "first audio s", "total s", "audio s", "RTF")
    for name in ("paragraph", "sentence"):
        t = engine[name]
        row(f"raw engine, {name}", f"{t.first:.3f}", f"{t.total:.3f}", f"{t.audio_seconds:.2f}",
            f"{t.rtf:.3f}")
        for fmt in FORMATS:
            s = served[(name, fmt)]
            row(f"server /stream {fmt}, {name}", f"{s.first:.3f}", f"{s.total:.3f}",
                f"{s.audio_seconds:.2f}", f"{s.rtf:.3f}")
    print()
    for name in ("paragraph", "sentence"):
        for fmt in FORMATS:
            s, e = served[(name, fmt)], engine[name]
            print(f"{name}, {fmt}:")
            print("  TTFA / engine first chunk   ",
                  verdict("ttfa_vs_engine_first_chunk", s.first / e.first))
            if name == "paragraph":
                print("  TTFA / engine paragraph total",
                      verdict("ttfa_vs_paragraph_total", s.first / e.total))
            print("  server RTF / engine RTF     ", verdict("rtf_vs_engine", s.rtf / e.rtf))
    print()
    print(f"server RSS after 10 requests:  {rss[10] / 2**20:.1f} MiB")
    print(f"server RSS after 100 requests: {rss[100] / 2**20:.1f} MiB")
    print("  RSS after 100 / after 10     ", verdict("rss_100_vs_10", rss[100] / rss[10]))


def measure_rss(pid: int, base_url: str, voice_id: str) -> dict[int, int]:
    """RSS after 10 and 100 requests: convert, stream and with-timestamps, history kept."""
    process = psutil.Process(pid)
    paths = ["", "/stream", "/with-timestamps", "/stream/with-timestamps"]
    rss = {}
    for count in range(1, 101):
        path = paths[count % len(paths)]
        response = requests.post(
            f"{base_url}/v1/text-to-speech/{voice_id}{path}",
            json={"text": f"Request number {count}. {SENTENCE}"},
            timeout=120,
        )
        response.raise_for_status()
        if count in (10, 100):
            rss[count] = process.memory_info().rss
    return rss


if __name__ == "__main__":
    main()

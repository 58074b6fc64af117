"""Experiments: the cost of scoring, of sweeping, and how well Joe is understood.

1. ``evaluate()`` seconds per second of audio, all metrics, models already loaded (target
   ≤ 0.25 on 2 cores); the process's CPU seconds per audio second beside it, which a busy
   machine inflates less. Then each part alone: decoding, and each metric on decoded takes.
2. A 12-cell sweep (``evaluate=False``, one request at a time so that each cell's own
   ``total_time`` is its synthesis time): wall time / sum of the cells' times (target ≤ 1.1);
   then the same sweep again: second wall time / first (target ≤ 0.05, resume).
3. Joe's word error rate through ``evaluate()`` on the project's own sentences (target ≤ 0.05).

Run: ``.venv/bin/python benchmarks/experiments.py [--only evaluate|sweep]`` (``evaluate``: parts
1 and 3; ``sweep``: part 2).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from client import start_server  # benchmarks/client.py: a local server in its own process

from xiwidgets.client import Client
from xiwidgets.experiments import METRICS, evaluate, sweep

# The paragraph of tests/engines/test_intelligibility.py, sentence by sentence.
SENTENCES = [
    "The museum in our city opens at ten every morning.",
    "Visitors can walk through rooms full of old maps, paintings and musical instruments.",
    "On weekends, families bring their children to the science hall, where they can build "
    "bridges out of wooden blocks.",
    "The cafe on the top floor serves fresh bread, soup and hot chocolate.",
]
SWEEP_GRID = {"stability": [0.3, 0.6, 0.9], "speed": [0.9, 1.1], "seed": [1, 2]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("evaluate", "sweep"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        process, base_url = start_server(Path(data_dir) / "server")
        try:
            with Client(base_url=base_url, timeout=120) as client:
                if args.only in (None, "evaluate"):
                    bench_evaluate(client)
                if args.only in (None, "sweep"):
                    bench_sweep(client, Path(data_dir))
        finally:
            process.stdin.close()
            process.wait(timeout=30)


def bench_evaluate(client: Client) -> None:
    takes = [client.tts.convert("Joe", text=text, seed=1) for text in SENTENCES]
    evaluate(takes[:2])  # load Whisper, DNSMOS and the JIT-compiled feature code once
    audio_seconds = sum(t.duration for t in takes)
    wall, cpu = time.perf_counter(), time.process_time()
    scores = evaluate(takes)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"evaluate(), all metrics, {len(takes)} takes, {audio_seconds:.1f} s of audio, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}:")
    print(f"  {wall / audio_seconds:.3f} s per audio second (target <= 0.25); "
          f"CPU {cpu / audio_seconds:.3f} s per audio second")
    per_metric(client)
    words = sum(len(t.split()) for t in SENTENCES)
    weighted = sum(w * len(t.split()) for w, t in zip(scores["wer"], SENTENCES, strict=True))
    print(f"Joe's WER on the project's sentences: {weighted / words:.3f} (target <= 0.05); "
          f"per sentence {[round(w, 3) for w in scores['wer']]}")


def bench_sweep(client: Client, workdir: Path) -> None:
    folder = workdir / "sweep"
    start = time.perf_counter()
    first = sweep(SENTENCES[0], voice="Joe", grid=SWEEP_GRID, evaluate=False, client=client,
                  out_dir=folder, max_concurrency=1, progress=False)
    first_wall = time.perf_counter() - start
    own = sum(item.total_time or 0 for item in first.items)
    start = time.perf_counter()
    second = sweep(SENTENCES[0], voice="Joe", grid=SWEEP_GRID, evaluate=False, client=client,
                   out_dir=folder, max_concurrency=1, progress=False)
    second_wall = time.perf_counter() - start
    assert all(i.status == "skipped" for i in second.items)
    print(f"12-cell sweep: wall {first_wall:.2f} s / cells' own {own:.2f} s = "
          f"{first_wall / own:.3f} (target <= 1.1); second run {second_wall:.3f} s = "
          f"{second_wall / first_wall:.4f} of the first (target <= 0.05)")


def per_metric(client: Client) -> None:
    """Each part of ``evaluate()`` alone, on fresh takes (so nothing is decoded yet)."""
    def timed(work) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        return time.perf_counter() - wall, time.process_time() - cpu

    takes = [client.tts.convert("Joe", text=text, seed=3) for text in SENTENCES]
    wall, cpu = timed(lambda: [t.samples for t in takes])
    audio_seconds = sum(t.duration for t in takes)
    print(f"  decode: {wall / audio_seconds:.3f} s per audio second, CPU {cpu / audio_seconds:.3f}")
    for metric in METRICS:
        wall, cpu = timed(lambda metric=metric: evaluate(takes, metrics=metric))
        print(f"  {metric}: {wall / audio_seconds:.3f} s per audio second, "
              f"CPU {cpu / audio_seconds:.3f}")


if __name__ == "__main__":
    main()

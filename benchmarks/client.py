"""Client overhead and batch throughput against one local server (in a subprocess).

1. Time to first chunk: ``client.tts.stream(...)`` vs raw ``requests`` (a session posting with
   ``stream=True`` and ``iter_content``), alternating, same text and voice, median over ROUNDS
   runs each (target: client / raw ≤ 1.05).
2. ``client.synthesize_many`` throughput for 50 short texts at max_concurrency 1, 2 and 4.

Run: ``.venv/bin/python benchmarks/client.py``
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

from xiwidgets.client import Client

ROUNDS = 20
CHUNK_SIZE = 8192
TEXT = "Hello there. This sentence measures how soon the first chunk of audio arrives."
BATCH_TEXTS = [f"Short text number {n}." for n in range(50)]

_SERVER_SCRIPT = """
import sys
from xiwidgets.server import start_in_thread
handle = start_in_thread(data_dir=sys.argv[1])
print(handle.base_url, flush=True)
sys.stdin.read()
handle.stop()
"""


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """A local server in its own process, so it does not share the client's interpreter."""
    process = subprocess.Popen([sys.executable, "-c", _SERVER_SCRIPT, str(data_dir)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def client_first_chunk(client: Client, voice_id: str) -> float:
    start = time.perf_counter()
    stream = client.tts.stream(voice_id, text=TEXT, chunk_size=CHUNK_SIZE)
    chunks = iter(stream)
    next(chunks)
    elapsed = time.perf_counter() - start
    for _ in chunks:  # finish the take so the next run starts on an idle server
        pass
    return elapsed


def raw_first_chunk(session: requests.Session, base_url: str, voice_id: str) -> float:
    start = time.perf_counter()
    response = session.post(f"{base_url}/v1/text-to-speech/{voice_id}/stream",
                            params={"output_format": "mp3_44100_128"}, json={"text": TEXT},
                            stream=True)
    response.raise_for_status()
    chunks = response.iter_content(chunk_size=CHUNK_SIZE)
    next(chunks)
    elapsed = time.perf_counter() - start
    for _ in chunks:
        pass
    return elapsed


def time_to_first_chunk(base_url: str) -> None:
    client = Client(base_url=base_url)
    session = requests.Session()
    voice_id = client.voices.find("Joe").voice_id
    client_first_chunk(client, voice_id)  # warm both connections and the voice
    raw_first_chunk(session, base_url, voice_id)
    ours, raw = [], []
    for round_number in range(ROUNDS):
        pair = [lambda: ours.append(client_first_chunk(client, voice_id)),
                lambda: raw.append(raw_first_chunk(session, base_url, voice_id))]
        for run in pair if round_number % 2 == 0 else reversed(pair):
            run()
    ours_ms, raw_ms = statistics.median(ours) * 1000, statistics.median(raw) * 1000
    paired = statistics.median(o / r for o, r in zip(ours, raw, strict=True))
    print(f"time to first chunk, median of {ROUNDS} alternating runs each "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    print(f"  client.tts.stream      {ours_ms:7.1f} ms")
    print(f"  raw requests stream    {raw_ms:7.1f} ms")
    print(f"  ratio client / raw     {ours_ms / raw_ms:7.3f}   (target <= 1.05)")
    print(f"  median per-round ratio {paired:7.3f}")


def batch_throughput(base_url: str, root: Path) -> None:
    client = Client(base_url=base_url)
    client.voices.find("Joe")
    limit = client.tts.convert("Joe", text="Warm up.").info.maximum_concurrent_requests
    print(f"synthesize_many, {len(BATCH_TEXTS)} short texts "
          f"(server synthesizes {limit} at a time):")
    for concurrency in (1, 2, 4):
        start = time.perf_counter()
        result = client.synthesize_many(BATCH_TEXTS, voice="Joe", out_dir=root / f"c{concurrency}",
                                        max_concurrency=concurrency, progress=False)
        elapsed = time.perf_counter() - start
        assert len(result.succeeded) == len(BATCH_TEXTS), result.failures[:1]
        print(f"  max_concurrency={concurrency}      {len(BATCH_TEXTS) / elapsed:6.2f} items/s "
              f"({elapsed:.1f} s)")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        process, base_url = start_server(root / "server")
        try:
            time_to_first_chunk(base_url)
            batch_throughput(base_url, root)
        finally:
            process.stdin.close()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()

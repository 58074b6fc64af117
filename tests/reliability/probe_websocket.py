"""Probe: a flood of large ``auto_mode`` frames without a sentence end, and what it costs others.

:func:`flood_auto_mode` opens one stream-input session with ``auto_mode=true`` and sends
``frames`` messages of ``frame_chars`` characters of words that never end a sentence, while
another thread times ``GET /v1/voices`` every ``poll_interval`` seconds and samples the server's
RSS. It returns the server's RSS growth, the longest of those other requests, and what happened
to the session. ``benchmarks/load.py`` calls it; to run it once against a fresh CLI server
(``--in-process`` for a server thread in the probe's own process)::

    PYTHONPATH=$PWD .venv/bin/python -m tests.reliability.probe_websocket [--in-process]
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from dataclasses import dataclass, field

import psutil
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from .harness import auth_headers, english_voice_id

# The largest message the server reads is 1 MB of JSON.
ONE_MB = 1_000_000
WORDS = "and then some more words "


@dataclass
class FloodResult:
    """What :func:`flood_auto_mode` measured.

    ``rss_growth_bytes`` is the server's peak RSS during the flood minus its RSS before it;
    ``longest_stall_s`` the longest ``GET /v1/voices`` that ran meanwhile (``baseline_s`` is
    their median before the flood, ``failed_polls`` how many got no 200); ``close_code``,
    ``error`` and ``message`` say how the session ended after ``frames_sent`` frames;
    ``server_cpu_s`` is the CPU time the server process used meanwhile (the timed requests
    included).
    """

    frames_sent: int
    close_code: int | None
    error: str | None
    message: str
    audio_frames: int
    rss_growth_bytes: int
    longest_stall_s: float
    baseline_s: float
    polls: int
    failed_polls: int
    seconds: float
    server_cpu_s: float
    stalls: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        """One line for a benchmark's output."""
        return (
            f"{self.frames_sent} frames sent in {self.seconds:.1f} s (server CPU "
            f"{self.server_cpu_s:.2f} s); session closed "
            f"{self.close_code} {self.error or ''}: {self.message[:100]!r}; "
            f"{self.audio_frames} audio frames; server RSS +{self.rss_growth_bytes / 2**20:.1f} "
            f"MiB; other requests: longest {self.longest_stall_s:.3f} s over {self.polls} "
            f"({self.failed_polls} failed; median before {self.baseline_s:.3f} s)"
        )


class _Poller(threading.Thread):
    """Times GET /v1/voices and samples the server's RSS until stopped."""

    def __init__(self, base_url: str, headers: dict[str, str], process: psutil.Process,
                 interval: float) -> None:
        super().__init__(name="probe-poller", daemon=True)
        self.url = f"{base_url}/v1/voices"
        self.headers = headers
        self.process = process
        self.interval = interval
        self.http = requests.Session()
        self.durations: list[float] = []
        self.failures = 0
        self.peak_rss = 0
        self.stop = threading.Event()

    def baseline(self, count: int = 10) -> float:
        """Median duration of ``count`` requests made now (the connection is then warm)."""
        durations = [self.timed_get() for _ in range(count)]
        self.durations.clear()
        self.failures = 0
        return statistics.median(durations)

    def timed_get(self) -> float:
        start = time.perf_counter()
        try:
            self.http.get(self.url, headers=self.headers, timeout=60).raise_for_status()
        except requests.RequestException:
            self.failures += 1
        duration = time.perf_counter() - start
        self.durations.append(duration)
        return duration

    def run(self) -> None:
        with self.http:
            while not self.stop.is_set():
                self.timed_get()
                self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
                self.stop.wait(self.interval)


class _Reader(threading.Thread):
    """Reads the session's frames until the server closes it."""

    def __init__(self, socket_: object) -> None:
        super().__init__(name="probe-reader", daemon=True)
        self.socket = socket_
        self.audio_frames = 0
        self.last_error: dict | None = None

    def run(self) -> None:
        try:
            while True:
                frame = json.loads(self.socket.recv())
                if frame.get("audio"):
                    self.audio_frames += 1
                if "error" in frame:
                    self.last_error = frame
        except ConnectionClosed:
            pass


def flood_auto_mode(base_url: str, voice_id: str | None = None, *,
                    pid: int | psutil.Process | None = None, frames: int = 60,
                    frame_chars: int = ONE_MB, poll_interval: float = 0.05,
                    api_key: str | None = None, finish_timeout: float = 60.0,
                    settle_s: float = 1.0) -> FloodResult:
    """Send ``frames`` auto_mode messages of ``frame_chars`` JSON characters, no sentence end.

    Parameters
    ----------
    base_url : str
        A running server.
    voice_id : str, optional
        Defaults to an English voice of that server.
    pid : int or psutil.Process, optional
        The server's process; ``None`` means this process (an in-process server).
    frames, frame_chars : int
        How many messages, and the length of each as sent (JSON included).
    poll_interval : float
        Pause between the timed ``GET /v1/voices`` requests.
    api_key : str, optional
        For a server with keys (sent in the header).
    finish_timeout : float
        After the last frame and the end-of-input message, how long to wait for the server to
        close the session before the probe closes it.
    settle_s : float
        How long the other requests go on being timed after the session has ended.

    Returns
    -------
    FloodResult
    """
    headers = auth_headers(api_key)
    voice_id = voice_id or english_voice_id(base_url, api_key)
    process = pid if isinstance(pid, psutil.Process) else psutil.Process(pid or os.getpid())
    text = (WORDS * (frame_chars // len(WORDS) + 1))[: frame_chars - len(json.dumps({"text": ""}))]
    frame = json.dumps({"text": text})
    poller = _Poller(base_url, headers, process, poll_interval)
    baseline = poller.baseline()
    rss_before = poller.peak_rss = process.memory_info().rss
    cpu_before = sum(process.cpu_times()[:2])
    url = f"ws{base_url[4:]}/v1/text-to-speech/{voice_id}/stream-input?auto_mode=true"
    start = time.perf_counter()
    poller.start()
    sent = 0
    with ws_connect(url, additional_headers=headers, max_size=None, open_timeout=30,
                    close_timeout=5) as socket_:
        reader = _Reader(socket_)
        reader.start()
        try:
            socket_.send(json.dumps({"text": " "}))
            for _ in range(frames):
                socket_.send(frame)
                sent += 1
            socket_.send(json.dumps({"text": ""}))
        except ConnectionClosed:
            pass
        reader.join(finish_timeout)
        closed_by_probe = reader.is_alive()
    reader.join()
    seconds = time.perf_counter() - start
    time.sleep(settle_s)  # what the session left behind (a late synthesis, freeing memory)
    poller.stop.set()
    poller.join()
    cpu = sum(process.cpu_times()[:2]) - cpu_before
    error = reader.last_error or {}
    message = error.get("message") or socket_.close_reason or ""
    if closed_by_probe:
        message = f"still open {finish_timeout:g} s after the last frame; closed by the probe"
    return FloodResult(
        frames_sent=sent,
        close_code=None if closed_by_probe else socket_.close_code,
        error=error.get("error"),
        message=message,
        audio_frames=reader.audio_frames,
        rss_growth_bytes=max(0, poller.peak_rss - rss_before),
        longest_stall_s=max(poller.durations, default=0.0),
        baseline_s=baseline,
        polls=len(poller.durations),
        failed_polls=poller.failures,
        seconds=seconds,
        server_cpu_s=cpu,
        stalls=poller.durations,
    )


def main() -> None:
    """Run the probe once against a fresh CLI server (or, with ``--in-process``, a thread)."""
    import argparse
    import tempfile
    from pathlib import Path

    from .harness import ServerProcess

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-process", action="store_true",
                        help="run the server in this process (it then shares the GIL)")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--frame-chars", type=int, default=ONE_MB)
    args = parser.parse_args()
    flood = {"frames": args.frames, "frame_chars": args.frame_chars}
    with tempfile.TemporaryDirectory() as data_dir:
        if args.in_process:
            from xiwidgets.server import start_in_thread

            server = start_in_thread(data_dir=data_dir)
            try:
                result = flood_auto_mode(server.base_url, **flood)
            finally:
                server.stop()
        else:
            with ServerProcess(Path(data_dir)) as process:
                result = flood_auto_mode(process.base_url, pid=process.process.pid, **flood)
    print(result.summary())


if __name__ == "__main__":
    main()

"""Synthesis worker processes: every core of one machine busy.

With ``workers=N`` (N >= 2) the server starts N processes, each running its own
:class:`~xiwidgets.server.engines.Synthesizer` (the engines' code unchanged). The HTTP process
keeps the store, billing and history; :class:`WorkerPool` has the Synthesizer's ``synthesize``
and hands each take to an idle worker, which sends every clause's :class:`AudioChunk` (PCM and
character times) through a pipe as soon as it is made, so streaming adds no wait. Encoding
stays in the HTTP process, so a seeded take is byte for byte the same whichever worker made it.

A worker that dies (even ``kill -9``) fails only the take it was making
(:class:`~xiwidgets.server.domain_errors.SynthesisWorkerLostError`: the take service refunds it
and stores nothing) and is replaced at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from xiwidgets.server.domain_errors import SynthesisWorkerLostError
from xiwidgets.threads import ENGINE_THREADS_ENV, threads_per_worker

if TYPE_CHECKING:
    from xiwidgets.server.engines import AudioChunk, SynthesisSettings, VoiceSpec
    from xiwidgets.server.lexicon import Lexicon

logger = logging.getLogger("xiwidgets.server")

# Resident memory of one warmed-up worker, measured (benchmarks/scale.py prints it) and
# rounded up: 255 MB with Piper and espeak-ng, 612 MB once Kokoro's model is installed too.
WORKER_MEMORY_BYTES = 300 * 2**20
KOKORO_MEMORY_BYTES = 400 * 2**20
# Left free beside the workers: the HTTP process, the page cache, the rest of the machine.
MEMORY_HEADROOM_BYTES = 1024 * 2**20
_READY_TIMEOUT_S = 300.0
_STOP_TIMEOUT_S = 5.0


class SpeechMaker(Protocol):
    """What the take service and the voices need of the engines: a Synthesizer or a pool."""

    def synthesize(self, text: str, voice: VoiceSpec,
                   settings: SynthesisSettings | None = None,
                   lexicon: Lexicon | None = None) -> Iterator[AudioChunk]:
        """One chunk per clause of ``text`` (see ``Synthesizer.synthesize``)."""
        ...

    def warm_up(self) -> None:
        """Load the engines before the first request."""
        ...

    def preload(self) -> list[threading.Thread]:
        """Start loading, in the background, the engines that otherwise load on first use."""
        ...


def worker_memory_bytes() -> int:
    """Memory one worker needs: the bundled voices, plus Kokoro's model when it is installed."""
    from xiwidgets.server.engines import kokoro_assets

    kokoro = kokoro_assets.check_assets(None).assets is not None
    return WORKER_MEMORY_BYTES + (KOKORO_MEMORY_BYTES if kokoro else 0)


def available_memory_bytes() -> int:
    """Memory the machine can give new processes without swapping (psutil's ``available``)."""
    import psutil  # type: ignore[import-untyped]  # (types-psutil is not a dev dependency)

    return int(psutil.virtual_memory().available)


def workers_that_fit(per_worker: int, available: int) -> int:
    """How many workers ``available`` bytes hold, leaving :data:`MEMORY_HEADROOM_BYTES`."""
    return max(0, (available - MEMORY_HEADROOM_BYTES) // per_worker)


def auto_workers() -> int:
    """``--workers auto``: one per core, as many as memory holds (at least 1: in-process)."""
    fit = workers_that_fit(worker_memory_bytes(), available_memory_bytes())
    count = min(os.cpu_count() or 1, fit)
    return count if count >= 2 else 1


def check_workers_fit(workers: int) -> None:
    """Refuse a worker count the machine's free memory cannot hold, before anything starts.

    Each worker holds its own copy of the voices (:func:`worker_memory_bytes`); ``workers``
    of them plus :data:`MEMORY_HEADROOM_BYTES` must fit in the memory available now. One
    worker means synthesis in the server's own process, which is always allowed.

    Raises
    ------
    ValueError
        Saying how much is needed, how much is free, and how many workers would fit (or that
        the platform has no worker processes).
    """
    if workers < 2:
        return
    if os.name != "posix":
        raise ValueError("synthesis workers (workers >= 2) need Linux or macOS; use 1 here")
    per_worker = worker_memory_bytes()
    available = available_memory_bytes()
    fit = workers_that_fit(per_worker, available)
    if workers > fit:
        raise ValueError(
            f"{workers} synthesis workers need about "
            f"{(workers * per_worker + MEMORY_HEADROOM_BYTES) / 2**30:.1f} GB ({workers} x "
            f"{per_worker / 2**20:.0f} MB, each holds its own voices, plus "
            f"{MEMORY_HEADROOM_BYTES / 2**30:.0f} GB headroom) but "
            f"{available / 2**30:.1f} GB is available; use --workers {max(1, fit)} or fewer."
        )


class _Worker:
    """One worker process and the server's end of its socket."""

    def __init__(self, process: subprocess.Popen[bytes], connection: Connection) -> None:
        self.process = process
        self.connection = connection

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.poll() is None


def _launch(warm_up: bool, engine_threads: int) -> _Worker:
    """Start one worker: a fresh interpreter running :func:`serve_socket` (not
    ``multiprocessing``, which would import the caller's ``__main__`` again: a script, a
    notebook or stdin), its engines on ``engine_threads`` threads."""
    ours, theirs = socket.socketpair()
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]),
           ENGINE_THREADS_ENV: os.environ.get(ENGINE_THREADS_ENV, str(engine_threads))}
    code = ("import sys; from xiwidgets.server.workers import serve_socket; "
            "serve_socket(int(sys.argv[1]), sys.argv[2] == 'warm')")
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(theirs.fileno()), "warm" if warm_up else "cold"],
            pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL)
    finally:
        theirs.close()
    return _Worker(process, Connection(ours.detach()))


class WorkerPool:
    """N synthesis processes behind the Synthesizer's ``synthesize``.

    Parameters
    ----------
    count : int
        Worker processes (>= 2).
    warm_up : bool
        Each worker loads its engines before it takes work.
    timeout_s : float
        A busy worker that sends nothing for this long is hung: it is killed and replaced,
        and its take fails like one whose worker died.

    Attributes
    ----------
    served : dict of int to int
        Takes (and previews) each worker process made, by pid.
    """

    def __init__(self, count: int, warm_up: bool, timeout_s: float) -> None:
        self.count = count
        self._warm_up = warm_up
        self._timeout_s = timeout_s
        # The cores shared out: N workers each on all of them only contend.
        self._engine_threads = threads_per_worker(count)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._starting: list[threading.Thread] = []
        self._closed = False
        self.served: dict[int, int] = {}
        self.replaced = 0
        for _ in range(count):
            self._start_worker()

    def _start_worker(self) -> None:
        worker = _launch(self._warm_up, self._engine_threads)
        with self._lock:
            self._workers.append(worker)
        starting = threading.Thread(target=self._admit_when_ready, args=(worker,),
                                    name="xiwidgets-worker-start", daemon=True)
        self._starting.append(starting)
        starting.start()

    def _admit_when_ready(self, worker: _Worker) -> None:
        try:
            ready = worker.connection.poll(_READY_TIMEOUT_S) and worker.connection.recv()
        except (EOFError, OSError):
            ready = False
        if ready != ("ready",):
            logger.error("a synthesis worker (pid %s) did not start", worker.pid)
            self._forget(worker)
            return
        self._idle.put(worker)

    def warm_up(self) -> None:
        """Wait until every worker has started (and loaded its engines when asked to).

        Raises
        ------
        RuntimeError
            When a worker could not start (the cause is in the log).
        """
        for starting in list(self._starting):
            starting.join()
        if self._idle.qsize() < self.count:
            raise RuntimeError(f"only {self._idle.qsize()} of {self.count} synthesis workers "
                               "started; see the log for why")

    def preload(self) -> list[threading.Thread]:
        """Nothing to start here: each warmed-up worker preloads its own engines.

        Returns
        -------
        list of threading.Thread
            Always empty (the loading happens in the worker processes).
        """
        return []

    def alive(self) -> int:
        """Worker processes running now."""
        with self._lock:
            return sum(worker.is_alive() for worker in self._workers)

    def pids(self) -> list[int]:
        """Pids of every live worker."""
        with self._lock:
            return [worker.pid for worker in self._workers if worker.is_alive()]

    def busy_pids(self) -> list[int]:
        """Pids of the workers making a take now (for an operator, or a crash test)."""
        with self._lock:
            idle = {id(worker) for worker in list(self._idle.queue)}
            return [w.pid for w in self._workers if id(w) not in idle and w.is_alive()]

    def synthesize(self, text: str, voice: VoiceSpec,
                   settings: SynthesisSettings | None = None,
                   lexicon: Lexicon | None = None) -> Iterator[AudioChunk]:
        """Like :meth:`Synthesizer.synthesize`, made by the next idle worker.

        Raises
        ------
        SynthesisWorkerLostError
            The worker died, or hung past ``timeout_s``, while making it (it is replaced);
            nothing of it is kept.
        """
        worker = self._next_idle()
        finished = False
        try:
            worker.connection.send(("synthesize", text, voice, settings, lexicon))
            while True:
                if not worker.connection.poll(self._timeout_s):
                    self._kill_hung(worker)
                    raise EOFError
                kind, payload = worker.connection.recv()
                if kind == "chunk":
                    yield payload
                    continue
                finished = True
                break
        except (EOFError, OSError):
            self._replace(worker)
            raise SynthesisWorkerLostError() from None
        finally:
            if not finished and worker.is_alive():
                self._stop_early(worker)
        self._count(worker)
        self._idle.put(worker)
        if kind == "error":
            raise payload

    def _next_idle(self) -> _Worker:
        while True:
            worker = self._idle.get()
            if worker.is_alive():
                return worker
            self._replace(worker)  # died while idle: nobody's take is lost

    def _stop_early(self, worker: _Worker) -> None:
        """The consumer stopped reading (a cancelled take): stop the worker, then reuse it."""
        try:
            worker.connection.send(("cancel", None))
            while True:
                if not worker.connection.poll(self._timeout_s):
                    self._kill_hung(worker)
                    raise EOFError
                if worker.connection.recv()[0] != "chunk":
                    break
        except (EOFError, OSError):
            self._replace(worker)
            return
        self._idle.put(worker)

    def _kill_hung(self, worker: _Worker) -> None:
        logger.warning("synthesis worker (pid %s) sent nothing for %.0f s; killing it",
                       worker.pid, self._timeout_s)
        with contextlib.suppress(ProcessLookupError):
            worker.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.process.wait(_STOP_TIMEOUT_S)

    def _count(self, worker: _Worker) -> None:
        with self._lock:
            self.served[worker.pid] = self.served.get(worker.pid, 0) + 1

    def _forget(self, worker: _Worker) -> None:
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
        worker.connection.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.process.wait(_STOP_TIMEOUT_S)

    def _replace(self, worker: _Worker) -> None:
        self._forget(worker)
        if self._closed:
            return
        logger.warning("synthesis worker (pid %s) stopped with exit code %s; starting another",
                       worker.pid, worker.process.returncode)
        with self._lock:
            self.replaced += 1
        self._start_worker()

    def close(self) -> None:
        """Stop every worker (they finish nothing more)."""
        self._closed = True
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            with contextlib.suppress(OSError):  # already gone
                worker.connection.send(None)
        for worker in workers:
            try:
                worker.process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(_STOP_TIMEOUT_S)
            worker.connection.close()


def serve_socket(fd: int, warm_up: bool) -> None:
    """A worker process: make each take asked for on socket ``fd``, chunk by chunk."""
    # Ctrl-C reaches the whole process group; the server stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection = Connection(fd)
    from xiwidgets.server.engines import Synthesizer

    synthesizer = Synthesizer()
    if warm_up:
        synthesizer.warm_up()
        # A worker exists to synthesize: the engines that load on first use (Kokoro) start
        # loading now, in the background, so the first take on them waits less.
        synthesizer.preload()
    connection.send(("ready",))
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if request is None:
            return
        if request[0] != "synthesize":
            continue  # a "cancel" that came after its take had ended
        _, text, voice, settings, lexicon = request
        connection.send(_make(synthesizer, connection, text, voice, settings, lexicon))


def _make(synthesizer: Any, connection: Connection, text: str, voice: VoiceSpec,
          settings: SynthesisSettings | None, lexicon: Lexicon | None) -> tuple[str, Any]:
    """Send each chunk as it is made; return the closing message (``done`` or ``error``)."""
    try:
        for chunk in synthesizer.synthesize(text, voice, settings, lexicon):
            if connection.poll() and connection.recv()[0] == "cancel":
                return ("done", None)
            connection.send(("chunk", chunk))
    except Exception as exc:  # handed to the take, which fails with it
        return ("error", _picklable(exc))
    return ("done", None)


def _picklable(exc: Exception) -> Exception:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # an exception that does not survive the pipe: keep its sentence
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc

"""How many threads one engine's ONNX session may use.

One process alone on a machine wants its engines on every core it can use (two threads is
where one clause stops getting faster). Several synthesizing processes on one machine — the
server's workers, or one embedded server per Dask worker — share the cores: at most two
threads a core in all, and idle threads sleep rather than spin (spinning, two workers of two
threads on two cores measured no faster than one process in ``benchmarks/scale.py``).
"""

from __future__ import annotations

import os

ENGINE_THREADS_ENV = "XIWIDGETS_ENGINE_THREADS"
# Past two intra-op threads a clause of Piper or Kokoro gets no faster.
_MOST_USEFUL = 2


def engine_threads() -> int:
    """Intra-op threads for one engine session in this process.

    ``XIWIDGETS_ENGINE_THREADS`` when set (the server's workers get it from the pool),
    else ``OMP_NUM_THREADS`` (Dask sets it to 1 in its workers, the usual way to say "this
    process gets one core"), else two or the machine's cores if fewer.

    Returns
    -------
    int
        At least 1 and at most the machine's cores.
    """
    cores = os.cpu_count() or 1
    for name in (ENGINE_THREADS_ENV, "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) >= 1:
            return min(int(value), cores)
    return min(_MOST_USEFUL, cores)


def threads_per_worker(workers: int) -> int:
    """Engine threads for each of ``workers`` synthesizing processes on this machine.

    Up to two threads a core in all: with idle threads asleep (no spinning) two workers of two
    threads on two cores keep one take's first audio as quick as one process's (one thread
    each: 1.6x slower) for the same throughput (``benchmarks/scale.py``); more workers than
    that get fewer threads, at least one each.
    """
    cores = os.cpu_count() or 1
    return max(1, min(_MOST_USEFUL, 2 * cores // max(1, workers)))

"""How many threads one engine's ONNX session may use.

One process alone on a machine wants its engines on every core it can use (two threads is
where one clause stops getting faster). Several synthesizing processes on one machine — the
server's workers, or one embedded server per Dask worker — want the cores shared out
instead: N processes each running two threads on two cores spend their time contending
(``benchmarks/scale.py`` measured ``--workers 2`` no faster than one process that way).
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
    """The cores shared out among ``workers`` synthesizing processes (at least one each)."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))

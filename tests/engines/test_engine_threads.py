"""How many threads an engine's session gets: the explicit setting, then the usual OpenMP
variable (Dask sets it to 1 in its workers), then two or the machine's cores."""

from __future__ import annotations

import os

import pytest

from xiwidgets.threads import ENGINE_THREADS_ENV, engine_threads, threads_per_worker

CORES = os.cpu_count() or 1


@pytest.mark.parametrize(("environment", "expected"), [
    ({}, min(2, CORES)),
    ({"OMP_NUM_THREADS": "1"}, 1),
    ({ENGINE_THREADS_ENV: "1", "OMP_NUM_THREADS": "2"}, 1),
    ({ENGINE_THREADS_ENV: "999"}, CORES),
    ({ENGINE_THREADS_ENV: "zero", "OMP_NUM_THREADS": "0"}, min(2, CORES)),
])
def test_the_setting_then_openmp_then_two(monkeypatch, environment, expected):
    for name in (ENGINE_THREADS_ENV, "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert engine_threads() == expected


def test_workers_get_at_most_two_threads_a_core_in_all_and_at_least_one_each():
    assert threads_per_worker(1) == min(2, 2 * CORES)
    assert threads_per_worker(CORES) == min(2, 2 * CORES // CORES)
    assert threads_per_worker(CORES * 4) == 1
    for workers in range(1, 4 * CORES):
        assert workers * threads_per_worker(workers) <= max(2 * CORES, workers)

"""synthesize_many(executor=...): a Dask cluster of process workers or any
concurrent.futures.Executor; each task builds its own client on its worker and the key never
travels with a task."""

from __future__ import annotations

import csv
import multiprocessing
import os
import secrets
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from xiwidgets.client import Client, WorkerConnection

KEY = "dask-secret-" + secrets.token_hex(12)
TEXTS = ["Made on a worker.", "Also on a worker.", "A third one.", "And a fourth."]


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("keyed"), api_keys=(KEY,))
    yield handle
    handle.stop()


class _SpecRecorder:
    """Scheduler plugin: keeps the pickled spec of every task the scheduler runs."""

    name = "xiwidgets-spec-recorder"

    def start(self, scheduler) -> None:
        self.scheduler = scheduler
        self.specs: list[bytes] = []

    def transition(self, key, start, finish, *args, **kwargs) -> None:
        import cloudpickle

        if finish == "processing":
            task = self.scheduler.tasks[key]
            self.specs.append(cloudpickle.dumps(task.run_spec) + repr(task.run_spec).encode())


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    from distributed.diagnostics.plugin import SchedulerPlugin

    plugin = type("SpecRecorder", (_SpecRecorder, SchedulerPlugin), {})()
    # The key reaches the workers only through their own environment.
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None, env={"ELEVENLABS_API_KEY": KEY},
                                  silence_logs=False) as cluster, \
            distributed.Client(cluster) as client:
        client.register_plugin(plugin)
        yield client


def _scheduler_specs(dask_client) -> list[bytes]:
    return dask_client.run_on_scheduler(
        lambda dask_scheduler: dask_scheduler.plugins[_SpecRecorder.name].specs)


def _characters(server) -> int:
    return Client(base_url=server.base_url, api_key=KEY).user.subscription().character_count


def test_a_dask_batch_bills_exactly_keeps_the_key_off_the_graph_and_resumes(
        keyed_server, dask_client, tmp_path, capsys):
    caller = Client(base_url=keyed_server.base_url, api_key=KEY)
    rows = [*TEXTS, {"text": "Raises on its worker.", "options": {"text": "twice"}}]
    before = _characters(keyed_server)

    result = caller.synthesize_many(rows, voice="Joe", out_dir=tmp_path, executor=dask_client,
                                    write_files="workers")

    assert [item.status for item in result.items] == ["ok"] * 4 + ["failed"]
    assert "text" in result.items[4].error  # the task raised; the batch went on
    for item in result.succeeded:
        assert item.path.read_bytes()[:3] == b"ID3" or item.path.read_bytes()[0] == 0xFF
    assert "5/5" in capsys.readouterr().err  # the bar counted every finished future
    billed = sum(item.character_cost for item in result.succeeded)
    assert _characters(keyed_server) - before == billed
    made = Counter(item.text for item in caller.history.iter_all())
    assert all(made[text] == 1 for text in TEXTS)
    specs = _scheduler_specs(dask_client)
    # The specs hold the tasks (their function and texts), and no key.
    assert sum(b"run_on_worker" in spec and b"worker" in spec for spec in specs) >= 5
    assert any(TEXTS[0].encode() in spec for spec in specs)
    assert not any(KEY.encode() in spec for spec in specs)
    assert not any(KEY in line for line in _worker_logs(dask_client))

    again = caller.synthesize_many(rows, voice="Joe", out_dir=tmp_path, executor=dask_client,
                                   write_files="workers", progress=False)
    assert [item.status for item in again.items] == ["skipped"] * 4 + ["failed"]
    with (tmp_path / "manifest.csv").open(newline="") as handle:
        assert [row["status"] for row in csv.DictReader(handle)] == ["skipped"] * 4 + ["failed"]
    assert _characters(keyed_server) - before == billed


def _worker_logs(dask_client) -> list[str]:
    return [line for logs in dask_client.get_worker_logs().values() for _, line in logs]


def test_dask_workers_each_with_their_own_local_server_return_the_audio(
        keyed_server, dask_client, tmp_path):
    import distributed

    caller = Client(base_url=keyed_server.base_url, api_key=KEY)

    with distributed.get_task_stream(dask_client) as stream:
        result = caller.synthesize_many(
            TEXTS, voice="Joe", out_dir=tmp_path / "out", executor=dask_client,
            progress=False, worker_connection=WorkerConnection.local(tmp_path / "servers"))

    assert [item.status for item in result.items] == ["ok"] * 4
    assert all(item.duration > 0.3 for item in result.items)  # written here, from the bytes
    # Each worker kept its history in a folder of its own; the manifest is the record.
    folders = list((tmp_path / "servers" / "workers").iterdir())
    assert 1 <= len(folders) <= 2
    assert all((folder / "xiwidgets.sqlite3").exists() for folder in folders)
    # Each worker's server says it takes one at a time; that is its own limit, not the
    # batch's: takes kept running on both workers at once, not only the first two.
    spans = sorted((part["start"], part["stop"]) for task in stream.data
                   for part in task["startstops"] if part["action"] == "compute")
    assert len(spans) >= 4
    overlaps = sum(a_start < b_stop and b_start < a_stop
                   for i, (a_start, a_stop) in enumerate(spans)
                   for b_start, b_stop in spans[i + 1:])
    assert overlaps >= 2, spans


class _PicklingExecutor(ThreadPoolExecutor):
    """A thread pool that pickles every task as a process pool would, and keeps the pickles."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.pickles: list[bytes] = []
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        import cloudpickle

        with self._lock:
            self.pickles.append(cloudpickle.dumps((fn, args, kwargs)))
        return super().submit(fn, *args, **kwargs)


def test_any_executor_works_and_no_task_pickle_holds_the_key(keyed_server, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)  # the workers' environment (threads here)
    caller = Client(base_url=keyed_server.base_url)
    with _PicklingExecutor() as pool:
        result = caller.synthesize_many(TEXTS[:2], voice="Joe", out_dir=tmp_path,
                                        executor=pool, progress=False)
    assert [item.status for item in result.items] == ["ok", "ok"]
    assert len(pool.pickles) == 2 and not any(KEY.encode() in p for p in pool.pickles)


def test_not_an_executor_and_an_out_dir_the_workers_cannot_see_are_refused_before_billing(
        keyed_server, tmp_path):
    caller = Client(base_url=keyed_server.base_url, api_key=KEY)
    before = _characters(keyed_server)
    with pytest.raises(TypeError, match=r"executor must be a dask\.distributed\.Client or a "
                                        r"concurrent\.futures\.Executor, not str"):
        caller.synthesize_many(TEXTS, voice="Joe", out_dir=tmp_path, executor="dask")
    if os.geteuid() != 0:
        pytest.skip("seeing another file system needs chroot (root)")
    elsewhere = tmp_path / "empty-root"
    elsewhere.mkdir()
    # Workers in another file system: a process pool whose workers chroot into an empty dir.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                             initializer=os.chroot, initargs=(str(elsewhere),)) as pool, \
            pytest.raises(ValueError, match="is not visible on 1 worker"):
        caller.synthesize_many(TEXTS, voice="Joe", out_dir=tmp_path / "out", executor=pool,
                               write_files="workers", progress=False)
    assert _characters(keyed_server) == before
    assert not list((tmp_path / "out").glob("*.mp3"))

"""Batches on other processes or machines: ``synthesize_many(..., executor=...)``.

Each task carries a :class:`WorkerConnection` (where to send the take, never a key) and a
:class:`~xiwidgets.client.batch_tasks.TakeTask`; on the worker it builds (once per process) its
own client, whose key comes from the worker's environment (``ELEVENLABS_API_KEY`` /
``XI_API_KEY``) at each request, or starts that node's own embedded local server. The key
therefore never enters the task graph, a pickle, a log or the dashboard.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from xiwidgets.client.batch_tasks import TakeOutcome, TakeTask, make_take
from xiwidgets.config import local_data_dir

if TYPE_CHECKING:
    from xiwidgets.client.api import Client

WRITE_FILES = ("client", "workers")
# Each worker's embedded server keeps its data in its own folder under this one.
WORKERS_FOLDER = "workers"
_VISIBILITY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class WorkerConnection:
    """Where the tasks of a batch send their takes; built into a client on each worker.

    Carries no key: a worker's client reads ``ELEVENLABS_API_KEY`` (or ``XI_API_KEY``) from
    the worker's own environment, and an embedded server makes its own.

    Parameters
    ----------
    kind : {"hosted", "server", "local"}
        The hosted API; one shared server at ``base_url``; or each worker process's own
        embedded local server (``connect()`` on that node).
    base_url : str, optional
        The shared server (``kind="server"``).
    data_dir : str, optional
        ``kind="local"``: the folder under which each worker's server keeps its history, in
        a subfolder of its own (``<data_dir>/workers/<host>-<worker>``); else the worker's
        ``$XIWIDGETS_DATA_DIR`` or user data directory.
    timeout : float
        Seconds each request may take.
    """

    kind: Literal["hosted", "server", "local"]
    base_url: str | None = None
    data_dir: str | None = None
    timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.kind not in ("hosted", "server", "local"):
            raise ValueError(f"kind must be 'hosted', 'server' or 'local', not {self.kind!r}")
        if self.kind == "server" and not self.base_url:
            raise ValueError("WorkerConnection(kind='server') needs the server's base_url")

    @classmethod
    def hosted(cls) -> WorkerConnection:
        """Every worker uses the hosted API with the key in its environment."""
        return cls("hosted")

    @classmethod
    def server(cls, base_url: str) -> WorkerConnection:
        """Every worker uses the server at ``base_url`` (its key in the worker's environment)."""
        return cls("server", base_url=base_url.rstrip("/"))

    @classmethod
    def local(cls, data_dir: str | os.PathLike[str] | None = None) -> WorkerConnection:
        """Every worker process starts and uses its own embedded local server."""
        return cls("local", data_dir=None if data_dir is None else str(data_dir))


def connection_for(client: Client) -> WorkerConnection:
    """The connection the workers of ``client``'s batch use by default.

    An embedded server's per-start key stays in this process, so its workers start their own;
    any other client's workers go where it goes, with their own key.
    """
    from xiwidgets.config import HOSTED_BASE_URL

    if client._embedded:
        return WorkerConnection.local()
    if client.base_url.rstrip("/") == HOSTED_BASE_URL:
        return WorkerConnection.hosted()
    return WorkerConnection.server(client.base_url)


_clients: dict[WorkerConnection, Client] = {}
_clients_lock = threading.Lock()
_held_locks: list[IO[str]] = []


def run_on_worker(connection: WorkerConnection, task: TakeTask) -> TakeOutcome:
    """Make one take on a worker, with this process's client for ``connection``."""
    return make_take(task, _client_for(connection).tts)


def _client_for(connection: WorkerConnection) -> Client:
    with _clients_lock:
        client = _clients.get(connection)
        if client is None:
            client = _connect(connection)
            _clients[connection] = client
        return client


def _connect(connection: WorkerConnection) -> Client:
    from xiwidgets.client.api import Client

    if connection.kind == "local":
        from xiwidgets.client.embedded import local_client

        base = local_data_dir(connection.data_dir) / WORKERS_FOLDER
        return local_client(_own_folder(base))
    return Client(base_url=connection.base_url, timeout=connection.timeout)


def _own_folder(base: Path) -> Path:
    """A data folder no other live server uses: ``<host>-<worker>``, else a numbered one.

    Two servers on one folder would each refund the other's takes in flight at start; a lock
    held for the life of the process keeps them apart.
    """
    name = f"{socket.gethostname()}-{_worker_name()}"
    for attempt in range(1000):
        folder = base / (name if attempt == 0 else f"{name}-{attempt}")
        folder.mkdir(parents=True, exist_ok=True)
        if _lock(folder / "server.lock"):
            return folder
    raise RuntimeError(f"every data folder for this worker under {base} is in use")


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return f"pid{os.getpid()}"


def _lock(path: Path) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: worker folders are told apart by name only
        return True
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False
    _held_locks.append(handle)
    return True


@dataclass
class TaskRunner:
    """An executor to submit tasks to, how many it runs at once, and which paths it sees."""

    executor: cf.Executor
    capacity: int | None
    blind_workers: Callable[[str], list[str]]


def task_runner(executor: object) -> TaskRunner:
    """Wrap a ``dask.distributed.Client`` or a ``concurrent.futures.Executor``.

    Raises
    ------
    TypeError
        For anything else (before any take is sent).
    """
    if _is_dask_client(executor):
        dask: Any = executor

        def dask_blind(path: str) -> list[str]:
            token = _probe(path)
            try:
                seen = dask.run(_sees, path, token.name)
            finally:
                token.unlink()
            return sorted(str(worker) for worker, ok in seen.items() if not ok)

        return TaskRunner(dask.get_executor(pure=False),
                          sum(dask.nthreads().values()) or None, dask_blind)
    if isinstance(executor, cf.Executor):
        pool = executor

        def pool_blind(path: str) -> list[str]:
            token = _probe(path)
            try:
                ok = pool.submit(_sees, path, token.name).result(timeout=_VISIBILITY_TIMEOUT_S)
            finally:
                token.unlink()
            return [] if ok else [type(pool).__name__]

        capacity = getattr(executor, "_max_workers", None)
        return TaskRunner(executor, capacity if isinstance(capacity, int) else None, pool_blind)
    raise TypeError(
        f"executor must be a dask.distributed.Client or a concurrent.futures.Executor, not "
        f"{type(executor).__name__}; nothing was sent."
    )


def _is_dask_client(value: object) -> bool:
    try:
        from distributed import Client as DaskClient
    except ImportError:
        return False
    return isinstance(value, DaskClient)


def _probe(path: str) -> Path:
    token = Path(path) / f".xiwidgets-visible-{secrets.token_hex(8)}"
    token.write_text("")
    return token


def _sees(path: str, name: str) -> bool:
    """Worker side: whether the probe file the client wrote is there."""
    return os.path.isfile(os.path.join(path, name))

"""Hold thousands of idle sockets against a server and see whether it still serves.

Some of the sockets send nothing, some send half a request line and stop (a slow-loris client).
While they are open a normal request is timed; then the sockets are watched until the server has
closed them, or until ``header_timeout_s`` plus a grace period has passed. ``benchmarks/`` calls
:func:`probe_idle` for its figures; ``test_exposure.py`` calls it with fewer sockets.

Run it on its own against a fresh CLI server: ``cd tests && python -m reliability.probe_idle``.
"""

from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import statistics
import time
from dataclasses import dataclass, field

import requests

from .harness import host_port

HALF_REQUEST = b"GET /v1/models HT"


@dataclass
class IdleProbe:
    """What :func:`probe_idle` measured."""

    sockets: int
    """Idle sockets asked for."""
    connected: int
    """Idle sockets that connected (the rest were refused or timed out connecting)."""
    statuses: list[int] = field(default_factory=list)
    """Status of each normal request sent while the idle sockets were open."""
    request_seconds: list[float] = field(default_factory=list)
    """Wall time of each of those requests."""
    open_after_timeout: int = 0
    """Idle sockets the server had not closed when the wait ended."""
    seconds_until_all_closed: float | None = None
    """From the last socket opening to the server closing the last of them (None: not all)."""

    @property
    def median_request_seconds(self) -> float | None:
        """Median time of the normal requests."""
        return statistics.median(self.request_seconds) if self.request_seconds else None


def raise_open_file_limit(needed: int) -> None:
    """Raise this process's soft RLIMIT_NOFILE to at least ``needed`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _open_idle_sockets(address: tuple[str, int], count: int,
                       half_every: int) -> list[socket.socket]:
    opened = []
    for index in range(count):
        try:
            sock = socket.create_connection(address, timeout=5)
        except OSError:
            continue
        if half_every and index % half_every == 0:
            with contextlib.suppress(OSError):
                sock.sendall(HALF_REQUEST)
        sock.setblocking(False)
        opened.append(sock)
    return opened


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (EOF or reset), reading any answer it sent."""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def probe_idle(base_url: str, sockets: int = 3000, *, header_timeout_s: float = 10.0,
               grace_s: float = 10.0, requests_while_idle: int = 5, half_every: int = 10,
               path: str = "/v1/models", headers: dict[str, str] | None = None) -> IdleProbe:
    """Open ``sockets`` idle connections to ``base_url`` and measure how the server copes.

    Parameters
    ----------
    base_url : str
        ``http://127.0.0.1:PORT`` of a running server (loopback only).
    sockets : int
        Idle connections to open; every ``half_every``-th sends half a request line first.
    header_timeout_s : float
        The server's header timeout; the sockets are watched for this long plus ``grace_s``.
    grace_s : float
        Extra seconds before the sockets still open are counted.
    requests_while_idle : int
        Normal requests (``GET path``, a fresh connection each) sent while the sockets are open.
    half_every : int
        0 for no half requests.
    path, headers : str, dict
        The normal request.

    Returns
    -------
    IdleProbe
    """
    raise_open_file_limit(sockets + 256)
    idle = _open_idle_sockets(host_port(base_url), sockets, half_every)
    opened_at = time.monotonic()
    probe = IdleProbe(sockets=sockets, connected=len(idle))
    for _ in range(requests_while_idle):
        started = time.monotonic()
        try:
            response = requests.get(base_url + path, headers=headers,
                                    timeout=header_timeout_s + grace_s)
            probe.statuses.append(response.status_code)
        except requests.RequestException:
            probe.statuses.append(0)
        probe.request_seconds.append(time.monotonic() - started)
    selector = selectors.DefaultSelector()
    for sock in idle:
        selector.register(sock, selectors.EVENT_READ)
    still_open = set(idle)
    deadline = opened_at + header_timeout_s + grace_s
    try:
        while still_open and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.2):
                if key.fileobj in still_open and _closed_by_server(key.fileobj):
                    still_open.discard(key.fileobj)
                    selector.unregister(key.fileobj)
        if not still_open:
            probe.seconds_until_all_closed = time.monotonic() - opened_at
        probe.open_after_timeout = len(still_open)
    finally:
        selector.close()
        for sock in idle:
            sock.close()
    return probe


def main() -> None:
    """Start a CLI server and print the figures of one 3 000-socket probe."""
    import tempfile
    from pathlib import Path

    from .harness import ServerProcess

    with tempfile.TemporaryDirectory() as work, ServerProcess(Path(work) / "data") as server:
        result = probe_idle(server.base_url)
        alive = requests.get(server.base_url + "/v1/models", timeout=30).status_code
    print(f"idle sockets: {result.connected}/{result.sockets} connected")
    print(f"normal requests meanwhile: statuses {result.statuses}, "
          f"median {result.median_request_seconds:.3f} s, max {max(result.request_seconds):.3f} s")
    print(f"still open after the timeout: {result.open_after_timeout}; all closed after "
          f"{result.seconds_until_all_closed} s; a request afterwards: {alive}")


if __name__ == "__main__":
    main()

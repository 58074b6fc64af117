"""Shared tooling for the reliability tests and ``benchmarks/load.py``.

Everything here talks to a real server over loopback: a CLI subprocess that can be killed with
SIGKILL, raw HTTP for paths that ``requests`` would normalise, and helpers that inspect what a
server left in its data directory.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

LISTENING = re.compile(r"xiwidgets server listening on (http://[\w.\-\[\]:]+)")
# SQLite side files come and go with checkpoints; they are not "things stored".
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_TIMEOUT = 60.0


@dataclass
class ServerProcess:
    """A ``xiwidgets serve`` subprocess on 127.0.0.1 with an ephemeral port.

    Parameters
    ----------
    data_dir : Path
        Data directory handed to ``--data-dir``.
    extra_args : list of str
        More CLI arguments (``--api-key K``, ``--character-limit N``, ...).
    host : str or None
        ``--host`` to pass; None leaves the CLI's default.
    env : dict of str to str
        Environment variables set for the server beside this process's.
    """

    data_dir: Path
    extra_args: list[str] = field(default_factory=list)
    host: str | None = "127.0.0.1"
    env: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    process: subprocess.Popen | None = None
    lines: list[str] = field(default_factory=list)

    def start(self, timeout: float = 90.0) -> ServerProcess:
        """Start the server and wait for its ``listening on`` line."""
        host = ["--host", self.host] if self.host is not None else []
        command = [sys.executable, "-m", "xiwidgets.cli", "serve", *host, "--port", "0",
                   "--data-dir", str(self.data_dir), *self.extra_args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=env, errors="replace")
        ready = threading.Event()
        threading.Thread(target=self._read_output, args=(ready,), daemon=True).start()
        if not ready.wait(timeout) or not self.base_url:
            self.kill()
            raise RuntimeError("server did not start:\n" + self.output)
        return self

    def _read_output(self, ready: threading.Event) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            match = LISTENING.search(line)
            if match and not self.base_url:
                self.base_url = match.group(1)
                ready.set()
        ready.set()

    @property
    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        return "".join(self.lines)

    def kill(self) -> None:
        """SIGKILL the server: no shutdown hook, no flush, like a power cut for the process."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server gracefully (SIGINT), falling back to SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> ServerProcess:
        return self.start() if not self.base_url else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def host_port(base_url: str) -> tuple[str, int]:
    """Split ``http://HOST:PORT`` into its host and port."""
    host, _, port = base_url.split("://", 1)[1].rstrip("/").rpartition(":")
    return host, int(port)


def stored_files(data_dir: Path) -> set[str]:
    """Relative paths of every file in ``data_dir``, without SQLite's transient side files."""
    return {str(p.relative_to(data_dir)) for p in Path(data_dir).rglob("*")
            if p.is_file() and not p.name.endswith(SQLITE_SIDE_FILES)}


def find_databases(data_dir: Path) -> list[Path]:
    """SQLite database files in ``data_dir`` (recognised by their header, not by their name)."""
    found = []
    for path in Path(data_dir).rglob("*"):
        if path.is_file() and not path.name.endswith(SQLITE_SIDE_FILES):
            with path.open("rb") as handle:
                if handle.read(16) == SQLITE_MAGIC:
                    found.append(path)
    return found


def integrity_check(database: Path) -> str:
    """Result of ``PRAGMA integrity_check`` (``"ok"`` for a sound database)."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return "\n".join(row[0] for row in connection.execute("PRAGMA integrity_check"))
    finally:
        connection.close()


def audio_files(data_dir: Path) -> list[Path]:
    """Files in the data directory's ``audio`` folder (where takes are stored)."""
    folder = Path(data_dir) / "audio"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def auth_headers(api_key: str | None) -> dict[str, str]:
    """The ``xi-api-key`` header for ``api_key`` (none when ``api_key`` is None)."""
    return {"xi-api-key": api_key} if api_key is not None else {}


def history_ids(base_url: str, api_key: str | None = None) -> list[str]:
    """Every history item id, newest first, following ``start_after_history_item_id``."""
    ids: list[str] = []
    params: dict[str, object] = {"page_size": 1000}
    while True:
        response = requests.get(f"{base_url}/v1/history", params=params,
                                headers=auth_headers(api_key), timeout=DEFAULT_TIMEOUT)
        response.raise_for_status()
        page = response.json()
        ids += [item["history_item_id"] for item in page["history"]]
        if not page.get("has_more") or not page.get("last_history_item_id"):
            return ids
        params["start_after_history_item_id"] = page["last_history_item_id"]


def voice_ids(base_url: str, api_key: str | None = None) -> list[str]:
    """Ids of the voices ``GET /v1/voices`` lists."""
    response = requests.get(f"{base_url}/v1/voices", headers=auth_headers(api_key),
                            timeout=DEFAULT_TIMEOUT)
    response.raise_for_status()
    return [voice["voice_id"] for voice in response.json()["voices"]]


def english_voice_id(base_url: str, api_key: str | None = None) -> str:
    """A voice to speak English test sentences with (Piper's Joe when the server has it)."""
    response = requests.get(f"{base_url}/v1/voices", headers=auth_headers(api_key),
                            timeout=DEFAULT_TIMEOUT)
    response.raise_for_status()
    voices = response.json()["voices"]
    for voice in voices:
        if voice["name"].lower().startswith("joe"):
            return voice["voice_id"]
    return voices[0]["voice_id"]


def character_count(base_url: str, api_key: str | None = None) -> int:
    """The subscription's ``character_count`` (characters used this period)."""
    response = requests.get(f"{base_url}/v1/user/subscription", headers=auth_headers(api_key),
                            timeout=DEFAULT_TIMEOUT)
    response.raise_for_status()
    return int(response.json()["character_count"])


def is_healthy(base_url: str, api_key: str | None = None) -> bool:
    """Whether the server still answers the cheap read endpoints with 200."""
    try:
        for path in ("/v1/models", "/v1/voices", "/v1/user/subscription"):
            response = requests.get(base_url + path, headers=auth_headers(api_key), timeout=30)
            if response.status_code != 200:
                return False
    except requests.RequestException:
        return False
    return True


def error_message(body: object) -> str:
    """The human text of an ElevenLabs-shaped error body (``detail.message`` or 422 ``msg``s)."""
    if isinstance(body, dict):
        detail = body.get("detail", body)
        if isinstance(detail, dict):
            return str(detail.get("message") or "")
        if isinstance(detail, list):
            return "; ".join(str(item.get("msg", "")) for item in detail if isinstance(item, dict))
        if isinstance(detail, str):
            return detail
    return ""


def error_status(body: object) -> str | None:
    """``detail.status`` of an error body, or None when the body has none."""
    if isinstance(body, dict) and isinstance(body.get("detail"), dict):
        return body["detail"].get("status")
    return None


@dataclass
class RawResponse:
    """A response read off the socket: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def raw_request(base_url: str, method: str, path: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 60.0) -> RawResponse:
    """Send ``path`` byte for byte (no dot-segment normalisation, unlike ``requests``)."""
    host, port = host_port(base_url)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()},
                           response.read())
    finally:
        connection.close()


def send_oversized_body(base_url: str, path: str, size: int, *, content_type: str,
                        head: bytes = b"", headers: dict[str, str] | None = None,
                        timeout: float = 60.0) -> RawResponse | None:
    """POST ``size`` bytes (``head`` then filler) and read whatever answer the server gives.

    A server that refuses a body early may close the socket while it is still being sent; the
    answer it wrote before closing is still read. Returns None when no answer came at all.
    """
    host, port = host_port(base_url)
    sock = socket.create_connection((host, port), timeout=timeout)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    request_head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: "
                    f"{content_type}\r\nContent-Length: {size}\r\n{extra}Connection: close\r\n\r\n")
    try:
        sock.sendall(request_head.encode() + head)
        filler = b"a" * (1 << 20)
        remaining = size - len(head)
        try:
            while remaining > 0:
                sock.sendall(filler[: min(len(filler), remaining)])
                remaining -= min(len(filler), remaining)
        except OSError:
            pass  # refused early: the answer is already waiting in the socket
        return _read_http_response(sock)
    finally:
        sock.close()


def _read_http_response(sock: socket.socket) -> RawResponse | None:
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    if b"\r\n\r\n" not in data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return RawResponse(int(status_line.split()[1]), headers, body)


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class DroppingProxy:
    """A loopback TCP proxy in front of a server that cuts the connection mid-response.

    Parameters
    ----------
    target_base_url : str
        The real server behind the proxy.
    cut_after_bytes : int
        Bytes of response (status line and headers included) forwarded on one connection
        before the proxy drops it, like a network that fails halfway through a stream. Earlier
        responses on a kept-alive connection count towards it.
    stall : bool
        Instead of dropping the connection, keep it open and silent until ``close()`` (a
        network that stops delivering without telling anyone).
    """

    def __init__(self, target_base_url: str, cut_after_bytes: int, stall: bool = False) -> None:
        self.target = host_port(target_base_url)
        self.cut_after_bytes = cut_after_bytes
        self.stall = stall
        self._closed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, upstream, None),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.cut_after_bytes),
                             daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = source.recv(4096)
                if not data:
                    break
                if limit is not None:
                    data = data[: limit - sent]
                sink.sendall(data)
                sent += len(data)
                if limit is not None and sent >= limit:
                    if self.stall:
                        self._closed.wait()
                    break
        except OSError:
            pass
        # Half-close towards the receiver (FIN after the last byte let through, so nothing
        # already sent is discarded by a reset), then drop the other side.
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            source.shutdown(socket.SHUT_RDWR)
        source.close()

    def close(self) -> None:
        """Stop accepting connections and end stalled ones."""
        self._closed.set()
        self.listener.close()


class SynthesisProbe:
    """How many syntheses an in-process server ran at once, from its own ``synthesis_slots``.

    ``current-concurrent-requests`` counts queued takes too; the slots count only takes that
    hold the engine.

    Parameters
    ----------
    handle : xiwidgets.server.ServerHandle
        A server started in this process.
    """

    def __init__(self, handle: object) -> None:
        self._slots = handle.services.concurrency.synthesis_slots  # type: ignore[attr-defined]
        self.reset()

    def reset(self) -> None:
        """Count from now: ``calls`` back to 0, ``peak`` from what runs now."""
        self._slots.reset_peak()
        self._started_before = self._slots.started

    @property
    def peak(self) -> int:
        """Most syntheses running at once since the last reset."""
        return self._slots.peak

    @property
    def calls(self) -> int:
        """Syntheses started since the last reset."""
        return self._slots.started - self._started_before

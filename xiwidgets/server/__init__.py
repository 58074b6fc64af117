"""The offline local voice server: the ElevenLabs HTTP API with voices that run on this machine.

``start_in_thread()`` runs it inside the current process (the embedded default behind the widgets
and the peer of the integration tests); ``xiwidgets serve`` runs it as a program.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from xiwidgets.server.config import ServerConfig

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from xiwidgets.server.services import Services

__all__ = ["ServerConfig", "ServerHandle", "create_app", "start_in_thread"]

_START_TIMEOUT_S = 120.0


def create_app(config: ServerConfig | None = None, **options: Any) -> FastAPI:
    """Build the ASGI app (see :func:`xiwidgets.server.app.create_app`)."""
    from xiwidgets.server.app import create_app as _create_app

    return _create_app(config, **options)


@dataclass
class ServerHandle:
    """A server running in a background thread of this process.

    Attributes
    ----------
    base_url : str
        ``http://HOST:PORT`` — give it to a client as ``base_url``.
    data_dir : pathlib.Path
        Where the server keeps its database and audio.
    config : ServerConfig
        The settings it runs with.
    api_key : str or None
        A key the server accepts (its first configured key), ``None`` for an open server. It is
        in no repr: read it on purpose to point another tool at this server.
    """

    base_url: str
    data_dir: Path
    config: ServerConfig
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self, timeout: float = 30.0) -> None:
        """Stop serving and wait for the thread to finish (idempotent)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def services(self) -> Services:
        """The server's services (``.concurrency.synthesis_slots`` counts running syntheses)."""
        # build_server gives uvicorn the FastAPI app itself (not an import string or factory).
        app = cast("FastAPI", self._server.config.app)
        services: Services = app.state.services
        return services

    @property
    def api_key(self) -> str | None:
        """A key this server accepts, or ``None`` when it runs without keys."""
        return self.config.api_keys[0] if self.config.api_keys else None

    @property
    def running(self) -> bool:
        """Whether the server thread is still serving."""
        return self._thread.is_alive() and not self._server.should_exit

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ServerHandle(base_url={self.base_url!r}, data_dir={str(self.data_dir)!r})"


def start_in_thread(
    data_dir: str | Path | None = None, host: str = "127.0.0.1", port: int = 0, **config: Any
) -> ServerHandle:
    """Start a server in a daemon thread and return once it accepts connections.

    Parameters
    ----------
    data_dir : str or pathlib.Path or None
        Data directory; ``None`` means the per-user default.
    host : str
        Interface to bind. Beyond loopback, ``api_keys`` are required (or
        ``insecure_no_auth=True``).
    port : int
        0 picks a free port.
    **config
        Other :class:`ServerConfig` fields: ``api_keys``, ``character_limit``,
        ``max_concurrent_syntheses``, ``allowed_origins``, ``allowed_hosts``, ...

    Returns
    -------
    ServerHandle
        With ``base_url`` and ``stop()``.

    Raises
    ------
    ValueError
        For a setting out of range, or a bind beyond loopback without a key.
    xiwidgets.server.store.SchemaVersionError
        When a newer xiwidgets wrote the data directory (it is left unchanged).
    RuntimeError
        When the server fails to start (the cause is chained).
    """
    from xiwidgets.server.serving import build_server
    from xiwidgets.server.store import check_schema_version

    settings = ServerConfig.from_options(data_dir=data_dir, host=host, port=port, **config)
    check_schema_version(settings.data_dir)
    server = build_server(settings)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run()
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name="xiwidgets-server", daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.02)
        if not thread.is_alive():
            raise RuntimeError("the xiwidgets server failed to start") from (
                failure[0] if failure else None
            )
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    return ServerHandle(
        base_url=f"http://{_url_host(host)}:{bound_port}",
        data_dir=settings.data_dir,
        config=settings,
        _server=server,
        _thread=thread,
    )


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host

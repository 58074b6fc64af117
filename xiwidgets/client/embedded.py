"""``xiwidgets.connect()``: a ready client, starting the bundled local voice server if needed.

With no API key and no base URL configured, the first call starts the local server in a
background thread (data kept in the user data directory), says so in one line, and every later
call returns the same client. The server stops when Python exits.

The embedded server requires a key made up at each start that only this process's clients hold,
so other programs and users of the machine cannot use it; ``embedded_server().api_key`` hands it
out on purpose (it is in no repr, log line or printed message).
"""

from __future__ import annotations

import atexit
import os
import secrets
import threading
from typing import Any

from xiwidgets.client.api import Client
from xiwidgets.config import configured_base_url, local_data_dir, resolve_api_key

LOCAL_EXTRA_HINT = "pip install 'xiwidgets[local]'"

_lock = threading.Lock()
_server: Any = None  # the ServerHandle of the embedded server, once started
_local_client: Client | None = None
_default_remote: dict[str, Client] = {}


class LocalServerUnavailable(ImportError):  # noqa: N818 - reads as a state
    """The embedded server cannot start because the ``[local]`` extra is not installed."""


def connect(api_key: str | None = None, base_url: str | None = None,
            data_dir: str | os.PathLike[str] | None = None, workers: int | str = 1,
            **client_options: Any) -> Client:
    """Return a ready client: the hosted API with a key, else the embedded local server.

    Parameters
    ----------
    api_key : str, optional
        A key (else ``$ELEVENLABS_API_KEY`` / ``$XI_API_KEY``).
    base_url : str, optional
        A server to use (else ``$ELEVENLABS_BASE_URL``).
    data_dir : path-like, optional
        Where the embedded server keeps voices and history (else ``$XIWIDGETS_DATA_DIR``, else
        the user data directory). Only used when the embedded server starts.
    workers : int or "auto"
        Synthesis processes of the embedded server, if it starts now. 1 (the default)
        synthesizes in this kernel's process: one copy of the voices in memory, which is all a
        notebook speaking one take at a time needs. N >= 2 starts N worker processes (300 MB
        each, 700 MB with Kokoro) so N takes are made at once, for batches; ``"auto"`` one
        per core as memory allows.
    **client_options
        Passed to :class:`Client` (``timeout``, ``max_retries``…).

    Returns
    -------
    Client
        With neither a key nor a base URL, the shared client of the embedded server (started
        on the first call, reused afterwards); ``client.is_local`` is then true.

    Raises
    ------
    LocalServerUnavailable
        The embedded server is needed but the ``[local]`` extra is not installed.
    """
    if api_key or base_url or client_options:
        if not (api_key or resolve_api_key() or configured_base_url(base_url)):
            return _local(data_dir, client_options, workers)
        return Client(api_key=api_key, base_url=base_url, **client_options)
    remote_url = configured_base_url()
    if resolve_api_key() or remote_url:
        with _lock:
            # Keyed by URL only: the key is read at each request, so one client serves them all.
            url = remote_url or "hosted"
            if url not in _default_remote:
                _default_remote[url] = Client(base_url=remote_url)
            return _default_remote[url]
    return _local(data_dir, {}, workers)


def local_client(data_dir: str | os.PathLike[str] | None = None) -> Client:
    """The client of this process's embedded server, started now if needed, whatever key or
    base URL the environment sets (a batch's worker uses it for ``WorkerConnection.local()``).

    Parameters
    ----------
    data_dir : path-like, optional
        Where the server keeps its data if it starts now (see :func:`connect`).

    Notes
    -----
    Unlike :func:`connect`'s, this server loads the Kokoro model only on its first Kokoro take:
    a batch worker that speaks with Joe should not spend its cores and 400 MB on it while its
    takes wait.
    """
    return _local(data_dir, {}, preload_voices=False)


def _local(data_dir: str | os.PathLike[str] | None, client_options: dict[str, Any],
           workers: int | str = 1, preload_voices: bool = True) -> Client:
    global _server, _local_client
    with _lock:
        if _server is None:
            try:
                from xiwidgets.server import start_in_thread
            except ImportError as exc:
                raise LocalServerUnavailable(
                    f"No API key is set and the local voice server is not installed "
                    f"({exc.name or exc}); run {LOCAL_EXTRA_HINT}, or set ELEVENLABS_API_KEY."
                ) from None
            # Its default voice is a Kokoro voice when installed: in a notebook, load it while
            # the user reads.
            _server = start_in_thread(data_dir=local_data_dir(data_dir),
                                      api_keys=(secrets.token_urlsafe(32),), workers=workers,
                                      preload_voices=preload_voices)
            atexit.register(shutdown)
            print(f"xiwidgets: no API key set — using the local voice server at "
                  f"{_server.base_url} (offline voices)")
        if client_options:
            return _embedded_client(_server, client_options)
        if _local_client is None:
            _local_client = _embedded_client(_server, {})
        return _local_client


def _embedded_client(server: Any, client_options: dict[str, Any]) -> Client:
    client = Client(api_key=server.api_key, base_url=server.base_url, **client_options)
    client._embedded = True
    return client


def embedded_server() -> Any:
    """The handle of the embedded server, or ``None`` before ``connect()`` started it.

    Returns
    -------
    ServerHandle or None
        ``.base_url``, ``.data_dir``, and ``.api_key``: the key requests to it need (another
        tool pointed at the embedded server must send it as ``xi-api-key``).
    """
    return _server


def shutdown() -> None:
    """Stop the embedded server (a later ``connect()`` starts a new one)."""
    global _server, _local_client
    with _lock:
        server, _server = _server, None
        client, _local_client = _local_client, None
    if client is not None:
        client.close()
    if server is not None:
        server.stop()

"""One uvicorn server set up the same way for ``xiwidgets serve`` and ``start_in_thread``."""

from __future__ import annotations

import uvicorn

from xiwidgets.server.app import create_app
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.connections import GuardedH11Protocol

# uvicorn's listen backlog, which asyncio also uses as the number of connections it accepts in
# one go, before any of them can be closed to make room.
MAX_BACKLOG = 2048
# Raised to this many open files when the hard limit allows (Go's runtime does the same).
WANTED_OPEN_FILES = 65536


def open_file_limit() -> int | None:
    """Raise this process's soft open-file limit towards the hard one; return the new limit.

    Linux desktops often start processes at 1 024 open files: a burst of idle connections then
    runs the server out of descriptors before they can be closed, and it stops accepting for a
    second each time.

    Returns
    -------
    int or None
        The soft limit now in force, ``None`` where the platform has none (Windows).
    """
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WANTED_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, WANTED_OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # the limit stays as it was; the backlog below adapts to it
    return None if soft == resource.RLIM_INFINITY else soft


def build_server(config: ServerConfig) -> uvicorn.Server:
    """A uvicorn server for ``config``, not started yet.

    HTTP runs on :class:`GuardedH11Protocol` (uvicorn's h11 protocol with a header deadline and
    a per-client connection cap), whatever parser uvicorn would pick by itself. The open-file
    limit is raised (:func:`open_file_limit`) and the backlog kept to a quarter of it, so a
    burst of connections cannot use up the descriptors before the cap closes the idle ones.

    Parameters
    ----------
    config : ServerConfig
        Where to listen and how to behave.

    Returns
    -------
    uvicorn.Server
    """
    files = open_file_limit()
    backlog = MAX_BACKLOG if files is None else max(64, min(MAX_BACKLOG, files // 4))
    return uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=config.host,
            port=config.port,
            log_level=config.log_level,
            lifespan="on",
            http=GuardedH11Protocol.factory(config.header_timeout_s,
                                            config.max_connections_per_client),
            ws="websockets-sansio",
            # A frame is read whole before the route sees it: cap it near the route's own limit
            # (characters; UTF-8 takes up to 4 bytes each) instead of uvicorn's 16 MiB.
            ws_max_size=4 * config.websocket_max_message_bytes + 65_536,
            backlog=backlog,
            timeout_graceful_shutdown=5,
        )
    )

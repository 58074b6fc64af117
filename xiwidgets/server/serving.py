"""One uvicorn server set up the same way for ``xiwidgets serve`` and ``start_in_thread``."""

from __future__ import annotations

import uvicorn

from xiwidgets.server.app import create_app
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.connections import GuardedH11Protocol


def build_server(config: ServerConfig) -> uvicorn.Server:
    """A uvicorn server for ``config``, not started yet.

    HTTP runs on :class:`GuardedH11Protocol` (uvicorn's h11 protocol with a header deadline and
    a per-client connection cap), whatever parser uvicorn would pick by itself.

    Parameters
    ----------
    config : ServerConfig
        Where to listen and how to behave.

    Returns
    -------
    uvicorn.Server
    """
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
            timeout_graceful_shutdown=5,
        )
    )

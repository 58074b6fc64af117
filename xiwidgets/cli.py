"""Command line: ``xiwidgets serve`` runs the local voice server."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence

from xiwidgets import __version__
from xiwidgets.config import is_loopback_host

READY_LINE = "xiwidgets server listening on http://{host}:{port}"


def build_parser() -> argparse.ArgumentParser:
    """The ``xiwidgets`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="xiwidgets", description="xiwidgets command line tools."
    )
    parser.add_argument("--version", action="version", version=f"xiwidgets {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the offline voice server (the ElevenLabs API on this machine)",
        description="Run the offline voice server. Point a client at the printed URL.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port; 0 picks a free one (default %(default)s)"
    )
    serve.add_argument("--data-dir", default=None, help="database and audio directory")
    serve.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        default=[],
        metavar="KEY",
        help="require this xi-api-key (repeat for several keys); without, the server is open",
    )
    serve.add_argument(
        "--character-limit", type=int, default=None, help="characters per month before quota errors"
    )
    serve.add_argument(
        "--max-concurrent-syntheses",
        type=int,
        default=None,
        help="takes synthesized at once; others wait (default: one per two cores)",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (default %(default)s)",
    )
    return parser


def exposure_warning(host: str, api_keys: Sequence[str]) -> str | None:
    """The warning to print when the server would be reachable from other machines without a key.

    Parameters
    ----------
    host : str
        The address the server binds.
    api_keys : sequence of str
        The configured keys (only whether there are any matters).

    Returns
    -------
    str or None
        One line for stderr, or ``None`` when the host is loopback or keys are required.
    """
    if api_keys or is_loopback_host(host):
        return None
    return (
        f"warning: serving on {host} without --api-key: anyone who can reach this "
        "machine can use the server and its quota."
    )


def serve(options: argparse.Namespace) -> int:
    """Run the server in the foreground until interrupted."""
    import uvicorn

    from xiwidgets.server import ServerConfig, create_app

    config_options = {
        "host": options.host,
        "port": options.port,
        "data_dir": options.data_dir,
        "api_keys": tuple(options.api_keys),
        "log_level": options.log_level,
    }
    if options.character_limit is not None:
        config_options["character_limit"] = options.character_limit
    if options.max_concurrent_syntheses is not None:
        config_options["max_concurrent_syntheses"] = options.max_concurrent_syntheses
    try:
        config = ServerConfig.from_options(**config_options)
    except (TypeError, ValueError) as exc:
        print(f"xiwidgets serve: {exc}", file=sys.stderr)
        return 2
    warning = exposure_warning(config.host, config.api_keys)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=config.host,
            port=config.port,
            log_level=config.log_level,
            lifespan="on",
            ws="websockets-sansio",
            timeout_graceful_shutdown=5,
        )
    )
    _announce_when_ready(server, config.host)
    # uvicorn shuts down cleanly on Ctrl-C and then re-raises it; no traceback for that.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else 1


def _announce_when_ready(server, host: str) -> None:
    """Print the ready line once uvicorn has bound its socket (port 0 → the real port)."""
    original_startup = server.startup

    async def startup(sockets=None) -> None:
        await original_startup(sockets=sockets)
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1]
            shown = f"[{host}]" if ":" in host else host
            print(READY_LINE.format(host=shown, port=port), flush=True)

    server.startup = startup


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xiwidgets`` command."""
    options = build_parser().parse_args(argv)
    if options.command == "serve":
        return serve(options)
    return 2


if __name__ == "__main__":
    sys.exit(main())

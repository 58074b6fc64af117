"""Settings of one local voice server: where it listens, where it keeps data, and its limits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from xiwidgets.config import is_loopback_host

DEFAULT_CHARACTER_LIMIT = 1_000_000


def default_data_dir() -> Path:
    """Return the per-user data directory the server uses when none is given.

    Returns
    -------
    pathlib.Path
        ``platformdirs.user_data_dir("xiwidgets")``.
    """
    import platformdirs

    return Path(platformdirs.user_data_dir("xiwidgets"))


def default_max_concurrent_syntheses() -> int:
    """One synthesis per two cores: a take uses about one core and requests should queue."""
    return max(1, (os.cpu_count() or 1) // 2)


@dataclass
class ServerConfig:
    """Everything that changes how a server instance behaves.

    Parameters
    ----------
    host, port : str, int
        Where uvicorn listens; port 0 picks a free port.
    data_dir : pathlib.Path or str, optional
        SQLite database, audio files, voice samples and preview cache;
        :func:`default_data_dir` by default (or when ``None``).
    api_keys : tuple of str
        With keys, every endpoint the hosted API protects requires ``xi-api-key``; without, the
        server is open (usage is still counted).
    character_limit : int
        Characters per monthly period before requests get ``quota_exceeded``.
    max_concurrent_syntheses : int
        Takes synthesized at once; further requests wait their turn.
    workers : int
        Synthesis processes. 1 (the default): synthesis runs in the server's own process, one
        copy of the voices in memory, ``max_concurrent_syntheses`` at once. N >= 2: N worker
        processes, each with its own engines (300 MB each, 700 MB with Kokoro), one synthesis
        each at a time; the server's process keeps the store, billing and history.
        ``"auto"``: one per core, as many as free memory holds. The cores are shared out:
        each worker's engines run on cores / N threads.
    worker_timeout_s : float
        With workers: a worker that sends nothing for this long while making a take is
        hung; it is killed and replaced, and that take fails (refunded, nothing stored).
    max_concurrent_requests : int or None
        Takes in flight at once (synthesizing, waiting or being sent); past it a take is
        refused as the hosted API refuses one past its plan's limit: 429
        ``too_many_concurrent_requests`` with ``Retry-After``, nothing charged. ``None`` (the
        default): no refusals, takes past the synthesis slots wait their turn.
    warm_up : bool
        Load the voice models before the server reports ready, so the first take pays no load.
        The Kokoro model is the exception: it loads on the first Kokoro take (a server that
        never speaks with a Kokoro voice never pays its ~360 MB), unless ``preload_voices``.
    preload_voices : bool
        With ``warm_up``, also load the Kokoro model in a background thread right after start
        (the server answers meanwhile; a Kokoro take that comes first waits for the load).
        The embedded server of ``xiwidgets.connect()`` does; ``xiwidgets serve
        --preload-voices``.
    allowed_origins : tuple of str
        Web page origins (``scheme://host[:port]``) allowed to call the server from a browser;
        they also get CORS headers. Requests carrying any other ``Origin`` are refused with 403.
    allowed_hosts : tuple of str
        ``Host`` names accepted besides this machine's loopback names (``localhost``,
        127.0.0.0/8, ``::1``). Bound beyond loopback with none listed, any host is accepted.
    insecure_no_auth : bool
        Allow binding beyond loopback without ``api_keys`` (an open server on the network).
    header_timeout_s : float
        Seconds a connection may take to send a request's headers (from connecting, or from
        the end of the previous response) before it is closed.
    max_connections_per_client : int
        Connections one client address may hold open; past it the oldest connection that is
        waiting for a request is closed to make room.
    max_recording_seconds : float
        Longest recording speech to text and forced alignment accept (413 past it).
    max_alignment_text_characters : int
        Longest transcript forced alignment accepts.
    max_speech_requests : int
        Speech-to-text and forced-alignment requests running or waiting at once (429 past it).
    """

    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path = field(default_factory=default_data_dir)
    api_keys: tuple[str, ...] = ()
    character_limit: int = DEFAULT_CHARACTER_LIMIT
    max_concurrent_syntheses: int = field(default_factory=default_max_concurrent_syntheses)
    max_concurrent_requests: int | None = None
    workers: int = 1
    # No clause of any engine takes this long, even a Kokoro take that has to load the model
    # first on loaded cores (~40 s at worst, measured).
    worker_timeout_s: float = 120.0
    warm_up: bool = True
    preload_voices: bool = False
    log_level: str = "warning"
    # Request limits: each is enforced with a readable error naming the limit.
    max_json_body_bytes: int = 1_000_000
    max_upload_file_bytes: int = 20_000_000
    max_upload_total_bytes: int = 50_000_000
    max_samples_per_voice: int = 25
    max_websocket_sessions: int = 16
    default_inactivity_timeout_s: int = 20
    max_inactivity_timeout_s: int = 180
    # The stream-input socket's first message (which may carry the key) must come this soon,
    # whatever inactivity_timeout says: a socket without a key cannot linger.
    websocket_init_timeout_s: float = 5.0
    websocket_max_message_bytes: int = 1_000_000
    max_cloned_voices: int = 200
    # Speech to text and forced alignment: the longest recording decoded (16 kHz float, 64 kB
    # a second: 77 MB at the limit) and the longest transcript aligned, per request.
    max_recording_seconds: float = 1200.0
    max_alignment_text_characters: int = 50_000
    # Speech requests running or waiting for the one Whisper model; more get a 429 at once
    # rather than each holding a worker thread while it waits.
    max_speech_requests: int = 4
    # Exposure: who may reach the server and how long a connection may stay silent.
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    insecure_no_auth: bool = False
    header_timeout_s: float = 10.0
    max_connections_per_client: int = 128

    def __post_init__(self) -> None:
        # Callers may also pass a str or None (the default) for data_dir, and one key as a str.
        data_dir: Path | str | None = self.data_dir
        self.data_dir = default_data_dir() if data_dir is None else Path(data_dir)
        self.api_keys = tuple(key for key in _as_tuple(self.api_keys) if key)
        self.allowed_origins = tuple(normalize_origin(o) for o in _as_tuple(self.allowed_origins))
        self.allowed_hosts = tuple(normalize_host(h) for h in _as_tuple(self.allowed_hosts))
        if not self.api_keys and not self.insecure_no_auth and self.binds_beyond_loopback:
            raise ValueError(
                f"refusing to serve on {self.host or 'every interface'} without an API key: "
                "anyone who can reach this machine could read the history and use the quota. "
                "Give a key (--api-key KEY, api_keys=), or allow an open server explicitly "
                "(--insecure-no-auth, insecure_no_auth=True)."
            )
        if self.header_timeout_s <= 0:
            raise ValueError("header_timeout_s must be > 0")
        if self.max_connections_per_client < 1:
            raise ValueError("max_connections_per_client must be >= 1")
        if self.character_limit < 0:
            raise ValueError("character_limit must be >= 0")
        if self.max_concurrent_syntheses < 1:
            raise ValueError("max_concurrent_syntheses must be >= 1")
        # Typed int, but a caller may pass "auto" (or anything): checked here at run time.
        requested: object = self.workers
        if requested == "auto":
            from xiwidgets.server.workers import auto_workers

            self.workers = auto_workers()
        elif isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
            raise ValueError(
                f"workers must be a whole number >= 1 (or 'auto'), not {requested!r}: 1 "
                "synthesizes in the server's own process, N >= 2 starts N worker processes"
            )
        if not self.worker_timeout_s > 0:
            raise ValueError("worker_timeout_s must be > 0 seconds")
        if self.max_concurrent_requests is not None and self.max_concurrent_requests < 1:
            raise ValueError("max_concurrent_requests must be >= 1 (or None for no limit)")

    @property
    def binds_beyond_loopback(self) -> bool:
        """Whether the server listens on an interface other machines can reach."""
        return not is_loopback_host(self.host)

    @classmethod
    def from_options(cls, **options: object) -> ServerConfig:
        """Build a config from keyword options, rejecting names that are not settings.

        Raises
        ------
        TypeError
            For an unknown option name (a typo should not be silently ignored).
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown server option(s): {', '.join(unknown)}")
        return cls(**options)  # type: ignore[arg-type]

    @property
    def requires_api_key(self) -> bool:
        """Whether requests must carry one of the configured keys."""
        return bool(self.api_keys)

    def __repr__(self) -> str:
        # Keys never appear in a repr or log line.
        return (
            f"ServerConfig(host={self.host!r}, port={self.port}, data_dir={str(self.data_dir)!r}, "
            f"api_keys=<{len(self.api_keys)} hidden>, character_limit={self.character_limit}, "
            f"max_concurrent_syntheses={self.max_concurrent_syntheses}, "
            f"max_concurrent_requests={self.max_concurrent_requests}, workers={self.workers}, "
            f"allowed_origins={self.allowed_origins!r}, allowed_hosts={self.allowed_hosts!r})"
        )


def _as_tuple(values: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (values,) if isinstance(values, str) else tuple(values)


def normalize_origin(origin: str) -> str:
    """An allowed origin in the form browsers send it: ``scheme://host[:port]``, lower case.

    Raises
    ------
    ValueError
        For anything that is not a bare http(s) origin (a path, ``*``, ``null``...).
    """
    text = origin.strip().rstrip("/").lower()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path \
            or parts.query or parts.fragment or parts.username is not None:
        raise ValueError(
            f"allowed origin {origin!r} is not an origin: give scheme://host[:port], "
            "e.g. http://localhost:8888"
        )
    return text


def normalize_host(host: str) -> str:
    """An allowed host name or address, lower case, without port or IPv6 brackets.

    Raises
    ------
    ValueError
        For an empty value or one with a scheme or path.
    """
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text or "/" in text or " " in text:
        raise ValueError(f"allowed host {host!r} is not a host name or address")
    return text

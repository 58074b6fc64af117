"""Refuse requests that a web page, rather than a program, sent to the local server.

Every page open in the user's browser can send requests to ``127.0.0.1``: cross-origin fetches
and form posts carry an ``Origin`` header (a multipart form post to ``/v1/voices/add`` needs no
preflight, and WebSocket handshakes are not covered by CORS at all), and a DNS-rebinding page
reaches the server under its own host name. Programs (the kernel's client, the official SDK,
curl) send neither a foreign ``Origin`` nor a foreign ``Host``. So, for HTTP and WebSocket
alike, before any route runs:

- the ``Host`` must be a loopback name or address, the address the server is bound to, or one
  the user allowed; bound beyond loopback (keys are then required) with no host listed, any
  host is accepted;
- a request with an ``Origin`` must come from the server's own pages (``/docs``) or from an
  origin the user allowed.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from xiwidgets.config import is_loopback_host
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.errors import APIError, handle_api_error

_SHOWN_CHARACTERS = 100
_WILDCARD_BINDS = ("", "0.0.0.0", "::")
_HOST_REFUSED = (
    "This server only answers requests addressed to this machine's loopback address "
    "(localhost, 127.0.0.1); {} is not one. Start it with --allow-host NAME (allowed_hosts=) "
    "to accept another name."
)
_ORIGIN_REFUSED = (
    "Requests from web pages are refused unless their origin is allowed, and {} is not. Start "
    "the server with --allow-origin ORIGIN (allowed_origins=) to let that page call it."
)


def host_name(host_header: str) -> str:
    """The host part of a ``Host`` header value: no port, no IPv6 brackets, lower case.

    Parameters
    ----------
    host_header : str
        ``name``, ``name:port``, ``[v6]`` or ``[v6]:port``.

    Returns
    -------
    str
    """
    text = host_header.strip().lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    if text.count(":") == 1:
        return text.partition(":")[0]
    return text


def _shown(value: str) -> str:
    return repr(value[:_SHOWN_CHARACTERS] + ("…" if len(value) > _SHOWN_CHARACTERS else ""))


class BrowserGuardMiddleware:
    """Refuse foreign ``Host`` and ``Origin`` headers with an ElevenLabs-shaped 403.

    A refused WebSocket handshake gets the same 403 response instead of an upgrade.

    Parameters
    ----------
    app : ASGI app
        The application behind the guard.
    config : ServerConfig
        ``host``, ``allowed_hosts`` and ``allowed_origins``.
    """

    def __init__(self, app: ASGIApp, config: ServerConfig) -> None:
        self.app = app
        self.allowed_origins = frozenset(config.allowed_origins)
        self.any_host = config.binds_beyond_loopback and not config.allowed_hosts
        bound = () if config.host in _WILDCARD_BINDS else (host_name(config.host),)
        self.allowed_hosts = frozenset({*config.allowed_hosts, *bound})

    def host_is_allowed(self, host_header: str | None) -> bool:
        """Whether a request addressed to ``host_header`` is for this server."""
        if host_header is None or self.any_host:
            return True  # HTTP/1.0 without Host comes from a program, never from a browser
        name = host_name(host_header)
        return is_loopback_host(name) or name in self.allowed_hosts

    def origin_is_allowed(self, origin: str, host_header: str | None, scheme: str) -> bool:
        """Whether a page at ``origin`` may call the server (its own pages always may)."""
        origin = origin.strip().lower()
        if origin in self.allowed_origins:
            return True
        own_scheme = "https" if scheme in ("https", "wss") else "http"
        return host_header is not None and origin == f"{own_scheme}://{host_header.lower()}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, str] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name, value.decode("latin-1"))
        refusal = self._refusal(headers.get(b"host"), headers.get(b"origin"), scope["scheme"])
        if refusal is not None:
            await self._refuse(scope, receive, send, refusal)
            return
        await self.app(scope, receive, send)

    def _refusal(self, host: str | None, origin: str | None, scheme: str) -> APIError | None:
        """The 403 for a foreign ``Host`` or ``Origin``, or None to let the request in."""
        if not self.host_is_allowed(host):
            return APIError(403, "host_not_allowed", _HOST_REFUSED.format(_shown(host or "")))
        if origin is not None and not self.origin_is_allowed(origin, host, scheme):
            return APIError(403, "origin_not_allowed", _ORIGIN_REFUSED.format(_shown(origin)))
        return None

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, error: APIError) -> None:
        if scope["type"] == "websocket" and "websocket.http.response" not in scope.get(
                "extensions", {}):
            await send({"type": "websocket.close", "code": 1008})  # the server answers 403
            return
        response = await handle_api_error(None, error)  # type: ignore[arg-type]
        await response(scope, receive, send)

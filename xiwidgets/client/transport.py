"""HTTP plumbing shared by every endpoint: one session, the key header, timeouts and retries.

The key is attached by a ``requests`` auth hook at send time, so it lives in no local variable of
ours and in no session default; after each response the copy kept on ``response.request`` is
replaced, so an error's ``.response`` cannot reveal it either.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from xiwidgets import __version__
from xiwidgets.client.errors import (
    ConnectionFailed,
    QuotaExceeded,
    ServerError,
    XIError,
    connection_reason,
    error_from_response,
    one_line,
    parse_retry_after,
)
from xiwidgets.config import resolve_api_key

logger = logging.getLogger("xiwidgets.client")

KEY_HEADER = "xi-api-key"
REDACTED = "[redacted]"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A Retry-After longer than this is not waited out: the caller gets RateLimited at once.
MAX_RETRY_WAIT = 60.0
_sleep = time.sleep
READ_TIMEOUT = "read_timeout"


class _KeyAuth(requests.auth.AuthBase):
    """Adds ``xi-api-key`` when a request is prepared, resolving the key at that moment."""

    def __init__(self, explicit: str | None) -> None:
        self._explicit = explicit

    def current_key(self) -> str | None:
        return resolve_api_key(self._explicit)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        key = self.current_key()
        if key:
            request.headers[KEY_HEADER] = key
            request.register_hook("response", _drop_key_on_foreign_redirect)
        return request

    def __repr__(self) -> str:
        return "<xi-api-key auth>"


def _drop_key_on_foreign_redirect(
    response: requests.Response, **_kwargs: object
) -> requests.Response:
    """Keep the key off a redirect to another host or to plain HTTP.

    requests strips ``Authorization`` on such redirects but copies every other header, so the
    ``xi-api-key`` header would follow the redirect. Redirected requests are copies of
    ``response.request``; removing the header there removes it from them.
    """
    if response.is_redirect:
        here = urlsplit(response.url)
        there = urlsplit(urljoin(response.url, response.headers.get("location", "")))
        downgraded = here.scheme == "https" and there.scheme != "https"
        if there.hostname != here.hostname or there.port != here.port or downgraded:
            response.request.headers.pop(KEY_HEADER, None)
    return response


def redacted_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` safe to log: the key header's value replaced."""
    return {k: (REDACTED if k.lower() == KEY_HEADER else v) for k, v in headers.items()}


def backoff_delay(attempt: int, base: float, cap: float = 20.0) -> float:
    """Exponential backoff with full jitter: uniform in ``[0, min(cap, base * 2**attempt)]``."""
    return random.uniform(0, min(cap, base * 2**attempt))


class Transport:
    """Sends requests to one base URL with the key, timeouts and retries of a client.

    Parameters
    ----------
    base_url : str
        Without trailing slash.
    api_key : str, optional
        Explicit key; ``None`` resolves the environment at each request.
    session : requests.Session, optional
        A session to reuse (e.g. with proxies configured); a new one otherwise.
    timeout : float or (float, float)
        Seconds (or ``(connect, read)``) for each request.
    max_retries : int
        Retries on 429/5xx/connection errors before the error is raised.
    backoff : float
        Base of the exponential backoff, in seconds.
    """

    def __init__(self, base_url: str, api_key: str | None, session: requests.Session | None,
                 timeout: float | tuple[float, float], max_retries: int, backoff: float) -> None:
        self.base_url = base_url
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = f"xiwidgets/{__version__}"
        self.session = session
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self._auth = _KeyAuth(api_key)

    def current_key(self) -> str | None:
        """The key the next request will carry (only used to scrub text and open WebSockets)."""
        return self._auth.current_key()

    @property
    def has_key(self) -> bool:
        """Whether a key would be sent right now."""
        return self.current_key() is not None

    def scrub(self, text: str) -> str:
        """``text`` with the current key (if any) removed."""
        key = self.current_key()
        return text.replace(key, REDACTED) if key else text

    def url(self, path: str) -> str:
        return self.base_url + path

    def _send_once(self, method: str, path: str, kwargs: dict[str, Any]) -> requests.Response:
        url = self.url(path)
        if logger.isEnabledFor(logging.DEBUG):
            sent = redacted_headers({**self.session.headers, **kwargs.get("headers", {})})
            if self.has_key:
                sent[KEY_HEADER] = REDACTED
            logger.debug("%s %s params=%s headers=%s", method, url, kwargs.get("params"), sent)
        try:
            response = self.session.request(method, url, auth=self._auth, timeout=self.timeout,
                                            **kwargs)
        except requests.exceptions.ReadTimeout:
            raise ConnectionFailed(
                f"{self.base_url} did not answer {method} {path} within the read timeout "
                f"({self.timeout} s). Try again, or pass a larger timeout= to the client.",
                code=READ_TIMEOUT,
            ) from None
        except requests.exceptions.RequestException as exc:
            reason = self.scrub(connection_reason(exc))
            raise ConnectionFailed(
                f"Could not reach {self.base_url} ({reason}). "
                "Check the network connection and the base_url.",
                code="connection_failed", message=reason,
            ) from None
        for sent_response in [*response.history, response]:
            if KEY_HEADER in sent_response.request.headers:
                sent_response.request.headers[KEY_HEADER] = REDACTED
        logger.debug("-> %s %s (%s)", response.status_code, url,
                     response.headers.get("request-id", "no request-id"))
        return response

    def request(self, method: str, path: str, *, stream: bool = False,
                **kwargs: Any) -> requests.Response:
        """Send a request, retrying transient failures; raise :class:`XIError` on an error status.

        Parameters
        ----------
        method, path : str
            HTTP method and API path.
        stream : bool
            Leave the body unread (for audio streams).
        **kwargs
            Passed to :meth:`requests.Session.request`.

        Returns
        -------
        requests.Response
            A successful (2xx) response.
        """
        attempt = 0
        while True:
            try:
                response = self._send_once(method, path, {**kwargs, "stream": stream})
            except ConnectionFailed as failure:
                # A request that timed out may have been carried out (and billed): not resent.
                if failure.code == READ_TIMEOUT or attempt >= self.max_retries:
                    raise
                delay = backoff_delay(attempt, self.backoff)
                logger.debug("connection failed; retry %d in %.2f s", attempt + 1, delay)
            else:
                if response.ok:
                    return response
                if response.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
                    raise self.error(response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                error = self.error(response)
                if isinstance(error, QuotaExceeded) or (
                        retry_after is not None and retry_after > MAX_RETRY_WAIT):
                    raise error
                delay = retry_after if retry_after is not None else backoff_delay(
                    attempt, self.backoff)
                response.close()
                logger.debug("HTTP %s; retry %d in %.2f s", response.status_code, attempt + 1,
                             delay)
            attempt += 1
            _sleep(delay)

    def error(self, response: requests.Response) -> XIError:
        """The :class:`XIError` for an unsuccessful response."""
        key = self.current_key()
        return error_from_response(response, key_is_set=key is not None, secret=key)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON body."""
        return self.decode_json(self.request(method, path, **kwargs), method, path)

    def decode_json(self, response: requests.Response, method: str, path: str) -> Any:
        """The JSON body of ``response``; a body that is not JSON is a :class:`ServerError`."""
        try:
            return response.json()
        except ValueError:
            snippet = self.scrub(one_line(response.text[:80])) or "an empty body"
            raise ServerError(
                f"The server answered {method} {path} with something that is not JSON "
                f"({snippet!r}). Check that base_url points at an ElevenLabs-compatible API.",
                status_code=response.status_code, code="invalid_json", response=response,
            ) from None

    def fetch_without_key(self, url: str) -> bytes:
        """GET an absolute URL on another host (e.g. preview storage) without the API key."""
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.exceptions.RequestException as exc:
            reason = connection_reason(exc)
            raise ConnectionFailed(f"Could not download {url} ({reason}).",
                                   message=reason) from None
        if not response.ok:
            raise self.error(response)
        return response.content

    def websocket_headers(self) -> dict[str, str]:
        """Headers for a WebSocket upgrade request (the key included when set)."""
        headers = {"User-Agent": self.session.headers["User-Agent"]}
        key = self.current_key()
        if key:
            headers[KEY_HEADER] = key
        return headers

"""HTTP plumbing shared by every endpoint: one session, the key header, timeouts and retries.

The key is attached by a ``requests`` auth hook at send time, so it lives in no local variable of
ours and in no session default; after each response the copy kept on ``response.request`` is
replaced, so an error's ``.response`` cannot reveal it either.

Retries depend on whether sending a request twice can do its work twice. Idempotent requests
(reads, deletes, replacing settings) are retried on 429, 5xx and any connection failure but a
read timeout. A request that makes something — a take, which is billed, or a voice — is retried
only when the server provably did not act on it: a 429 (refused before any work), a 503 with
``Retry-After`` (refused, come back later), or a connection that failed before any byte of the
request was written. Everything else (500, 502, 504, a 503 without ``Retry-After``, a read
timeout, a connection that broke after the request was sent) raises, saying where to look for what
may have been made. That includes a POST written into a kept-alive connection the server had just
closed: it cannot be told from a server that acted and then dropped the connection. urllib3
already replaces pooled connections whose close has arrived, so this is only the rare race of a
close still in flight.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError

from xiwidgets import __version__
from xiwidgets.client.errors import (
    ConnectionFailed,
    QuotaExceeded,
    ServerError,
    XIError,
    connection_reason,
    effect_in_doubt,
    error_from_response,
    one_line,
    parse_retry_after,
)
from xiwidgets.client.types import ResponseInfo
from xiwidgets.config import resolve_api_key

logger = logging.getLogger("xiwidgets.client")

KEY_HEADER = "xi-api-key"
REDACTED = "[redacted]"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# A Retry-After longer than this is not waited out: the caller gets RateLimited at once.
MAX_RETRY_WAIT = 60.0
_sleep = time.sleep
# ConnectionFailed.code: nothing was sent / sent but the answer was lost / no answer in time.
CONNECTION_FAILED = "connection_failed"
CONNECTION_LOST = "connection_lost"
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
            request.register_hook("response", _drop_key_on_foreign_redirect)  # type: ignore[no-untyped-call]
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


def redacted_headers(headers: Mapping[str, str | bytes]) -> dict[str, str | bytes]:
    """A copy of ``headers`` safe to log: the key header's value replaced."""
    return {k: (REDACTED if k.lower() == KEY_HEADER else v) for k, v in headers.items()}


def backoff_delay(attempt: int, base: float, cap: float = 20.0) -> float:
    """Exponential backoff with full jitter: uniform in ``[0, min(cap, base * 2**attempt)]``."""
    return random.uniform(0, min(cap, base * 2**attempt))


def never_sent(exc: requests.exceptions.RequestException) -> bool:
    """Whether ``exc`` happened before any byte of the request was written.

    Only a failure to open the connection proves that: urllib3 raises ``NewConnectionError``
    (refused, unreachable, DNS failure as its subclass ``NameResolutionError``) or
    ``ConnectTimeoutError`` while connecting, which requests wraps in a ``MaxRetryError``. Every
    other failure (``Connection aborted.``, a reset, a read timeout, a TLS error, which may come
    from a write) may have reached the server.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    wrapped = exc.args[0] if exc.args else None
    return isinstance(getattr(wrapped, "reason", None), ConnectTimeoutError)


def refused_before_work(response: requests.Response) -> bool:
    """Whether an error status proves the server did not act: 429, or 503 with Retry-After."""
    return response.status_code == 429 or (
        response.status_code == 503 and "Retry-After" in response.headers)


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
        Retries on 429/5xx/connection errors before the error is raised (fewer cases for a
        request that makes something; see the module's docstring).
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

    def _send_once(self, method: str, path: str, kwargs: dict[str, Any], stream: bool,
                   in_doubt: Callable[[ResponseInfo], str] | None) -> requests.Response:
        url = self.url(path)
        if logger.isEnabledFor(logging.DEBUG):
            sent = redacted_headers({**self.session.headers, **kwargs.get("headers", {})})
            if self.has_key:
                sent[KEY_HEADER] = REDACTED
            logger.debug("%s %s params=%s headers=%s", method, url, kwargs.get("params"), sent)
        try:
            # Always streamed, then read here: a connection that breaks in the middle of the
            # body still leaves the headers (request-id, history-item-id) to report.
            response = self.session.request(method, url, auth=self._auth, timeout=self.timeout,
                                            stream=True, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise self._connection_error(exc, method, path, ResponseInfo(), in_doubt) from None
        for sent_response in [*response.history, response]:
            if KEY_HEADER in sent_response.request.headers:
                sent_response.request.headers[KEY_HEADER] = REDACTED
        logger.debug("-> %s %s (%s)", response.status_code, url,
                     response.headers.get("request-id", "no request-id"))
        if not stream or not response.ok:
            try:
                response.content  # noqa: B018 - reads and keeps the body
            except requests.exceptions.RequestException as exc:
                response.close()
                raise self._connection_error(exc, method, path,
                                             ResponseInfo.from_headers(response.headers),
                                             in_doubt, answered=True) from None
        return response

    def _connection_error(self, exc: requests.exceptions.RequestException, method: str,
                          path: str, info: ResponseInfo,
                          in_doubt: Callable[[ResponseInfo], str] | None,
                          answered: bool = False) -> ConnectionFailed:
        """The :class:`ConnectionFailed` for ``exc``; ``in_doubt`` is None for idempotent ones."""
        reason = self.scrub(connection_reason(exc))
        if not answered and never_sent(exc):
            return ConnectionFailed(
                f"Could not reach {self.base_url} ({reason}). "
                "Check the network connection and the base_url.",
                code=CONNECTION_FAILED, message=reason)
        not_resent = "" if in_doubt is None else f", so it was not sent again. {in_doubt(info)}"
        if not answered and isinstance(exc, requests.exceptions.ReadTimeout):
            code = READ_TIMEOUT
            sentence = (f"{self.base_url} did not answer {method} {path} within the read timeout "
                        f"({self.timeout} s)")
            sentence += (f"{not_resent} For long texts, pass a larger timeout= to the client."
                         if not_resent else ". Try again, or pass a larger timeout= to the client.")
        else:
            code = CONNECTION_LOST
            sentence = f"Lost the connection to {self.base_url} during {method} {path} ({reason})"
            sentence += (f" after it may have reached the server{not_resent}"
                         if not_resent else ". Check the network connection and try again.")
        return ConnectionFailed(sentence, code=code, message=reason, request_id=info.request_id,
                                history_item_id=info.history_item_id)

    def request(self, method: str, path: str, *, stream: bool = False,
                idempotent: bool | None = None,
                in_doubt: Callable[[ResponseInfo], str] = effect_in_doubt,
                **kwargs: Any) -> requests.Response:
        """Send a request, retrying transient failures; raise :class:`XIError` on an error status.

        Parameters
        ----------
        method, path : str
            HTTP method and API path.
        stream : bool
            Leave the body unread (for audio streams).
        idempotent : bool, optional
            Whether sending it twice does no more than sending it once; by default, true for
            GET, HEAD, OPTIONS, PUT and DELETE. Requests that are not are resent only when the
            server provably did not act on them (see the module's docstring).
        in_doubt : callable
            For a request that is not idempotent: builds, from the headers that arrived, the
            sentence telling the user where to look for what it may have made.
        **kwargs
            Passed to :meth:`requests.Session.request`.

        Returns
        -------
        requests.Response
            A successful (2xx) response.
        """
        safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        doubt = None if safe else in_doubt
        attempt = 0
        while True:
            try:
                response = self._send_once(method, path, kwargs, stream, doubt)
            except ConnectionFailed as failure:
                # A read timeout is not resent even when it is safe: the next try would most
                # likely wait just as long.
                retryable = failure.code == CONNECTION_FAILED or (
                    safe and failure.code == CONNECTION_LOST)
                if not retryable or attempt >= self.max_retries:
                    raise
                delay = backoff_delay(attempt, self.backoff)
                logger.debug("connection failed; retry %d in %.2f s", attempt + 1, delay)
            else:
                if response.ok:
                    return response
                error = self.error(response, in_doubt=None if refused_before_work(response)
                                   else doubt)
                wait = self._retry_delay(response, error, attempt, safe)
                if wait is None:
                    raise error
                delay = wait
                response.close()
                logger.debug("HTTP %s; retry %d in %.2f s", response.status_code, attempt + 1,
                             delay)
            attempt += 1
            _sleep(delay)

    def _retry_delay(self, response: requests.Response, error: XIError, attempt: int,
                     safe: bool) -> float | None:
        """Seconds to wait before resending after ``response``, or None to raise ``error``."""
        if (response.status_code not in RETRY_STATUSES or attempt >= self.max_retries
                or isinstance(error, QuotaExceeded)
                or not (safe or refused_before_work(response))):
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None:
            return backoff_delay(attempt, self.backoff)
        return retry_after if retry_after <= MAX_RETRY_WAIT else None

    def error(self, response: requests.Response,
              in_doubt: Callable[[ResponseInfo], str] | None = None) -> XIError:
        """The :class:`XIError` for an unsuccessful response (see :func:`error_from_response`)."""
        key = self.current_key()
        return error_from_response(response, key_is_set=key is not None, secret=key,
                                   in_doubt=in_doubt)

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
        headers = {"User-Agent": str(self.session.headers["User-Agent"])}
        key = self.current_key()
        if key:
            headers[KEY_HEADER] = key
        return headers

"""One exception hierarchy for everything the API (hosted or local) can answer with.

Every error reads as one sentence a notebook user understands, with the fix where there is one.
The API key never appears in an error: messages from the server are scrubbed of it, and the
request kept on ``err.response`` has its ``xi-api-key`` header replaced before the error is built.

A request that makes something (a take, a voice) and fails in a way that leaves open whether the
server carried it out is not sent again; its error says so and how to find what may have been
made (:func:`take_in_doubt`).
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import requests

from xiwidgets.client.types import ResponseInfo

if TYPE_CHECKING:
    from typing_extensions import Unpack

KEY_FIX = "Set ELEVENLABS_API_KEY or pass api_key=... to the client."
_MAX_MESSAGE_CHARS = 300


class ErrorFields(TypedDict, total=False):
    """The keyword arguments every :class:`XIError` takes besides its sentence."""

    status_code: int | None
    code: str | None
    message: str | None
    response: requests.Response | None
    request_id: str | None
    history_item_id: str | None


class XIError(Exception):
    """Root of every xiwidgets client error.

    Attributes
    ----------
    status_code : int or None
        HTTP status (or WebSocket close code), ``None`` when no response arrived.
    code : str or None
        The API's ``detail.status`` (e.g. ``"voice_not_found"``).
    message : str
        The API's ``detail.message`` (or our own explanation), on one line.
    response : requests.Response or None
        The HTTP response, when there was one.
    request_id : str or None
        The response's ``request-id`` header, when a response (or its headers) arrived.
    history_item_id : str or None
        The response's ``history-item-id`` header: the take this request made, if any.
    """

    def __init__(
        self,
        sentence: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        message: str | None = None,
        response: requests.Response | None = None,
        request_id: str | None = None,
        history_item_id: str | None = None,
    ) -> None:
        super().__init__(sentence)
        self.status_code = status_code
        self.code = code
        self.message = message if message is not None else sentence
        self.response = response
        headers = response.headers if response is not None else {}
        self.request_id = request_id or headers.get("request-id")
        self.history_item_id = history_item_id or headers.get("history-item-id")


class AuthenticationError(XIError):
    """The API key is missing, wrong, or not allowed to do this (401/403)."""


class QuotaExceeded(XIError):  # noqa: N818 - the public API's names
    """Not enough characters/credits left for this request.

    Attributes
    ----------
    needed : int or None
        Credits the request needed, when the API said so.
    left : int or None
        Credits left on the account, when the API said so.
    reset_unix : int or None
        When the quota resets (unix seconds), when the API said so.
    """

    def __init__(self, sentence: str, *, needed: int | None = None, left: int | None = None,
                 reset_unix: int | None = None, **kwargs: Unpack[ErrorFields]) -> None:
        super().__init__(sentence, **kwargs)
        self.needed = needed
        self.left = left
        self.reset_unix = reset_unix


class RateLimited(XIError):  # noqa: N818 - the public API's names
    """Too many requests at once (429), even after retrying.

    Attributes
    ----------
    retry_after : float or None
        Seconds the server asked us to wait, from the ``Retry-After`` header.
    """

    def __init__(self, sentence: str, *, retry_after: float | None = None,
                 **kwargs: Unpack[ErrorFields]) -> None:
        super().__init__(sentence, **kwargs)
        self.retry_after = retry_after


class NotFound(XIError):  # noqa: N818 - the public API's names
    """The voice, history item or other resource does not exist."""


class InvalidRequest(XIError):  # noqa: N818 - the public API's names
    """The request was rejected as invalid (400/422).

    Attributes
    ----------
    errors : list of str
        One readable message per invalid field (``"text: Field required"``).
    """

    def __init__(self, sentence: str, *, errors: Sequence[str] = (),
                 **kwargs: Unpack[ErrorFields]) -> None:
        super().__init__(sentence, **kwargs)
        self.errors = list(errors)


class ServerError(XIError):
    """The server failed (5xx) or answered with something that is not the API's shape."""


class StreamInterrupted(XIError):  # noqa: N818 - the public API's names
    """The connection dropped while audio was streaming.

    Attributes
    ----------
    partial : bytes
        The audio received before the drop.
    """

    def __init__(self, sentence: str, *, partial: bytes = b"",
                 **kwargs: Unpack[ErrorFields]) -> None:
        super().__init__(sentence, **kwargs)
        self.partial = partial


class ConnectionFailed(XIError):  # noqa: N818 - the public API's names
    """The server could not be reached, or the connection broke before the answer arrived.

    ``code`` tells which: ``"connection_failed"`` (no connection could be opened, so nothing
    was sent), ``"connection_lost"`` (the connection broke once open, so the request may have
    reached the server) or ``"read_timeout"`` (the server did not answer in time).
    """


def take_in_doubt(info: ResponseInfo) -> str:
    """The sentence for a TTS request that failed after the server may have made (and billed) it.

    Parameters
    ----------
    info : ResponseInfo
        The headers that arrived, if any (empty when the connection broke before them).

    Returns
    -------
    str
        Where to look for the take before asking for it again.
    """
    said = "The take may have been made and billed"
    if info.history_item_id:
        return (f"{said}: look for history item {info.history_item_id} "
                f"(client.history.get({info.history_item_id!r})) before asking for it again.")
    if info.request_id:
        return (f"{said}: look in client.history.list() for the item with request_id "
                f"{info.request_id!r} before asking for it again.")
    return (f"{said}: look for its text among the newest items of client.history.list() "
            "before asking for it again.")


def effect_in_doubt(_info: ResponseInfo) -> str:
    """The sentence for any other request that makes something and may have been carried out."""
    return "The server may have carried it out: check before sending it again."


def one_line(text: str, secret: str | None = None) -> str:
    """Collapse ``text`` to one short line and remove ``secret`` from it."""
    if secret:
        text = text.replace(secret, "[redacted]")
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[: _MAX_MESSAGE_CHARS - 1] + "…"
    return text


def connection_reason(exc: BaseException) -> str:
    """The useful part of a connection error ("[Errno 111] Connection refused")."""
    text = one_line(str(exc))
    found = re.search(
        r"\[Errno -?\d+\][^\"')]*|(?:Read |Connect )?timed out|Name or service not known"
        r"|Remote end closed connection without response|Connection reset by peer"
        r"|Response ended prematurely|IncompleteRead\([^)]*\)", text)
    return found.group(0).strip() if found else text


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _field_messages(details: Sequence[Any]) -> list[str]:
    """Turn a FastAPI/pydantic 422 ``detail`` list into ``"field: message"`` strings."""
    messages = []
    for item in details:
        if not isinstance(item, Mapping):
            messages.append(str(item))
            continue
        loc = [str(part) for part in item.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        field = ".".join(loc) or "request"
        messages.append(f"{field}: {item.get('msg', 'invalid value')}")
    return messages


def _first_number(text: str, patterns: Sequence[str]) -> int | None:
    for pattern in patterns:
        found = re.search(pattern, text)
        if found and found.group(1).replace(",", "").isdigit():
            return int(found.group(1).replace(",", ""))
    return None


def _int_field(detail: Mapping[str, Any], name: str) -> int | None:
    value = detail.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _quota_numbers(message: str, detail: Mapping[str, Any]
                   ) -> tuple[int | None, int | None, int | None]:
    """Credits needed and left and the reset time, from the fields of ``detail``.

    The local server sends ``needed``, ``left`` and ``reset_unix``; the hosted API sends at most
    ``character_used``/``character_limit``, and otherwise only its English sentence ("You have
    23 credits remaining, while 145 credits are required"), read as the last resort.
    """
    needed, left = _int_field(detail, "needed"), _int_field(detail, "left")
    used, limit = _int_field(detail, "character_used"), _int_field(detail, "character_limit")
    if left is None and used is not None and limit is not None:
        left = max(0, limit - used)
    if needed is None:
        needed = _first_number(message, (r"([\d,]+) credits are required",))
    if left is None:
        left = _first_number(message, (r"([\d,]+) credits remaining",))
    return needed, left, _int_field(detail, "reset_unix")


def _read_body(response: requests.Response) -> tuple[str | None, str, Any]:
    """The ``(code, message, raw detail)`` of an error body, tolerating non-JSON bodies."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip() if response.content else ""
        return None, text or (response.reason or "no message"), None
    if isinstance(body, Mapping):
        detail = body.get("detail", body)
        if isinstance(detail, Mapping):
            code = detail.get("status") or detail.get("error") or detail.get("code")
            message = detail.get("message") or detail.get("msg") or ""
            return (str(code) if code else None), str(message), detail
        if isinstance(detail, list):
            return "validation_error", "; ".join(_field_messages(detail)), detail
        return None, str(detail), detail
    return None, json.dumps(body)[:200], body


def error_from_response(
    response: requests.Response, *, key_is_set: bool, secret: str | None = None,
    in_doubt: Callable[[ResponseInfo], str] | None = None,
) -> XIError:
    """Build the right :class:`XIError` for an unsuccessful HTTP response.

    Parameters
    ----------
    response : requests.Response
        A response with a 4xx/5xx status.
    key_is_set : bool
        Whether the request carried an API key (changes the fix suggested for a 401).
    secret : str, optional
        The API key, scrubbed from any text the server echoed back.
    in_doubt : callable, optional
        For a request that makes something: builds the sentence saying where to look for it,
        said instead of "Try again later" when a 5xx leaves open whether the server did it.

    Returns
    -------
    XIError
        An instance of the most specific subclass.
    """
    status = response.status_code
    code, raw_message, detail = _read_body(response)
    message = one_line(raw_message, secret) or (response.reason or "")
    tag = f" ({code})" if code and code != "validation_error" else ""
    # Newer hosted errors repeat the request id inside ``detail``; a proxy's error page may
    # lose the header.
    request_id = response.headers.get("request-id") or (
        str(detail["request_id"]) if isinstance(detail, Mapping) and detail.get("request_id")
        else None)
    common: ErrorFields = {"status_code": status, "code": code, "message": message,
                           "response": response, "request_id": request_id}
    said = f": {message.rstrip('.')}" if message else ""

    if code == "quota_exceeded" or status == 402:
        needed, left, reset_unix = _quota_numbers(
            message, detail if isinstance(detail, Mapping) else {})
        return QuotaExceeded(
            f"Your character quota is used up{tag}{said}."
            + ("" if "shorten" in message.lower()
               else " Shorten the text or wait for the quota to reset."),
            needed=needed, left=left, reset_unix=reset_unix, **common,
        )
    if status in (401, 403):
        if status == 401 and not key_is_set:
            sentence = f"No API key was sent and the server requires one{said}. {KEY_FIX}"
        elif status == 401:
            sentence = f"The API key was rejected{tag}{said}. Check the key. {KEY_FIX}"
        else:
            sentence = f"This account may not do that{tag}{said}."
        return AuthenticationError(sentence, **common)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        wait = f" Wait {retry_after:g} s and retry" if retry_after is not None else " Retry later"
        return RateLimited(
            f"Too many requests{tag}{said}.{wait}, or send fewer requests at once.",
            retry_after=retry_after, **common,
        )
    if status == 404 or (code or "").endswith("not_found"):
        hint = (" See client.voices.list() for the voices you can use."
                if code == "voice_not_found" else "")
        return NotFound(f"Not found{tag}{said}.{hint}", **common)
    if status in (400, 422):
        # Each field's message may repeat the value refused: a key pasted into that field.
        errors = ([text.replace(secret, "[redacted]") if secret else text
                   for text in _field_messages(detail)]
                  if isinstance(detail, list) else [message])
        listed = "; ".join(errors).rstrip(".")
        return InvalidRequest(f"Invalid request{tag}: {listed}.", errors=errors,
                              **common)
    if status >= 500:
        advice = "Try again later." if in_doubt is None else in_doubt(
            ResponseInfo(request_id=request_id,
                         history_item_id=response.headers.get("history-item-id")))
        return ServerError(f"The server failed with HTTP {status}{tag}{said}. {advice}",
                           **common)
    return XIError(f"The request failed with HTTP {status}{tag}{said}.", **common)

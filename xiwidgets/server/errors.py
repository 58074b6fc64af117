"""Errors shaped like the hosted API's: ``{"detail": {"status": code, "message": text}}``."""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

# Longest part of a 422 ``loc`` echoed back (a dict key comes from the client's own body).
MAX_LOCATION_PART = 100
# Not an HTTP status anyone receives: the answer to a client that has already gone (nginx's
# "client closed request"), seen only in the access log.
CLIENT_CLOSED_REQUEST = 499


class APIError(Exception):
    """An error answered as ``{"detail": {"status": status, "message": message}}``.

    Parameters
    ----------
    status_code : int
        HTTP status.
    status : str
        Machine-readable code, e.g. ``voice_not_found``.
    message : str
        One readable sentence saying what is wrong and how to fix it.
    headers : dict or None
        Extra response headers (``Retry-After`` for 429).
    """

    def __init__(
        self, status_code: int, status: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.status = status
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body the hosted API sends for this error."""
        return {"detail": {"status": self.status, "message": self.message}}


class PlainAPIError(APIError):
    """An error the spec shapes as ``{"error": code, "message": text}`` (history download)."""

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error", "message"}`` at top level."""
        return {"error": self.status, "message": self.message}


def history_item_not_found(history_item_id: str) -> APIError:
    """404 for an unknown history item id."""
    return APIError(
        404,
        "history_item_not_found",
        f"A history item with id {history_item_id!r} does not exist.",
    )


def invalid_api_key() -> APIError:
    """401 for a missing or wrong ``xi-api-key``."""
    return APIError(
        401,
        "invalid_api_key",
        "Invalid API key: send one of the server's keys in the 'xi-api-key' header.",
    )


def validation_error(
    location: list[Any], message: str, error_type: str = "value_error"
) -> JSONResponse:
    """A FastAPI-style 422 list for a parameter the spec declares as an enum or schema."""
    return JSONResponse(
        status_code=422,
        content={"detail": [{"loc": location, "msg": message, "type": error_type}]},
    )


class UnprocessableParameterError(Exception):
    """A schema violation found after parsing (e.g. an ``output_format`` outside the enum)."""

    def __init__(self, location: list[Any], message: str, error_type: str = "enum") -> None:
        super().__init__(message)
        self.location = location
        self.message = message
        self.error_type = error_type


async def handle_api_error(request: Request, exc: APIError) -> JSONResponse:
    """Render an :class:`APIError` as the hosted API does."""
    return JSONResponse(status_code=exc.status_code, content=exc.body(), headers=exc.headers)


async def handle_unprocessable(request: Request, exc: UnprocessableParameterError) -> JSONResponse:
    """Render an :class:`UnprocessableParameterError` as a FastAPI 422 detail list."""
    return validation_error(exc.location, exc.message, exc.error_type)


async def handle_request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 list ``{"detail": [{"loc", "msg", "type"}]}``, without echoing the input.

    FastAPI's own handler sends each error's ``input`` back (and ``ctx`` as it is): an input
    of ``NaN`` or ``Infinity`` (which Python's JSON parser accepts) cannot be encoded as JSON,
    and a huge one would be sent back whole. ``ctx`` (a bound, or why the JSON did not parse)
    is kept, each value a finite number or a short string.
    """
    detail = []
    for error in exc.errors():
        item: dict[str, Any] = {
            "loc": [_short(part) for part in error["loc"]],
            "msg": str(error["msg"]),
            "type": str(error["type"]),
        }
        if error.get("ctx"):
            item["ctx"] = {str(key): _finite_or_short(value) for key, value in error["ctx"].items()}
        detail.append(item)
    return JSONResponse(status_code=422, content={"detail": detail})


def _finite_or_short(value: object) -> float | int | str:
    if isinstance(value, int | float) and math.isfinite(value):
        return value
    return _short(value)


def _short(part: object) -> str | int:
    if isinstance(part, int):
        return part
    # A key of the client's JSON may hold a lone surrogate, which UTF-8 cannot encode.
    text = str(part).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= MAX_LOCATION_PART else text[:MAX_LOCATION_PART] + "…"


async def handle_client_disconnect(request: Request, exc: ClientDisconnect) -> Response:
    """The client left before its answer was ready; nothing is sent to anyone."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A failure the server did not foresee: a 500 in the hosted shape, with the request id."""
    request_id = request.scope.get("state", {}).get("request_id", "unknown")
    return JSONResponse(
        status_code=500,
        content={
            "detail": {
                "status": "internal_server_error",
                "message": f"The server failed on this request ({type(exc).__name__}); "
                f"quote request id {request_id} when reporting it.",
            }
        },
    )


_HTTP_STATUS_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}
_READABLE_DETAILS = {
    "There was an error parsing the body": (
        "The request body could not be read: send UTF-8 JSON (multipart form data for voice "
        "uploads)."
    ),
    "Not Found": "No such endpoint on this server; check the path and the API version (v1/v2).",
}


async def handle_http_exception(request: Request, exc: HTTPException) -> JSONResponse:
    """Framework errors (unreadable body, unknown path, wrong method) in the hosted shape."""
    detail: Any = exc.detail
    if isinstance(detail, str):
        detail = {
            "status": _HTTP_STATUS_CODES.get(exc.status_code, "http_error"),
            "message": _READABLE_DETAILS.get(detail, detail),
        }
    return JSONResponse(
        status_code=exc.status_code, content={"detail": detail}, headers=exc.headers
    )

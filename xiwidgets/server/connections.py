"""Bound the connections a client can hold open without sending a request.

uvicorn closes a kept-alive connection a few seconds after its last response, but a connection
that never sends a byte, or sends half a request line and stops, stays open for good, and so
does one whose request body stops arriving; a few thousand of them exhaust the server's file
descriptors. :class:`GuardedH11Protocol` is uvicorn's h11 protocol with three bounds:

- the request headers must be complete within ``header_timeout_s`` of the connection opening
  (or of the previous response ending); a trickle of bytes does not extend the deadline;
- a request body must keep arriving: a pause longer than ``header_timeout_s`` ends it (a pause
  the server caused by not reading does not count);
- one client address holds at most ``max_connections_per_client`` connections: at the cap, the
  oldest connection that is waiting for a request (one that never completed a request first) is
  closed to make room, so a real client still gets in while idle sockets churn. Only when every
  connection of that address has a request in progress is the newcomer answered 503.

The server answers ``408`` to a request that started but did not finish in time, and closes
silently a connection that sent nothing.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def _raw_response(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"detail": {"status": code, "message": message}}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode("ascii") + body


class ConnectionGuard:
    """One server's bounds and the open connections of each client address.

    Parameters
    ----------
    header_timeout_s : float
        Seconds allowed for a request's headers, and for any pause in its body.
    max_connections_per_client : int
        Connections one client address may hold open at once.
    """

    def __init__(self, header_timeout_s: float, max_connections_per_client: int) -> None:
        self.header_timeout_s = header_timeout_s
        self.max_connections_per_client = max_connections_per_client
        # Per address, connections in the order they opened (dicts keep insertion order).
        self._by_client: dict[str | None, dict[GuardedH11Protocol, None]] = {}

    def open_connections(self, client: str | None = None) -> int:
        """Connections counted now, for one client address or for all of them."""
        if client is not None:
            return len(self._by_client.get(client, ()))
        return sum(len(held) for held in self._by_client.values())

    def admit(self, connection: GuardedH11Protocol) -> bool:
        """Count a new connection, closing an idle one of the same client at the cap.

        Returns
        -------
        bool
            False when the client is at the cap and every one of its connections is busy.
        """
        held = self._by_client.setdefault(connection.client_host, {})
        if len(held) >= self.max_connections_per_client:
            waiting = [c for c in held if c.waiting]
            never_served = [c for c in waiting if not c.served]
            victims = never_served or waiting
            if not victims:
                return False
            self.release(victims[0])
            victims[0].evict()
        held[connection] = None
        return True

    def release(self, connection: GuardedH11Protocol) -> None:
        """Stop counting ``connection`` (closed, upgraded to a WebSocket or evicted)."""
        held = self._by_client.get(connection.client_host)
        if held is not None:
            held.pop(connection, None)
            if not held:
                del self._by_client[connection.client_host]


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline, a body pause limit and a per-client cap.

    Parameters
    ----------
    config, server_state, app_state, _loop
        What uvicorn passes to every HTTP protocol.
    guard : ConnectionGuard
        The server's bounds and connection counts (shared by all its connections).
    """

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None, *,
                 guard: ConnectionGuard) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = guard
        self.client_host: str | None = None
        self.waiting = True  # no request in progress: waiting for the next request's headers
        self.served = False  # completed at least one request
        self.refused = False
        self.upgraded = False
        self._started_request = False  # bytes of a request head arrived while waiting
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def factory(cls, header_timeout_s: float, max_connections_per_client: int) -> Any:
        """The ``http=`` argument for ``uvicorn.Config``: this protocol with a fresh guard."""
        guard = ConnectionGuard(header_timeout_s, max_connections_per_client)
        return functools.partial(cls, guard=guard)

    # -- uvicorn's protocol interface ---------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.client_host = self.client[0] if self.client else None
        if not self.guard.admit(self):
            # Answered once the request head is in (a response written before it is read
            # could be lost to a reset when the socket closes on unread data).
            self.refused = True
            self.app = self._too_many_connections
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        if self.waiting:
            self._started_request = True
        super().data_received(data)
        state = self.conn.their_state
        if self.upgraded or self.transport.is_closing() or (self.waiting and state is h11.IDLE):
            return  # no longer ours, closing, or still waiting for the headers (deadline runs)
        self.waiting = False  # the headers are complete: a request is in progress
        if state is h11.SEND_BODY:
            self._restart_timer(self._body_paused)
        else:
            self._cancel_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.served = True
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_headers()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        if self.refused:
            self._cancel_timer()
            self.transport.write(self._too_many_connections_body())
            self.transport.close()
            return
        # The WebSocket protocol takes the transport over; its sessions have their own limits.
        self._cancel_timer()
        self.waiting, self.upgraded = False, True
        self.guard.release(self)
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self.guard.release(self)
        super().connection_lost(exc)

    # -- the bounds ---------------------------------------------------------------------------

    def evict(self) -> None:
        """Close this idle connection to make room for a newer one of the same client."""
        self._cancel_timer()
        if not self.transport.is_closing():
            self.transport.close()

    def _await_headers(self) -> None:
        self.waiting = True
        self._started_request = False
        self._restart_timer(self._headers_late)

    def _headers_late(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self._started_request:
            self.transport.write(_raw_response(
                408, "Request Timeout", "request_timeout",
                f"The request headers did not arrive within {self.guard.header_timeout_s:g} s; "
                "the connection is closed.",
            ))
        self.transport.close()

    def _body_paused(self) -> None:
        self._timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.SEND_BODY:
            return
        if self.flow.read_paused:  # the server is not reading: the client is not to blame
            self._restart_timer(self._body_paused)
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_raw_response(
                408, "Request Timeout", "request_timeout",
                f"The request body stopped arriving for {self.guard.header_timeout_s:g} s; "
                "the connection is closed.",
            ))
        self.transport.close()

    def _restart_timer(self, callback: Any) -> None:
        self._cancel_timer()
        self._timer = self.loop.call_later(self.guard.header_timeout_s, callback)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_many_connections_body(self) -> bytes:
        return _raw_response(503, "Service Unavailable", "too_many_connections",
                             self._too_many_connections_message())

    def _too_many_connections_message(self) -> str:
        return (f"{self.client_host} already has {self.guard.max_connections_per_client} "
                "requests in progress on this server; retry when one has finished.")

    async def _too_many_connections(self, scope: Any, receive: Any, send: Any) -> None:
        body = json.dumps({"detail": {"status": "too_many_connections",
                                      "message": self._too_many_connections_message()}}).encode()
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"), (b"retry-after", b"1")]})
        await send({"type": "http.response.body", "body": body})

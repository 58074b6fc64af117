"""Keep reading a websocket while its session is busy, up to a budget of characters.

uvicorn stops reading a socket while a received message waits for the application. A
stream-input session that is speaking a long piece would then leave the client's keepalive
pings unanswered, and the client (``websockets`` pings every 20 s by default) would drop the
connection. A read-ahead task takes the messages off the socket as they come and holds them,
in order, until the session wants them; once ``budget`` characters are waiting it stops
reading, so a client that runs far ahead of the audio is held back by TCP instead of filling
the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]


class ReadAhead:
    """Messages read ahead of the session that consumes them.

    Parameters
    ----------
    receive : callable
        Reads and parses the next message; returns it with its size in characters (what it
        costs to hold), raises what the session should see at that point (a refusal, a
        disconnect).
    budget : int
        Characters held before reading pauses (at least one message is always read).
    is_last : callable
        Whether a message ends the input: nothing after it is read.
    """

    def __init__(
        self,
        receive: Callable[[], Awaitable[tuple[Message, int]]],
        budget: int,
        is_last: Callable[[Message], bool],
    ) -> None:
        self._receive = receive
        self._budget = budget
        self._is_last = is_last
        self._queue: asyncio.Queue[tuple[Message, int] | BaseException] = asyncio.Queue()
        self._held = 0
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start reading in a task of the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def stop(self) -> None:
        """Stop reading (the session has ended)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def has_waiting(self) -> bool:
        """Whether a message (or what reading one raised) is already held."""
        return not self._queue.empty()

    async def get(self, timeout: float) -> Message:
        """The next message, waiting at most ``timeout`` seconds.

        Raises
        ------
        TimeoutError
            Nothing arrived in time.
        Exception
            Whatever reading the message raised, in its place in the order of messages.
        """
        item = await asyncio.wait_for(self._queue.get(), timeout=timeout)
        if isinstance(item, BaseException):
            raise item
        message, size = item
        self._held -= size
        if self._held <= self._budget:
            self._room.set()
        return message

    async def _read(self) -> None:
        while True:
            await self._room.wait()
            try:
                message, size = await self._receive()
            except Exception as exc:  # handed to the session, which raises it in order
                self._queue.put_nowait(exc)
                return
            self._held += size
            if self._held > self._budget:
                self._room.clear()
            self._queue.put_nowait((message, size))
            if self._is_last(message):
                return

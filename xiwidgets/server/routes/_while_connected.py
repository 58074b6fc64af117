"""Blocking work for a request that stops when its client goes away.

Speech to text and forced alignment decode up to 20 minutes of audio for one request; a client
that hangs up (a closed notebook, a timeout and a retry) must not leave the one Whisper model
busy for the full length of a recording nobody will read about. A voice design speaks three
previews and bills its text: a client that gave up waiting (and may ask again) is not billed
for previews it never received.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from typing import TypeVar

from starlette.requests import ClientDisconnect, Request

from xiwidgets.server.domain_errors import NoLongerWantedError
from xiwidgets.server.routes._own_thread import in_own_thread

T = TypeVar("T")


async def while_connected(request: Request, work: Callable[[threading.Event], T],
                          thread_name: str = "xiwidgets-speech") -> T:
    """``work(stop)`` in a worker thread; ``stop`` is set if the client disconnects first.

    ``work`` raises :class:`~xiwidgets.server.domain_errors.NoLongerWantedError` when it sees
    ``stop`` and stops.

    Raises
    ------
    starlette.requests.ClientDisconnect
        The client went away and the work stopped (answered by the app's handler, which
        sends nothing).
    """
    stop = threading.Event()

    async def stop_on_disconnect() -> None:
        # The body has been read (the form is parsed before the route runs): the next
        # message is the disconnect.
        while (await request.receive())["type"] != "http.disconnect":
            pass
        stop.set()

    watcher = asyncio.create_task(stop_on_disconnect())
    try:
        # Its own thread: long work must not hold one of the loop's shared threads.
        return await in_own_thread(functools.partial(work, stop), thread_name)
    except NoLongerWantedError:
        raise ClientDisconnect from None
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher

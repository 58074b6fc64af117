"""Blocking work for a request that stops when its client goes away.

Speech to text and forced alignment decode up to 20 minutes of audio for one request; a client
that hangs up (a closed notebook, a timeout and a retry) must not leave the one Whisper model
busy for the full length of a recording nobody will read about.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from typing import TypeVar

from starlette.requests import ClientDisconnect, Request

from xiwidgets.server.routes._own_thread import in_own_thread
from xiwidgets.server.speech_recognition import RecognitionStoppedError

T = TypeVar("T")


async def while_connected(request: Request, work: Callable[[threading.Event], T]) -> T:
    """``work(stop)`` in a worker thread; ``stop`` is set if the client disconnects first.

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
        # Its own thread: a recognition must not hold one of the loop's shared threads.
        return await in_own_thread(functools.partial(work, stop), "xiwidgets-speech")
    except RecognitionStoppedError:
        raise ClientDisconnect from None
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher

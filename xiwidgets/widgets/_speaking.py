"""What the widgets that speak a take share (Studio, DialogueEditor): Speak in a worker thread or
the caller's, Stop, the stream played into the Player, and the status line and buttons."""

from __future__ import annotations

import contextlib
import html
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import ipywidgets as widgets
import traitlets

from xiwidgets.client.streaming import TimedAudioStream
from xiwidgets.widgets._base import ClientWidgetMixin

if TYPE_CHECKING:
    from xiwidgets.widgets.player import Player

StreamT = TypeVar("StreamT", bound=TimedAudioStream)


class SpeakingMixin(ClientWidgetMixin, traitlets.HasTraits):
    """Speak and Stop for a widget that streams one take at a time into its ``player``.

    A ``HasTraits``, so that its ``observe`` handler is bound to each widget.

    The widget has the traits ``status`` and ``busy``, and ``_speak_button``, ``_stop_button``
    and ``_status_line``; ``_media_type`` is the type its takes stream in.
    """

    status: str
    busy: bool
    player: Player
    _media_type: str
    _speak_button: widgets.Button
    _stop_button: widgets.Button
    _status_line: widgets.HTML
    hold_sync: Callable[[], contextlib.AbstractContextManager[None]]  # the widget's own

    def _init_speaking(self) -> None:
        self._worker: threading.Thread | None = None
        self._stop_requested = threading.Event()

    def stop(self) -> None:
        """Stop the take being generated and played."""
        if self.busy:
            self._stop_requested.set()
            self.player.stop()
            self.status = "stopped"

    def _stop_running(self) -> None:
        """Stop the take under way, if any, and wait for its thread to end."""
        if self.busy:
            self.stop()
            self._join()

    def _start_take(self, take: Callable[..., None], args: tuple[Any, ...], wait: bool,
                    thread_name: str) -> None:
        """Run ``take(*args)``: in the calling thread with ``wait``, else in a worker thread."""
        self._clear_error()
        self._stop_requested.clear()
        with self.hold_sync():  # one update of the widget's own state for the click
            self.busy = True
            self.status = "generating…"
        if wait:
            self._finish_take(take, args)
            return
        self._worker = threading.Thread(target=self._finish_take, args=(take, args),
                                        daemon=True, name=thread_name)
        self._worker.start()

    def _finish_take(self, take: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            take(*args)
        finally:
            # Only now: what the take updates (history, quota, callbacks) is up to date.
            self.busy = False

    def _play_take(self, open_stream: Callable[[], StreamT], text: str,
                   explain: Callable[[Exception], str | None] | None = None,
                   ) -> tuple[StreamT, bytes] | None:
        """Open the take's stream and play it as it arrives.

        Returns
        -------
        tuple of (stream, bytes) or None
            The stream (its response info) and the whole take; ``None`` when it failed (the
            error card says why) or was stopped (``status`` says when).
        """
        with self._reporting(explain=explain):
            stream = open_stream()
            if self._stop_requested.is_set():
                # Stop was pressed while the request was still being answered.
                stream.close()
                self._take_not_coming()
                self.status = "stopped before the first chunk"
                return None
            # The status line says so once the first chunk is on its way, not ahead of it.
            audio = self.player.play_stream(
                stream, content_type=self._media_type, text=text, raise_errors=True,
                on_first_chunk=lambda: setattr(self, "status", "streaming…"))
        if self.last_error is not None:
            self._take_not_coming()
            self.status = "failed"
            return None
        if self.player.status == "stopped":
            self.status = f"stopped after {self.player.duration:.1f} s of audio"
            return None
        return stream, audio or b""

    def _take_not_coming(self) -> None:
        """A take failed or was stopped before its audio: nothing to do unless the browser got
        ready for it when Speak was clicked."""

    def _join(self) -> None:
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join()

    @traitlets.observe("status", "busy")
    def _show_status(self, _change: traitlets.Bunch | None = None) -> None:
        self._status_line.value = html.escape(self.status)
        self._speak_button.disabled = self.busy
        self._stop_button.disabled = not self.busy

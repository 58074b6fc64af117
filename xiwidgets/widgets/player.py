"""Player: plays audio in the browser while it streams, then keeps the take per a notebook policy.

Live chunks travel as binary buffers of custom widget messages, which are transient: the notebook
file never grows by them. What is saved per take is the ``policy``: ``embed`` puts one compressed
``IPython.display.Audio`` in the player's output (at most one per cell: later takes replace it),
``link`` writes the take to a file beside the notebook and shows a link, ``none`` keeps nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import os
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import anywidget
import ipywidgets as widgets
import traitlets
from IPython import get_ipython
from IPython.display import Audio, display, update_display

from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT, OutputFormat, codec_of_media_type
from xiwidgets.widgets._audio import duration as audio_duration
from xiwidgets.widgets._base import ClientWidgetMixin

if TYPE_CHECKING:
    from xiwidgets.client import Client
    from xiwidgets.client.types import Alignment, TimedChunk

# What a player streams: audio bytes, or timed chunks whose character timings the browser uses
# to mark the word being spoken.
StreamItem: TypeAlias = "bytes | TimedChunk"

_STATIC = Path(__file__).parent / "static"
POLICIES = ("embed", "link", "none")
STATUSES = ("idle", "streaming", "done", "stopped", "error")
TAKES_DIR_NAME = "xiwidgets-takes"
# What the client streams when no format is asked for.
_DEFAULT_MEDIA_TYPE = OutputFormat.parse(DEFAULT_OUTPUT_FORMAT).media_type

# Which player holds the embedded take of each notebook cell (one embed per cell), and the
# display the running cell already shows a take in (later takes of that execution replace it).
_EMBED_HOLDERS: dict[str, weakref.ref[Player]] = {}
_LAST_CELL_DISPLAY: tuple[str | None, str | None] = (None, None)


def _kernel_parent() -> dict[str, Any]:
    """The message the kernel is handling now (``{}`` outside a kernel)."""
    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None or not hasattr(kernel, "get_parent"):
        return {}
    return kernel.get_parent() or {}


def _cell_key(parent: dict[str, Any]) -> str | None:
    metadata = parent.get("metadata") or {}
    header = parent.get("header") or {}
    return metadata.get("cellId") or header.get("msg_id")


def current_cell_key() -> str | None:
    """An id for the notebook cell now executing (JupyterLab's ``cellId``), if any."""
    return _cell_key(_kernel_parent())


def executing_cell() -> tuple[str, str] | None:
    """``(cell key, execution id)`` when called from a cell's own code while it runs.

    Button clicks arrive as comm messages and background threads have no cell: both return
    ``None``, and their takes go to the player's output widget instead.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    parent = _kernel_parent()
    header = parent.get("header") or {}
    if header.get("msg_type") != "execute_request":
        return None
    return _cell_key(parent) or header["msg_id"], header["msg_id"]


def take_extension(content_type: str) -> str:
    """File name suffix for a take of media type ``content_type`` (``".bin"`` if unknown)."""
    codec = codec_of_media_type(content_type)
    return codec.extension if codec is not None else ".bin"


class Player(ClientWidgetMixin, anywidget.AnyWidget):
    """Streams audio to the browser as it arrives and keeps the finished take.

    Parameters
    ----------
    client : Client, optional
        Kept for symmetry with the other widgets; the player itself makes no requests.
    policy : {"embed", "link", "none"}, default "embed"
        What the notebook keeps of each finished take (see the module docstring).
    takes_dir : str or Path, optional
        Where ``link`` writes takes; ``./xiwidgets-takes`` beside the notebook by default.

    Attributes
    ----------
    last_take : bytes or None
        The audio of the last take (kept in Python only, never synced).
    last_card_id : str or None
        The id of the last take's saved card (``data-xi-take``), ``None`` when none was saved.
    last_error : Exception or None
        Why the last take failed (also shown on the error card).
    take_output : ipywidgets.Output
        Where the saved take (``embed``/``link``) is shown.
    """

    _esm = _STATIC / "player.js"
    _css = _STATIC / "player.css"

    policy = traitlets.Enum(POLICIES, "embed", help="What the notebook keeps of a take.").tag(
        sync=True
    )
    status = traitlets.Enum(STATUSES, "idle", help="Where the current take is.").tag(sync=True)
    text = traitlets.Unicode("", help="Caption: the text being spoken.").tag(sync=True)
    content_type = traitlets.Unicode(_DEFAULT_MEDIA_TYPE, help="Media type of the take.").tag(
        sync=True
    )
    bytes_received = traitlets.Int(0, help="Audio bytes of this take received so far.").tag(
        sync=True
    )
    chunks_received = traitlets.Int(0, help="Audio chunks of this take received so far.").tag(
        sync=True
    )
    duration = traitlets.Float(0.0, help="Seconds of audio in the finished take.").tag(sync=True)
    playing = traitlets.Bool(False, help="Reported by the browser: the audio is playing.").tag(
        sync=True
    )
    position = traitlets.Float(0.0, help="Reported by the browser: playback position (s).").tag(
        sync=True
    )

    def __init__(self, client: Client | None = None, policy: str = "embed",
                 takes_dir: str | Path | None = None, **kwargs: Any) -> None:
        self._init_client(client)
        self.last_take: bytes | None = None
        self.last_card_id: str | None = None
        self.take_output = widgets.Output()
        self.take_output.add_class("xi-take")
        self.takes_dir = Path(takes_dir) if takes_dir is not None else None
        self.cell_key: str | None = None
        self._stop_requested = threading.Event()
        self._take_lock = threading.Lock()
        self._current_chunks: Iterable[StreamItem] | None = None
        self._view: widgets.VBox | None = None
        super().__init__(policy=policy, **kwargs)
        self.add_class("xi-player")

    # -- display ------------------------------------------------------------------------------

    @property
    def view(self) -> widgets.VBox:
        """The player with its error card and saved take, as one box to put in a layout."""
        if self._view is None:
            self._view = widgets.VBox([self, self.error_card, self.take_output])
            self._view.add_class("xi-player-box")
        return self._view

    def _ipython_display_(self) -> None:
        self.cell_key = current_cell_key()
        display(self.view)

    # -- playing ------------------------------------------------------------------------------

    def play_stream(self, chunks: Iterable[StreamItem], *, content_type: str = _DEFAULT_MEDIA_TYPE,
                    text: str | None = None, raise_errors: bool = False,
                    on_first_chunk: Callable[[], object] | None = None) -> bytes | None:
        """Play audio chunks as they arrive; return the whole take when the stream ends.

        Each chunk goes to the browser at once as a binary message, so playback starts with the
        first chunk. The finished take is kept according to ``policy``.

        Parameters
        ----------
        chunks : iterable of bytes or TimedChunk
            The audio, e.g. ``client.tts.stream(...)``; with
            ``client.tts.stream_with_timestamps(...)`` the caption marks the word being spoken.
        content_type : str, default "audio/mpeg"
            Media type of the audio (that of ``DEFAULT_OUTPUT_FORMAT`` by default).
        text : str, optional
            Caption shown with the player.
        raise_errors : bool, default False
            Re-raise a failure after showing it (for callers that report it themselves).
        on_first_chunk : callable, optional
            Called once, right after the first chunk went to the browser (e.g. to send the
            caller's own widget updates after it, not ahead of the audio).

        Returns
        -------
        bytes or None
            The take (``None`` when the stream failed; a stopped take returns what arrived).
        """
        with self._take_lock:
            return self._play(chunks, content_type, text, raise_errors, on_first_chunk)

    def play_bytes(self, data: bytes, *, content_type: str = _DEFAULT_MEDIA_TYPE,
                   text: str | None = None) -> bytes | None:
        """Play a complete piece of audio (sent to the browser as one binary message).

        Parameters
        ----------
        data : bytes
            The audio file's bytes.
        content_type : str, default "audio/mpeg"
            Its media type.
        text : str, optional
            Caption shown with the player.

        Returns
        -------
        bytes or None
            ``data`` once played, ``None`` on failure.
        """
        return self.play_stream([data], content_type=content_type, text=text)

    def stop(self) -> None:
        """Stop the take now playing: the browser stops and the stream is closed."""
        if self.status != "streaming":
            return
        self._stop_requested.set()
        self.send({"type": "stop"})
        self.status = "stopped"
        # Closing the HTTP stream from here unblocks the thread waiting for the next chunk.
        close = getattr(self._current_chunks, "close", None)
        if close is not None:
            # A generator that is running raises ValueError here; it stops at its next chunk.
            with contextlib.suppress(Exception):
                close()

    def cancel_pending(self) -> None:
        """Tell the browser no take is coming: a Speak it got ready for was refused or stopped.

        The browser opens the take's media source when Speak is clicked, before the server's
        first audio; this gives the player back the take it showed before.
        """
        self.send({"type": "cancel"})

    def save(self, path: str | Path) -> Path:
        """Write the last take to ``path`` and return it."""
        if self.last_take is None:
            raise ValueError("No take yet: play something first.")
        path = Path(path)
        path.write_bytes(self.last_take)
        return path

    # -- internals ----------------------------------------------------------------------------

    def _play(self, chunks: Iterable[StreamItem], content_type: str, text: str | None,
              raise_errors: bool, on_first_chunk: Callable[[], object] | None) -> bytes | None:
        self._stop_requested.clear()
        self._clear_error()
        self._current_chunks = chunks
        self.last_card_id = None
        # Ahead of the audio, as the player's own line says "streaming" while the first chunk
        # is still coming (the state of the last take would be wrong there).
        with self.hold_sync():
            # First: whoever watches the status sees the new take's position. The browser
            # reports positions only once the new take has data.
            self.position = 0.0
            self.status = "streaming"
            self.text = text or ""
            self.content_type = content_type
            self.bytes_received = 0
            self.chunks_received = 0
            self.duration = 0.0
        # The browser names its download after the extension: JavaScript keeps no format table.
        self.send({"type": "start", "content_type": content_type,
                   "extension": take_extension(content_type), "text": text or ""})
        parts: list[bytes] = []
        with self._reporting(reraise=raise_errors):
            self._forward(chunks, parts, on_first_chunk or (lambda: None))
            return self._finish(b"".join(parts), content_type)
        return None

    def _forward(self, chunks: Iterable[StreamItem], parts: list[bytes],
                 first_chunk_sent: Callable[[], object]) -> None:
        """Send each chunk to the browser as it arrives, collecting them in ``parts``;
        ``first_chunk_sent()`` is called after the first.

        A failure after a stop is the stream being closed under it, not an error; any other
        failure keeps what arrived, tells the browser and propagates.
        """
        try:
            for item in chunks:
                if self._stop_requested.is_set():
                    break
                chunk = item if isinstance(item, (bytes, bytearray, memoryview)) else item.audio
                alignment = None if chunk is item else item.alignment  # type: ignore[union-attr]
                if chunk:
                    # The audio first: the words it carries are highlighted only once it
                    # plays, so its timing message may follow it.
                    self.send({"type": "chunk", "index": len(parts)}, buffers=[chunk])
                    parts.append(bytes(chunk))
                if alignment is not None:
                    self.send(_alignment_message(alignment))
                if chunk:
                    with self.hold_sync():
                        self.bytes_received += len(chunk)
                        self.chunks_received += 1
                    if len(parts) == 1:
                        first_chunk_sent()
        except Exception as error:
            if self._stop_requested.is_set():
                return
            self.last_take = b"".join(parts) or None
            self.send({"type": "error", "message": str(error)})
            self.status = "error"
            raise
        finally:
            self._current_chunks = None
            if self._stop_requested.is_set():
                with contextlib.suppress(Exception):
                    getattr(chunks, "close", lambda: None)()

    def _finish(self, take: bytes, content_type: str) -> bytes:
        """Keep the finished (or stopped) take and tell the browser it is complete."""
        self.last_take = take
        self.duration = audio_duration(take, content_type)
        if self._stop_requested.is_set():
            self.status = "stopped"
            return take
        take_id = uuid.uuid4().hex
        # The browser's live player becomes the take's one control: it hides the saved
        # card's own <audio> (marked with this id) while it holds the same take.
        self.send({"type": "end", "bytes": len(take), "take": take_id})
        self.status = "done"
        self._keep(take, content_type, take_id)
        return take

    def _keep(self, take: bytes, content_type: str, take_id: str) -> None:
        if self.policy == "none" or not take:
            return
        self.last_card_id = take_id
        if self.policy == "embed":
            audio = Audio(data=take)
            audio.mimetype = content_type  # IPython assumes WAV for raw bytes
            entry = {"text/html": _take_card(audio._repr_html_(), take_id),
                     "text/plain": f"<audio: {self.text!r}>"}
        else:
            entry = self._link_output(self._write_take(take, content_type), take_id)
        running = executing_cell()
        if running is not None:
            self._show_in_cell(entry, *running)
            return
        self._claim_cell(self.cell_key or f"player-{id(self)}")
        self.take_output.outputs = (
            {"output_type": "display_data", "data": entry, "metadata": {}},
        )

    def _show_in_cell(self, entry: dict[str, str], cell_key: str, execution_id: str) -> None:
        """A take finished while its cell runs (``speak(wait=True)``, ``%%speak``): it becomes
        the cell's own output, saved with the notebook whatever the widget-state setting."""
        global _LAST_CELL_DISPLAY
        self._claim_cell(cell_key)
        shown_execution, display_id = _LAST_CELL_DISPLAY
        if shown_execution == execution_id:
            update_display(entry, raw=True, display_id=display_id)
        else:
            display_id = f"xi-take-{uuid.uuid4().hex}"
            display(entry, raw=True, display_id=display_id)
            _LAST_CELL_DISPLAY = (execution_id, display_id)

    def _claim_cell(self, key: str) -> None:
        """Make this player the only one in its cell that holds an embedded take."""
        holder_ref = _EMBED_HOLDERS.get(key)
        holder = holder_ref() if holder_ref is not None else None
        if holder is not None:
            holder.take_output.outputs = ()
        _EMBED_HOLDERS[key] = weakref.ref(self)

    def _write_take(self, take: bytes, content_type: str) -> Path:
        directory = self.takes_dir or Path.cwd() / TAKES_DIR_NAME
        directory.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = directory / f"take-{stamp}{take_extension(content_type)}"
        path.write_bytes(take)
        return path

    def _link_output(self, path: Path, take_id: str) -> dict[str, str]:
        try:
            # Relative to the kernel's directory, which is the notebook's: JupyterLab resolves
            # relative links in outputs against the notebook, so the file plays from there.
            href = os.path.relpath(path, Path.cwd()).replace(os.sep, "/")
        except ValueError:  # another drive on Windows
            href = path.as_uri()
        link = html.escape(href, quote=True)
        card = (f'<audio controls class="xi-take-audio" src="{link}"></audio> '
                f'<a href="{link}" download>{html.escape(path.name)}</a>')
        return {"text/html": _take_card(card, take_id), "text/plain": str(path)}


def _alignment_message(alignment: Alignment) -> dict[str, object]:
    """The characters a chunk covers and their take-relative times, for the caption."""
    return {"type": "alignment", "characters": list(alignment.characters),
            "starts": list(alignment.character_start_times_seconds),
            "ends": list(alignment.character_end_times_seconds)}


def _take_card(inner_html: str, take_id: str) -> str:
    """The saved take's HTML, marked so that the live player showing it can find it."""
    return f'<div class="xi-take-card" data-xi-take="{html.escape(take_id)}">{inner_html}</div>'

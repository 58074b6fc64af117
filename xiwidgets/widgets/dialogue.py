"""DialogueEditor: rows of voice + line, reordered at will, spoken as one take of several voices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets
from ipywidgets.widgets.widget import CallbackDispatcher

from xiwidgets.client.types import ResponseInfo, Take
from xiwidgets.formats import NOTEBOOK_OUTPUT_FORMAT, codec_of_format
from xiwidgets.widgets._frontend import styled
from xiwidgets.widgets._speaking import SpeakingMixin
from xiwidgets.widgets.player import Player, current_cell_key

if TYPE_CHECKING:
    from xiwidgets.client import Client
    from xiwidgets.client.voices import VoiceRef


class DialogueRow(widgets.HBox):  # type: ignore[misc]  # ipywidgets has no annotations
    """One line of the dialogue: who speaks, what they say, and the buttons to move it."""

    def __init__(self, options: list[tuple[str, str]], voice_id: str | None, text: str) -> None:
        self.voice = widgets.Dropdown(options=options, value=voice_id, tooltip="Speaker",
                                      layout=widgets.Layout(width="180px"))
        self.voice.add_class("xi-dialogue-voice")
        self.line = widgets.Text(value=text, placeholder="What this voice says…",
                                 tooltip="Line", layout=widgets.Layout(flex="1 1 auto"))
        self.line.add_class("xi-dialogue-line")
        self.up = widgets.Button(icon="arrow-up", tooltip="Move this line up",
                                 layout=widgets.Layout(width="36px"))
        self.up.add_class("xi-dialogue-up")
        self.down = widgets.Button(icon="arrow-down", tooltip="Move this line down",
                                   layout=widgets.Layout(width="36px"))
        self.down.add_class("xi-dialogue-down")
        self.remove = widgets.Button(icon="times", tooltip="Remove this line",
                                     layout=widgets.Layout(width="36px"))
        self.remove.add_class("xi-dialogue-remove")
        super().__init__([self.voice, self.line, self.up, self.down, self.remove])
        self.add_class("xi-dialogue-row")


class DialogueEditor(SpeakingMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """Write a dialogue line by line, a voice for each, and hear it as one take.

    Speak sends every non-empty line to ``client.dialogue.stream_with_timestamps`` and plays
    the take while it is generated; the server bills it once and keeps it in the history as one
    item.

    Parameters
    ----------
    client : Client, optional
        ``xiwidgets.connect()`` when omitted.
    lines : sequence of (text, voice), optional
        The rows to start with; the voice is a :class:`Voice`, a voice_id or a name. Two empty
        rows (the first two voices) by default.
    model_id : str, optional
        The model (the server's default when omitted).
    policy : {"embed", "link", "none"}, default "embed"
        What the notebook keeps of each take (see :class:`Player`).
    output_format : str, default "mp3_44100_64"
        The format takes stream and are kept in (one the browser plays live).

    Attributes
    ----------
    rows : list of DialogueRow
        The rows, in speaking order.
    selected_model_id : str or None
        The model takes are made with (``model_id`` is the widget's own comm id).
    player : Player
        Plays the takes.
    last_take : Take or None
        The last finished take.
    last_error : Exception or None
        Why the last action failed (also on the error card).
    """

    line_count = traitlets.Int(0, help="Rows in the dialogue.").tag(sync=True)
    status = traitlets.Unicode("ready", help="What the editor is doing.").tag(sync=True)
    busy = traitlets.Bool(False, help="A take is being generated.").tag(sync=True)

    def __init__(self, client: Client | None = None,
                 lines: Sequence[tuple[str, VoiceRef]] | None = None,
                 model_id: str | None = None, policy: str = "embed",
                 output_format: str = NOTEBOOK_OUTPUT_FORMAT, **kwargs: Any) -> None:
        codec = codec_of_format(output_format)
        if codec is None or not codec.live_in_browser:
            raise ValueError(f"the editor streams audio the browser plays live; got "
                             f"output_format={output_format!r}")
        self.output_format = output_format
        self.selected_model_id = model_id
        self._media_type = codec.media_type
        self._init_client(client)
        self.last_take: Take | None = None
        self._take_callbacks = CallbackDispatcher()
        self._init_speaking()
        self.rows: list[DialogueRow] = []
        self._options: list[tuple[str, str]] = []
        self.player = Player(client=self.client, policy=policy)
        self._rows_box = widgets.VBox()
        self._rows_box.add_class("xi-dialogue-rows")
        self._add_button = widgets.Button(description="Add line", icon="plus",
                                          tooltip="Add a line at the end")
        self._add_button.add_class("xi-dialogue-add")
        self._speak_button = widgets.Button(description="Speak", icon="volume-up",
                                            button_style="primary",
                                            tooltip="Speak the whole dialogue")
        self._speak_button.add_class("xi-speak")
        self._stop_button = widgets.Button(description="Stop", icon="stop", disabled=True,
                                           tooltip="Stop the take")
        self._stop_button.add_class("xi-stop")
        self._status_line = widgets.HTML()
        self._status_line.add_class("xi-status")
        super().__init__(**kwargs)
        self.add_class("xi-dialogue-editor")
        self.children = [
            self._rows_box,
            widgets.HBox([self._add_button, self._speak_button, self._stop_button,
                          self._status_line]),
            self.error_card,
            self.player.view,
        ]
        styled(self)
        self._add_button.on_click(lambda _button: self.add_line())
        self._speak_button.on_click(lambda _button: self.speak())
        self._stop_button.on_click(lambda _button: self.stop())
        self._load_voices()
        for text, voice in lines if lines is not None else self._default_lines():
            self.add_line(text, voice)
        self._show_status()

    # -- public API ---------------------------------------------------------------------------

    @property
    def lines(self) -> list[tuple[str, str]]:
        """``(text, voice_id)`` of every row, in order (empty rows included)."""
        return [(row.line.value, row.voice.value) for row in self.rows]

    def add_line(self, text: str = "", voice: VoiceRef | None = None,
                 index: int | None = None) -> DialogueRow:
        """Add a row (at the end, or before ``index``).

        Parameters
        ----------
        text : str
            What is said.
        voice : Voice or str, optional
            Who says it; by default the voice of the row before, else the first voice.
        index : int, optional
            Where the row goes.
        """
        position = len(self.rows) if index is None else max(0, min(index, len(self.rows)))
        voice_id = self._voice_id(voice) if voice is not None else self._next_voice(position)
        row = DialogueRow(self._options, voice_id, text)
        row.up.on_click(lambda _button: self.move_line(self.rows.index(row), -1))
        row.down.on_click(lambda _button: self.move_line(self.rows.index(row), +1))
        row.remove.on_click(lambda _button: self.remove_line(self.rows.index(row)))
        self.rows.insert(position, row)
        self._show_rows()
        return row

    def remove_line(self, index: int) -> None:
        """Remove the row at ``index``."""
        self.rows.pop(index).close()
        self._show_rows()

    def move_line(self, index: int, by: int) -> None:
        """Move the row at ``index`` by ``by`` places (clamped to the ends)."""
        target = max(0, min(index + by, len(self.rows) - 1))
        self.rows.insert(target, self.rows.pop(index))
        self._show_rows()

    def speak(self, wait: bool = False) -> Take | None:
        """Speak every non-empty row as one take, playing it while it is generated.

        Parameters
        ----------
        wait : bool, default False
            Run in the calling thread and return the finished take (``None`` on failure).
        """
        self._stop_running()
        inputs = [{"text": text, "voice_id": voice_id}
                  for text, voice_id in self.lines if text.strip()]
        if not inputs:
            self._report(ValueError("Nothing to say: write at least one line."))
            return None
        self.last_take = None
        self._start_take(self._take, (inputs,), wait, "xiwidgets-dialogue-take")
        return self.last_take if wait else None

    def on_take(self, callback: Callable[[Take], object], remove: bool = False) -> None:
        """Call ``callback(take)`` after each finished take (``remove=True`` unregisters)."""
        self._take_callbacks.register_callback(callback, remove=remove)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, object] | None:
        self.player.cell_key = current_cell_key()
        bundle: dict[str, object] | None = super()._repr_mimebundle_(**kwargs)
        return bundle

    # -- internals ----------------------------------------------------------------------------

    def _load_voices(self) -> None:
        with self._reporting():
            voices = self.client.voices.list()
            self._options = [(voice.name or voice.voice_id, voice.voice_id) for voice in voices]

    def _default_lines(self) -> list[tuple[str, VoiceRef]]:
        return [("", voice_id) for _, voice_id in self._options[:2]]

    def _voice_id(self, voice: VoiceRef) -> str | None:
        with self._reporting():
            return self.client.voices.resolve_id(voice)
        return None

    def _next_voice(self, position: int) -> str | None:
        if position > 0:
            return str(self.rows[position - 1].voice.value)
        return self._options[0][1] if self._options else None

    def _show_rows(self) -> None:
        self._rows_box.children = list(self.rows)
        for number, row in enumerate(self.rows):
            row.up.disabled = number == 0
            row.down.disabled = number == len(self.rows) - 1
        self.line_count = len(self.rows)

    def _take(self, inputs: list[dict[str, str]]) -> None:
        text = " ".join(line["text"] for line in inputs)
        played = self._play_take(
            lambda: self.client.dialogue.stream_with_timestamps(
                inputs=inputs, model_id=self.selected_model_id, output_format=self.output_format),
            text)
        if played is None:
            return
        stream, audio = played
        info: ResponseInfo = stream.info
        take = Take(audio, info, text=text, model_id=self.selected_model_id,
                    output_format=self.output_format, options={"inputs": inputs})
        self.last_take = take
        cost = f" · {info.character_cost:,} characters billed" if info.character_cost else ""
        self.status = f"done: {self.player.duration:.1f} s of audio{cost}"
        self._take_callbacks(take)

"""Studio: pick a voice and model, tune the settings, type, and hear the take while it streams."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets
from ipywidgets.widgets.widget import CallbackDispatcher

from xiwidgets.client.errors import QuotaExceeded
from xiwidgets.client.media import AudioFormat, audio_format, caption_line
from xiwidgets.client.types import PlayableAudio
from xiwidgets.client.types import VoiceSettings as ClientVoiceSettings
from xiwidgets.formats import CODECS, NOTEBOOK_OUTPUT_FORMAT, codec_of_format
from xiwidgets.widgets._frontend import Frontend, styled
from xiwidgets.widgets._speaking import SpeakingMixin
from xiwidgets.widgets.history import HistoryTable
from xiwidgets.widgets.models import ModelPicker
from xiwidgets.widgets.player import Player, current_cell_key
from xiwidgets.widgets.quota import QuotaMeter
from xiwidgets.widgets.settings import RANGES as SLIDER_RANGES
from xiwidgets.widgets.settings import VoiceSettings
from xiwidgets.widgets.voices import VoicePicker

if TYPE_CHECKING:
    from xiwidgets.client import Client
    from xiwidgets.client.types import HistoryItem
    from xiwidgets.client.types import VoiceSettings as SettingsValues
    from xiwidgets.client.voices import VoiceRef
    from xiwidgets.widgets.pronunciation import PronunciationEditor


@dataclass(frozen=True, repr=False)
class StudioTake(PlayableAudio):
    """A take the studio finished: what was said, how, and the audio (kept in Python only).

    As the value of a notebook cell it plays; ``.samples`` and ``.plot()`` work as on a
    :class:`~xiwidgets.client.Take`.
    """

    text: str
    voice_id: str
    model_id: str
    audio: bytes
    duration: float
    history_item_id: str | None = None
    request_id: str | None = None
    character_cost: int | None = None
    output_format: str = NOTEBOOK_OUTPUT_FORMAT
    # What else made it, as on a Take: settings sent, seed, and the request's timings (s).
    voice_settings: ClientVoiceSettings | None = None
    seed: int | None = None
    time_to_first_byte: float | None = field(default=None, compare=False)
    total_time: float | None = field(default=None, compare=False)
    # The card the Studio saved the take as (the take's one player in the notebook), if any.
    card_id: str | None = field(default=None, compare=False)
    _decoded: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                     compare=False)

    def _audio_format(self) -> AudioFormat:
        return audio_format(self.output_format)

    def _repr_html_(self) -> str:
        # A take the Studio saved already has its player in the notebook (the Studio's, or the
        # cell's own card): as a cell's value it names that take instead of adding a second.
        if self.card_id is None:
            return super()._repr_html_()
        return (f'<div class="xi-take-ref" data-xi-take-ref="{html.escape(self.card_id)}">'
                f"Take: {html.escape(self._caption())} · plays in the Studio's player</div>")

    def _caption(self) -> str:
        return caption_line(voice=self.voice_id, model_id=self.model_id, duration=self.duration,
                            character_cost=self.character_cost, request_id=self.request_id)

    def __repr__(self) -> str:
        return (f"StudioTake({len(self.audio)} bytes, {self.duration:.1f} s, voice_id="
                f"{self.voice_id!r}, model_id={self.model_id!r}, "
                f"history_item_id={self.history_item_id!r})")


SLIDER_NAMES = tuple(SLIDER_RANGES)


def section(title: str, *children: widgets.Widget) -> widgets.VBox:
    """A titled part of the Studio (voice, model, text, quota, history)."""
    heading = widgets.HTML(html.escape(title))
    heading.add_class("xi-section-title")
    box = widgets.VBox([heading, *children])
    box.add_class("xi-section")
    return box


def settings_summary(settings: VoiceSettings) -> str:
    """The settings section's title when closed: every value on one line."""
    parts = [f"stability {settings.stability:.2f}", f"similarity {settings.similarity_boost:.2f}"]
    if settings.style_enabled:
        parts.append(f"style {settings.style:.2f}")
    parts.append(f"speed {settings.speed:.2f}")
    if settings.speaker_boost_enabled:
        parts.append(f"speaker boost {'on' if settings.use_speaker_boost else 'off'}")
    return "Settings · " + " · ".join(parts)


def quota_message(needed: int, left: int, reset: str) -> str:
    """The one line shown when a take needs more characters than the quota has left."""
    when = f", resets on {reset}" if reset else ""
    return (f"quota exceeded: {needed:,} characters needed, {left:,} left{when}. "
            "Shorten the text or wait for the reset.")


class Studio(SpeakingMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """Everything to make speech in one widget: voice, model, settings, text, Speak, history.

    Parameters
    ----------
    client : Client, optional
        The client for every part of the studio; ``xiwidgets.connect()`` when omitted.
    voice : str or Voice, optional
        The voice selected first (id, name or ``Voice``).
    model_id : str, optional
        The model selected first (``eleven_multilingual_v2`` by default).
    text : str, default ""
        Text in the text box.
    policy : {"embed", "link", "none"}, default "embed"
        What the notebook keeps of each take (see :class:`Player`).
    output_format : str, default "mp3_44100_64"
        The MP3 format takes are streamed and kept in; 64 kb/s keeps saved notebooks small.

    Attributes
    ----------
    voice_picker, model_picker, voice_settings, player, quota, history
        The parts (``history`` is the :class:`HistoryTable` below the player).
    last_take : StudioTake or None
        The last finished take.
    last_error : Exception or None
        Why the last action failed (also shown on the error card).
    """

    text = traitlets.Unicode("", help="The text to speak.").tag(sync=True)
    status = traitlets.Unicode("ready", help="One line saying what the studio is doing.").tag(
        sync=True
    )
    busy = traitlets.Bool(False, help="A take is being generated.").tag(sync=True)
    _pronunciation: PronunciationEditor | None = None
    character_count = traitlets.Int(0, help="Characters in the text.").tag(sync=True)
    estimated_cost = traitlets.Int(0, help="Credits the text would cost with this model.").tag(
        sync=True
    )

    def __init__(self, client: Client | None = None, voice: VoiceRef | None = None,
                 model_id: str | None = None, text: str = "", policy: str = "embed",
                 output_format: str = NOTEBOOK_OUTPUT_FORMAT, **kwargs: Any) -> None:
        codec = codec_of_format(output_format)
        if codec is None or not codec.live_in_browser:
            # The browser plays the live stream through MediaSource, which takes only these.
            live = " or ".join(c.name.upper() for c in CODECS.values() if c.live_in_browser)
            raise ValueError(f"the studio streams {live}; got output_format={output_format!r}")
        self.output_format = output_format
        self._media_type = codec.media_type
        self._init_client(client)
        shared = self.client
        self.last_take: StudioTake | None = None
        self._take_callbacks = CallbackDispatcher()
        self._init_speaking()
        self._finished_take: StudioTake | None = None
        self.voice_picker = VoicePicker(client=shared, voice=voice)
        self.model_picker = ModelPicker(client=shared, **({"model_id": model_id} if model_id
                                                            else {}))
        self.voice_settings = VoiceSettings(client=shared, voice_id=self.voice_picker.voice_id,
                                            model=self.model_picker)
        # The browser opens the take's media source of this type when Speak is clicked.
        self.player = Player(client=shared, policy=policy, content_type=self._media_type)
        self.quota = QuotaMeter(client=shared)
        self.history = HistoryTable(client=shared, page_size=10)
        self.history.on_open(self.restore)
        self._text_area = widgets.Textarea(placeholder="Type what to say…", rows=4,
                                           tooltip="Text to speak (Ctrl+Enter speaks)",
                                           continuous_update=True)
        self._text_area.add_class("xi-text")
        self._count = widgets.HTML()
        self._count.add_class("xi-count")
        self._speak_button = widgets.Button(description="Speak", icon="volume-up",
                                            button_style="primary")
        self._speak_button.add_class("xi-speak")
        self._stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
        self._stop_button.add_class("xi-stop")
        self._status_line = widgets.HTML()
        self._status_line.add_class("xi-status")
        self._settings_section = widgets.Accordion(children=[self.voice_settings])
        self._settings_section.add_class("xi-settings-section")
        self._keys_hint = widgets.HTML("Ctrl+Enter speaks · Esc stops")
        self._keys_hint.add_class("xi-hint")
        super().__init__(**kwargs)
        self.add_class("xi-studio")
        self.children = [
            section("Voice", self.voice_picker),
            section("Model", self.model_picker),
            self._settings_section,
            section("Text", self._text_area, self._count),
            widgets.HBox([self._speak_button, self._stop_button, self._status_line,
                          self._keys_hint]),
            self.error_card,
            self.player.view,
            section("Quota", self.quota),
            section("History", self.history),
        ]
        self._frontend = styled(self, Frontend(on_key=self._on_key))
        traitlets.link((self, "text"), (self._text_area, "value"))
        self.voice_picker.observe(self._on_voice, names="voice_id")
        self.model_picker.observe(self._update_count, names="selected_model_id")
        self.quota.observe(self._update_count, names=["character_count", "character_limit"])
        self._speak_button.on_click(lambda _button: self.speak())
        self._stop_button.on_click(lambda _button: self.stop())
        self.voice_settings.observe(self._summarize_settings,
                                    names=[*SLIDER_NAMES, "use_speaker_boost", "style_enabled",
                                           "speaker_boost_enabled"])
        self.text = text
        self._update_count()
        self._show_status()
        self._summarize_settings()

    # -- public API ---------------------------------------------------------------------------

    def speak(self, text: str | None = None, wait: bool = False) -> StudioTake | None:
        """Speak ``text`` (or the text box) with the chosen voice, model and settings.

        The take streams in a background thread so the kernel stays responsive (the button's
        click returns at once); the Player plays it while it is generated.

        Parameters
        ----------
        text : str, optional
            Replaces the text box's content first.
        wait : bool, default False
            Run the take in the calling thread and return when it is finished (for scripts,
            tests and cells: the take is then saved as the cell's own output).

        Returns
        -------
        StudioTake or None
            With ``wait=True``, the finished take (``None`` if it failed or was stopped).
        """
        if text is not None:
            self.text = text
        self._stop_running()
        request = self._request()
        if request is None:
            self.player.cancel_pending()
            return None
        self._finished_take = None
        # With wait, in the caller's thread: a take finished by a cell's own code is saved as
        # that cell's output (see Player), and there is nothing to stay responsive for.
        self._start_take(self._take, request, wait, "xiwidgets-studio-take")
        return self._finished_take if wait else None

    def restore(self, item: HistoryItem) -> None:
        """Put a history item's voice, model, settings and text back into the studio.

        Parameters
        ----------
        item : HistoryItem
            A generation from the history (e.g. from the history table's "open in Studio").
        """
        try:
            if item.voice_id:
                self.voice_picker.voice_id = item.voice_id
            if item.model_id:
                self.model_picker.selected_model_id = item.model_id
        except traitlets.TraitError as error:
            self._report(error)
        self.voice_settings.apply(dict(item.settings or {}))
        self.text = item.text or ""
        self.status = f"restored from history ({item.history_item_id})"

    def on_take(self, callback: Callable[[StudioTake], object], remove: bool = False) -> None:
        """Call ``callback(take)`` after each finished take.

        Parameters
        ----------
        callback : callable
            Receives the :class:`StudioTake`.
        remove : bool, default False
            Unregister ``callback`` instead.
        """
        self._take_callbacks.register_callback(callback, remove=remove)

    def attach_pronunciation(self, editor: PronunciationEditor) -> None:
        """Say every take with ``editor``'s rules, show it below the text, lend it the voice.

        Parameters
        ----------
        editor : PronunciationEditor
            Its latest version is used by each take made after an edit.
        """
        self._pronunciation = editor
        editor.voice = self.voice_picker.voice_id or None
        self.voice_picker.observe(lambda change: setattr(editor, "voice", change["new"] or None),
                                  names="voice_id")
        text_section = 4  # after Voice, Model, Settings and Text
        self.children = [*self.children[:text_section], section("Pronunciation", editor),
                         *self.children[text_section:]]

    def _pronunciation_fields(self) -> dict[str, Any]:
        locators = self._pronunciation.locators if self._pronunciation is not None else []
        return {"pronunciation_dictionary_locators": locators} if locators else {}

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, object] | None:
        # The cell that shows the studio is the cell its embedded takes belong to.
        self.player.cell_key = current_cell_key()
        bundle: dict[str, object] | None = super()._repr_mimebundle_(**kwargs)
        return bundle

    # -- internals ----------------------------------------------------------------------------

    def _request(self) -> tuple[str, str, str, SettingsValues] | None:
        text = self.text
        if not text.strip():
            self._report(ValueError("Nothing to say: type some text first."))
            return None
        voice_id = self.voice_picker.voice_id
        if not voice_id:
            self._report(ValueError("No voice chosen: pick a voice first."))
            return None
        return text, voice_id, self.model_picker.selected_model_id, self.voice_settings.settings

    def _take(self, text: str, voice_id: str, model_id: str, settings: SettingsValues) -> None:
        played = self._play_take(
            # With timestamps: the player marks each word in the caption as it is spoken.
            lambda: self.client.tts.stream_with_timestamps(voice_id, text=text, model_id=model_id,
                                                           voice_settings=settings,
                                                           output_format=self.output_format,
                                                           **self._pronunciation_fields()),
            text, explain=lambda error: self._explain_failure(error, text))
        if played is None:
            return
        stream, audio = played
        info = stream.info
        take = StudioTake(text=text, voice_id=voice_id, model_id=model_id, audio=audio,
                          duration=self.player.duration, history_item_id=info.history_item_id,
                          request_id=info.request_id, character_cost=info.character_cost,
                          output_format=self.output_format,
                          voice_settings=stream.made_by.get("voice_settings"),
                          seed=stream.made_by.get("seed"),
                          time_to_first_byte=stream.made_by.get("time_to_first_byte"),
                          total_time=stream.total_time, card_id=self.player.last_card_id)
        self.last_take = self._finished_take = take
        cost = f" · {take.character_cost:,} characters billed" if take.character_cost else ""
        self.status = f"done: {take.duration:.1f} s of audio{cost}"
        self.quota.refresh()
        self.history.refresh()
        self._take_callbacks(take)

    def _explain_failure(self, error: Exception, text: str) -> str | None:
        """The card's line for a failed take: the numbers of the quota when that was the cause."""
        if not isinstance(error, QuotaExceeded):
            return None
        self.quota.refresh()
        needed = error.needed or round(len(text) * self.model_picker.character_cost_multiplier)
        left = self.quota.characters_left if error.left is None else error.left
        return quota_message(needed, left, self.quota.reset_date)

    def _take_not_coming(self) -> None:
        # The browser opened the take's media source when Speak was clicked.
        self.player.cancel_pending()

    def _on_voice(self, change: traitlets.Bunch) -> None:
        if change["new"]:
            self.voice_settings.voice_id = change["new"]

    @traitlets.observe("text")
    def _update_count(self, _change: traitlets.Bunch | None = None) -> None:
        count = len(self.text)
        limit = self.model_picker.max_characters
        cost = round(count * self.model_picker.character_cost_multiplier)
        left = self.quota.characters_left
        with self.hold_sync():
            self.character_count = count
            self.estimated_cost = cost
        over_limit = bool(limit) and count > limit
        over_quota = bool(self.quota.character_limit) and cost > left
        over = ' class="xi-over"'
        self._count.value = (
            f"<span{over if over_limit else ''}>{count:,} / {limit:,} characters per request"
            f"</span> · <span{over if over_quota else ''}>{left:,} left in quota</span>"
            f" · estimated cost {cost:,} credits"
        )

    def _summarize_settings(self, _change: traitlets.Bunch | None = None) -> None:
        self._settings_section.set_title(0, settings_summary(self.voice_settings))

    def _on_key(self, action: str, text: str | None) -> None:
        """Ctrl/Cmd+Enter in the text box (``speak``, with the box's text) or Esc (``stop``)."""
        if action == "stop":
            self.stop()
        elif not self.busy:
            self.speak(text)

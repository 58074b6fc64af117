"""VoicePicker: choose a voice by name, narrow the list with search and filters, hear a preview."""

from __future__ import annotations

import html
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets
from ipywidgets.widgets.widget import CallbackDispatcher

from xiwidgets.widgets._base import ClientWidgetMixin
from xiwidgets.widgets._frontend import styled
from xiwidgets.widgets.player import Player

if TYPE_CHECKING:
    from xiwidgets.client import Client
    from xiwidgets.client.types import Voice
    from xiwidgets.client.voices import VoiceRef

# Every picker alive in this kernel, so that adding or deleting a voice refreshes all of them.
_LIVE_PICKERS: weakref.WeakSet[VoicePicker] = weakref.WeakSet()

_ANY = ""
FILTERS = ("language", "gender", "accent", "category")


def notify_voices_changed() -> None:
    """Refresh every open :class:`VoicePicker` (called after a voice is added or deleted)."""
    for picker in list(_LIVE_PICKERS):
        picker.refresh()


def voice_languages(voice: Voice) -> list[str]:
    """Language codes a voice speaks, from its labels and its verified languages."""
    found = []
    label = (voice.labels or {}).get("language")
    if label:
        found.append(label)
    for entry in voice.verified_languages or ():
        code = entry.get("language") if isinstance(entry, dict) else None
        if code and code not in found:
            found.append(code)
    return found


def voice_facets(voice: Voice) -> dict[str, list[str]]:
    """The values of each filter (language, gender, accent, category) that ``voice`` matches."""
    labels = voice.labels or {}
    return {
        "language": voice_languages(voice),
        "gender": [labels["gender"]] if labels.get("gender") else [],
        "accent": [labels["accent"]] if labels.get("accent") else [],
        "category": [voice.category] if voice.category else [],
    }


def voice_matches(voice: Voice, search: str, filters: dict[str, str]) -> bool:
    """Whether ``voice`` passes the search text (name, description, labels) and every filter."""
    facets = voice_facets(voice)
    if any(wanted and wanted not in facets[name] for name, wanted in filters.items()):
        return False
    needle = search.strip().lower()
    if not needle:
        return True
    haystack = [voice.name or "", voice.description or "", voice.category or ""]
    haystack += [str(value) for value in (voice.labels or {}).values()]
    return any(needle in part.lower() for part in haystack)


def voice_label(voice: Voice) -> str:
    """``"Joe — male, american"``: the name and the labels that tell voices apart."""
    labels = voice.labels or {}
    traits = [labels[key] for key in ("gender", "accent", "age") if labels.get(key)]
    name = voice.name or voice.voice_id
    return f"{name} — {', '.join(traits)}" if traits else name


class VoicePicker(ClientWidgetMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """Pick a voice by name, with search, filters and a preview of the voice's sample.

    Parameters
    ----------
    client : Client, optional
        The client to list voices with; ``xiwidgets.connect()`` when omitted.
    voice : str or Voice, optional
        The voice selected first: a voice id, a name (case-insensitive) or a ``Voice``.
        Defaults to the first voice listed.

    Attributes
    ----------
    last_error : Exception or None
        Why the last action failed (also shown on the widget's error card).
    """

    voice_id = traitlets.Unicode(None, allow_none=True, help="Id of the selected voice.").tag(
        sync=True
    )
    search = traitlets.Unicode("", help="Text the voice list is narrowed to.").tag(sync=True)
    language = traitlets.Unicode(_ANY, help="Language code filter ('' = any).").tag(sync=True)
    gender = traitlets.Unicode(_ANY, help="Gender label filter ('' = any).").tag(sync=True)
    accent = traitlets.Unicode(_ANY, help="Accent label filter ('' = any).").tag(sync=True)
    category = traitlets.Unicode(_ANY, help="Category filter ('' = any).").tag(sync=True)
    voice_count = traitlets.Int(0, help="How many voices pass the search and filters.").tag(
        sync=True
    )

    def __init__(self, client: Client | None = None, voice: VoiceRef | None = None,
                 **kwargs: Any) -> None:
        self._voices: list[Voice] = []
        self._default_id: str | None = None
        self._init_client(client)
        self._change_callbacks = CallbackDispatcher()
        self._voice_dropdown = widgets.Dropdown(description="Voice", options=[])
        self._voice_dropdown.add_class("xi-voice-select")
        self._search_box = widgets.Text(placeholder="search voices", continuous_update=True,
                                        tooltip="Search voices by name, description or label",
                                        layout=widgets.Layout(width="150px"))
        self._search_box.add_class("xi-voice-search")
        self._filter_dropdowns = {name: widgets.Dropdown(options=[(f"any {name}", _ANY)])
                                  for name in FILTERS}
        for name, dropdown in self._filter_dropdowns.items():
            dropdown.add_class(f"xi-voice-{name}")
            dropdown.layout.width = "140px"
            dropdown.tooltip = f"Show only voices of this {name}"
        self._preview_button = widgets.Button(description="Preview", icon="play",
                                              tooltip="Play this voice's sample")
        self._preview_button.add_class("xi-preview")
        self._info = widgets.HTML()
        self._info.add_class("xi-voice-info")
        self._preview_player: Player | None = None
        self._preview_box = widgets.Box()
        super().__init__(**kwargs)
        self.add_class("xi-voice-picker")
        self.children = [
            widgets.HBox([self._voice_dropdown, self._preview_button]),
            widgets.HBox([self._search_box, *self._filter_dropdowns.values()]),
            self._info,
            self.error_card,
            self._preview_box,
        ]
        styled(self)
        traitlets.link((self, "search"), (self._search_box, "value"))
        for name, dropdown in self._filter_dropdowns.items():
            traitlets.link((self, name), (dropdown, "value"))
        self._voice_dropdown.observe(self._on_dropdown, names="value")
        self._preview_button.on_click(lambda _button: self.preview())
        self.observe(self._apply_filters, names=["search", *FILTERS])
        _LIVE_PICKERS.add(self)
        self._load(initial=voice)

    # -- public API ---------------------------------------------------------------------------

    @property
    def voices(self) -> list[Voice]:
        """Every voice listed by the server (before search and filters)."""
        return list(self._voices)

    @property
    def voice(self) -> Voice | None:
        """The selected ``Voice`` (``None`` while nothing is selected)."""
        return self._by_id().get(self.voice_id) if self.voice_id else None

    @voice.setter
    def voice(self, value: VoiceRef) -> None:
        self.voice_id = self._id_of(value)

    def refresh(self) -> None:
        """List the voices again, keeping the selection when the voice still exists."""
        self._load(initial=self.voice_id)

    def preview(self) -> bytes | None:
        """Play the selected voice's preview sample; return its bytes (``None`` on failure).

        The sample is fetched in Python through the client's session, because the browser may
        not be able to reach the server's URL.
        """
        voice = self.voice
        if voice is None or not voice.preview_url:
            self._report(ValueError("This voice has no preview sample; speak a short text."))
            return None
        with self._reporting():
            data = self.client.voices.preview(voice)
            self._player().play_bytes(data, text=f"Preview: {voice.name}")
            return data
        return None

    def on_change(self, callback: Callable[[Voice | None], object], remove: bool = False) -> None:
        """Call ``callback(voice)`` whenever the selected voice changes.

        Parameters
        ----------
        callback : callable
            Receives the newly selected ``Voice`` (or ``None``).
        remove : bool, default False
            Unregister ``callback`` instead.
        """
        self._change_callbacks.register_callback(callback, remove=remove)

    def close(self) -> None:
        """Close the widget and stop refreshing it when voices change."""
        _LIVE_PICKERS.discard(self)
        super().close()

    # -- traits -------------------------------------------------------------------------------

    @traitlets.validate("voice_id")
    def _validate_voice_id(self, proposal: traitlets.Bunch) -> str | None:
        value: str | None = proposal["value"]
        if value is None or not self._voices:
            return value
        return self._id_of(value)

    @traitlets.observe("voice_id")
    def _on_voice_id(self, change: traitlets.Bunch) -> None:
        voice = self.voice
        if voice is not None and voice.voice_id not in self._visible_ids():
            # Selecting a voice that the filters hide clears the filters, rather than hiding it.
            with self.hold_trait_notifications():
                self.search = ""
                for name in FILTERS:
                    setattr(self, name, _ANY)
        self._voice_dropdown.value = self.voice_id if voice is not None else None
        self._show_info()
        if change["old"] != change["new"]:
            self._change_callbacks(voice)

    # -- internals ----------------------------------------------------------------------------

    def _load(self, initial: VoiceRef | None) -> None:
        voices = None
        with self._reporting():
            voices = self.client.voices.list()
        # Shown outside the block: an unknown ``initial`` is reported there and must stay shown.
        if voices is not None:
            self._show_voices(voices, initial)

    def _show_voices(self, voices: list[Voice], initial: VoiceRef | None) -> None:
        # Listed by name, but the default is the server's first voice (its recommended one).
        self._voices = sorted(voices, key=lambda voice: (voice.name or voice.voice_id).lower())
        self._default_id = voices[0].voice_id if voices else None
        self._fill_filter_options()
        wanted = None
        if initial is not None:
            try:
                wanted = self._id_of(initial)
            except traitlets.TraitError as error:
                self._report(error)
        self._apply_filters()
        kept = self.voice_id if self.voice_id in self._by_id() else self._default_id
        self.voice_id = wanted or kept

    def _by_id(self) -> dict[str, Voice]:
        return {voice.voice_id: voice for voice in self._voices}

    def _id_of(self, value: VoiceRef) -> str:
        """The voice id for an id, a name or a ``Voice``; ``TraitError`` when it is unknown."""
        wanted: object = getattr(value, "voice_id", value)
        if isinstance(wanted, str) and wanted in self._by_id():
            return wanted
        for voice in self._voices:
            if (voice.name or "").lower() == str(wanted).strip().lower():
                return voice.voice_id
        names = ", ".join(voice.name or voice.voice_id for voice in self._voices[:8])
        raise traitlets.TraitError(f"unknown voice {wanted!r}; choose one of: {names}")

    def _filters(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FILTERS}

    def _visible(self) -> list[Voice]:
        return [v for v in self._voices if voice_matches(v, self.search, self._filters())]

    def _visible_ids(self) -> set[str]:
        return {voice.voice_id for voice in self._visible()}

    def _fill_filter_options(self) -> None:
        for name, dropdown in self._filter_dropdowns.items():
            values = sorted({value for v in self._voices for value in voice_facets(v)[name]})
            current = getattr(self, name)
            if current and current not in values:
                values.append(current)
            dropdown.options = [(f"any {name}", _ANY), *((value, value) for value in values)]

    def _apply_filters(self, _change: traitlets.Bunch | None = None) -> None:
        visible = self._visible()
        self.voice_count = len(visible)
        selected = self.voice
        shown = visible if visible or selected is None else [selected]
        with self._voice_dropdown.hold_trait_notifications():
            self._voice_dropdown.options = [(voice_label(v), v.voice_id) for v in shown]
            if selected is not None and selected in shown:
                self._voice_dropdown.value = selected.voice_id
        if visible and (selected is None or selected not in visible):
            preferred = [v for v in visible if v.voice_id == self._default_id]
            self.voice_id = (preferred or visible)[0].voice_id
        self._show_info(no_match=not visible)

    def _on_dropdown(self, change: traitlets.Bunch) -> None:
        if change["new"] is not None:
            self.voice_id = change["new"]

    def _show_info(self, no_match: bool = False) -> None:
        voice = self.voice
        parts = []
        if no_match:
            parts.append(f"<i>no voice matches {html.escape(self.search or 'these filters')}</i>")
        if voice is not None:
            details = [voice.category or "", ", ".join(voice_languages(voice))]
            details.append(voice.description or (voice.labels or {}).get("description", ""))
            parts.append(html.escape(" · ".join(part for part in details if part)))
        self._info.value = "<br>".join(parts)

    def _player(self) -> Player:
        if self._preview_player is None:
            # Previews are samples of the voice, not takes: nothing is saved in the notebook.
            self._preview_player = Player(client=self._client_arg, policy="none")
            self._preview_box.children = [self._preview_player]
        return self._preview_player

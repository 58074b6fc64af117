"""VoiceSettings widget: sliders for stability, similarity, style and speed, and speaker boost."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets

from xiwidgets import voice_settings_rules as rules
from xiwidgets.client.types import VoiceSettings as SettingsValues
from xiwidgets.widgets._base import ClientWidgetMixin
from xiwidgets.widgets._frontend import styled
from xiwidgets.widgets.models import ModelPicker

if TYPE_CHECKING:
    from xiwidgets.client import Client
    from xiwidgets.client.types import Model

# (minimum, maximum) of each slider: exactly what the server accepts.
RANGES = rules.RANGES
LABELS = {
    "stability": "Stability",
    "similarity_boost": "Similarity",
    "style": "Style",
    "speed": "Speed",
}
# What the API uses when neither the voice nor the account says otherwise.
_DEFAULTS = rules.DEFAULTS
FALLBACK = SettingsValues(**_DEFAULTS)


def _slider_trait(name: str, help_text: str) -> traitlets.Float[float, int | float]:
    """The synced trait of one slider, at the API's default; ``help_text`` names its range."""
    low, high = RANGES[name]
    return traitlets.Float(_DEFAULTS[name], help=help_text.format(low=low, high=high)).tag(
        sync=True)


class VoiceSettings(ClientWidgetMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """Sliders for a voice's settings; controls the chosen model cannot use are disabled.

    Parameters
    ----------
    client : Client, optional
        The client to read and save settings with; ``xiwidgets.connect()`` when omitted.
    voice_id : str, optional
        Voice whose stored settings are the defaults (the account's default settings otherwise).
    model : ModelPicker or Model or str, optional
        The model the settings are for: a ``ModelPicker`` (followed as it changes), a ``Model``
        or a model id. Controls the model cannot use are disabled.

    Attributes
    ----------
    last_error : Exception or None
        Why the last action failed (also shown on the widget's error card).
    """

    stability = _slider_trait("stability", "{low:g} = more variable, {high:g} = more stable.")
    similarity_boost = _slider_trait("similarity_boost",
                                     "How closely to match the voice ({low:g}–{high:g}).")
    style = _slider_trait("style",
                          "Style exaggeration ({low:g}–{high:g}); not every model uses it.")
    speed = _slider_trait("speed", "Speaking speed, {low:g}–{high:g} (1 = normal).")
    use_speaker_boost = traitlets.Bool(
        _DEFAULTS["use_speaker_boost"], help="Boost similarity to the speaker."
    ).tag(sync=True)
    voice_id = traitlets.Unicode(None, allow_none=True,
                                 help="Voice the defaults come from.").tag(sync=True)
    for_model_id = traitlets.Unicode(None, allow_none=True,
                                 help="Model the settings are for.").tag(sync=True)
    style_enabled = traitlets.Bool(True, read_only=True,
                                   help="Whether the model can use style.").tag(sync=True)
    speaker_boost_enabled = traitlets.Bool(
        True, read_only=True, help="Whether the model can use speaker boost."
    ).tag(sync=True)

    def __init__(self, client: Client | None = None, voice_id: str | None = None,
                 model: ModelPicker | Model | str | None = None, **kwargs: Any) -> None:
        self._init_client(client)
        self._model_picker: ModelPicker | None = None
        self._models: dict[str, Model] = {}
        self.sliders = {
            name: widgets.FloatSlider(description=LABELS[name], min=low, max=high, step=0.01,
                                      readout_format=".2f", continuous_update=False)
            for name, (low, high) in RANGES.items()
        }
        for name, slider in self.sliders.items():
            slider.add_class(f"xi-{name.replace('_', '-')}")
        self.speaker_boost_toggle = widgets.Checkbox(description="Speaker boost", indent=False)
        self.speaker_boost_toggle.add_class("xi-speaker-boost")
        self._reset_button = widgets.Button(description="Reset", icon="undo",
                                            tooltip="Back to this voice's saved settings")
        self._reset_button.add_class("xi-reset")
        self._save_button = widgets.Button(description="Save as voice default", icon="save",
                                           tooltip="Store these settings on the voice",
                                           layout=widgets.Layout(width="auto"))
        self._save_button.add_class("xi-save-settings")
        self._status = widgets.HTML()
        super().__init__(**kwargs)
        self.add_class("xi-voice-settings")
        self.children = [
            *self.sliders.values(),
            self.speaker_boost_toggle,
            widgets.HBox([self._reset_button, self._save_button, self._status]),
            self.error_card,
        ]
        styled(self)
        for name, slider in self.sliders.items():
            traitlets.link((self, name), (slider, "value"))
        traitlets.link((self, "use_speaker_boost"), (self.speaker_boost_toggle, "value"))
        self._reset_button.on_click(lambda _button: self.reset())
        self._save_button.on_click(lambda _button: self.save_as_default())
        self._follow_model(model)
        self.voice_id = voice_id
        if voice_id is None:
            self.reset()

    # -- public API ---------------------------------------------------------------------------

    @property
    def settings(self) -> SettingsValues:
        """The chosen settings as the client's ``VoiceSettings``.

        Settings the model cannot use are left out (``None``), so the request never asks for
        something the model will ignore.
        """
        unusable = rules.unusable_fields(
            can_use_style=self.style_enabled, can_use_speaker_boost=self.speaker_boost_enabled
        )
        return SettingsValues(
            stability=self.stability,
            similarity_boost=self.similarity_boost,
            style=None if "style" in unusable else self.style,
            use_speaker_boost=None if "use_speaker_boost" in unusable else self.use_speaker_boost,
            speed=self.speed,
        )

    def apply(self, settings: SettingsValues | dict[str, object] | None) -> None:
        """Move the controls to ``settings``; fields that are ``None`` keep their value.

        Parameters
        ----------
        settings : VoiceSettings or dict or None
            The client's ``VoiceSettings`` or a plain mapping (e.g. a history item's settings).
        """
        if settings is None:
            return
        values = settings if isinstance(settings, dict) else settings.to_dict()
        with self.hold_sync():
            for name in (*RANGES, "use_speaker_boost"):
                if values.get(name) is not None:
                    setattr(self, name, values[name])

    def reset(self) -> None:
        """Back to the voice's stored settings (the account's default settings without a voice)."""
        with self._reporting():
            if self.voice_id:
                stored = self.client.voices.get_settings(self.voice_id)
            else:
                stored = self.client.voices.default_settings()
            self.apply(FALLBACK)
            self.apply(stored)
            self._status.value = ""

    def save_as_default(self) -> bool:
        """Store the current settings as the voice's own (``settings/edit``).

        Returns
        -------
        bool
            Whether the voice's settings were saved.
        """
        if not self.voice_id:
            self._report(ValueError("No voice chosen: pick a voice before saving its settings."))
            return False
        with self._reporting():
            self.client.voices.edit_settings(self.voice_id, self.settings)
            self._status.value = "saved as this voice's default"
            return True
        return False

    # -- traits -------------------------------------------------------------------------------

    @traitlets.validate(*RANGES)
    def _clamp(self, proposal: traitlets.Bunch) -> float:
        value = float(proposal["value"])
        if math.isnan(value):
            raise traitlets.TraitError(f"{proposal['trait'].name} must be a number, not NaN")
        low, high = RANGES[proposal["trait"].name]
        return min(max(value, low), high)

    @traitlets.observe("voice_id")
    def _on_voice(self, change: traitlets.Bunch) -> None:
        if change["new"]:
            self.reset()

    @traitlets.observe("for_model_id")
    def _on_model_id(self, _change: traitlets.Bunch) -> None:
        model = self._model()
        can_style = True if model is None else bool(model.can_use_style)
        can_boost = True if model is None else bool(model.can_use_speaker_boost)
        self.set_trait("style_enabled", can_style)
        self.set_trait("speaker_boost_enabled", can_boost)
        self.sliders["style"].disabled = not can_style
        self.speaker_boost_toggle.disabled = not can_boost
        tip = f"{self.for_model_id} does not use this setting"
        self.sliders["style"].tooltip = None if can_style else tip
        self.speaker_boost_toggle.tooltip = None if can_boost else tip

    # -- internals ----------------------------------------------------------------------------

    def _follow_model(self, model: ModelPicker | Model | str | None) -> None:
        if isinstance(model, ModelPicker):
            self._model_picker = model
            traitlets.dlink((model, "selected_model_id"), (self, "for_model_id"))
        elif model is not None and not isinstance(model, str):
            self._models[model.model_id] = model
            self.for_model_id = model.model_id
        elif model is not None:
            self.for_model_id = model

    def _model(self) -> Model | None:
        if not self.for_model_id:
            return None
        if self._model_picker is not None and self._model_picker.model is not None:
            return self._model_picker.model
        if self.for_model_id not in self._models:
            try:
                self._models.update({m.model_id: m for m in self.client.models.list()})
            except Exception as error:
                self._report(error)
        return self._models.get(self.for_model_id)

"""ModelPicker: choose a text-to-speech model and see what it supports."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets
from ipywidgets.widgets.widget import CallbackDispatcher

from xiwidgets.widgets._base import ClientWidgetMixin
from xiwidgets.widgets._frontend import styled

if TYPE_CHECKING:
    from xiwidgets.client import Client
    from xiwidgets.client.types import Model

DEFAULT_MODEL_ID = "eleven_multilingual_v2"


def max_characters(model: Model) -> int:
    """Characters one request may carry with this model (0 when the API does not say)."""
    for value in (model.max_characters_request_subscribed_user,
                  model.max_characters_request_free_user,
                  model.maximum_text_length_per_request):
        if value:
            return int(value)
    return 0


def character_cost_multiplier(model: Model) -> float:
    """Credits billed per character of text with this model (1.0 when the API does not say)."""
    rates = model.model_rates or {}
    value = rates.get("character_cost_multiplier")
    return float(value) if value is not None else 1.0


class ModelPicker(ClientWidgetMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """Pick a text-to-speech model; the traits tell what the chosen model supports.

    Parameters
    ----------
    client : Client, optional
        The client to list models with; ``xiwidgets.connect()`` when omitted.
    model_id : str, default "eleven_multilingual_v2"
        The model selected first (the first TTS model listed when it does not exist).

    Attributes
    ----------
    last_error : Exception or None
        Why the last action failed (also shown on the widget's error card).
    """

    # Not ``model_id``: every ipywidgets Widget already has a ``model_id`` (its comm id).
    selected_model_id = traitlets.Unicode(DEFAULT_MODEL_ID,
                                          help="Id of the selected model.").tag(sync=True)
    can_use_style = traitlets.Bool(
        False, read_only=True, help="Whether the model honours the style setting."
    ).tag(sync=True)
    can_use_speaker_boost = traitlets.Bool(
        False, read_only=True, help="Whether the model honours speaker boost."
    ).tag(sync=True)
    max_characters = traitlets.Int(0, read_only=True,
                                   help="Characters one request may carry.").tag(sync=True)
    character_cost_multiplier = traitlets.Float(
        1.0, read_only=True, help="Credits billed per character of text."
    ).tag(sync=True)

    def __init__(self, client: Client | None = None, model_id: str = DEFAULT_MODEL_ID,
                 **kwargs: Any) -> None:
        self._models: list[Model] = []
        self._init_client(client)
        self._change_callbacks = CallbackDispatcher()
        self._dropdown = widgets.Dropdown(description="Model", options=[])
        self._dropdown.add_class("xi-model-select")
        self._info = widgets.HTML()
        self._info.add_class("xi-model-info")
        super().__init__(**kwargs)
        self.add_class("xi-model-picker")
        self.children = [self._dropdown, self._info, self.error_card]
        styled(self)
        self._dropdown.observe(self._on_dropdown, names="value")
        self._load(model_id)

    @property
    def models(self) -> list[Model]:
        """The text-to-speech models offered."""
        return list(self._models)

    @property
    def model(self) -> Model | None:
        """The selected ``Model`` (``None`` when the list could not be loaded)."""
        return next((m for m in self._models if m.model_id == self.selected_model_id), None)

    def refresh(self) -> None:
        """List the models again, keeping the selection when it still exists."""
        self._load(self.selected_model_id)

    def on_change(self, callback: Callable[[Model | None], object], remove: bool = False) -> None:
        """Call ``callback(model)`` whenever the selected model changes.

        Parameters
        ----------
        callback : callable
            Receives the newly selected ``Model``.
        remove : bool, default False
            Unregister ``callback`` instead.
        """
        self._change_callbacks.register_callback(callback, remove=remove)

    @traitlets.validate("selected_model_id")
    def _validate_model_id(self, proposal: traitlets.Bunch) -> str:
        value: str = proposal["value"]
        if self._models and value not in {m.model_id for m in self._models}:
            known = ", ".join(m.model_id for m in self._models)
            raise traitlets.TraitError(f"unknown model {value!r}; choose one of: {known}")
        return value

    @traitlets.observe("selected_model_id")
    def _on_model_id(self, change: traitlets.Bunch) -> None:
        self._show_model()
        if change["old"] != change["new"]:
            self._change_callbacks(self.model)

    def _load(self, wanted: str) -> None:
        with self._reporting():
            self._show_models(self.client.models.list(), wanted)

    def _show_models(self, listed: list[Model], wanted: str) -> None:
        self._models = [m for m in listed if m.can_do_text_to_speech is not False]
        ids = [m.model_id for m in self._models]
        self._dropdown.options = [(m.name or m.model_id, m.model_id) for m in self._models]
        chosen = wanted if wanted in ids else (ids[0] if ids else wanted)
        if chosen == self.selected_model_id:
            self._show_model()
        else:
            self.selected_model_id = chosen

    def _on_dropdown(self, change: traitlets.Bunch) -> None:
        if change["new"] is not None:
            self.selected_model_id = change["new"]

    def _show_model(self) -> None:
        model = self.model
        if model is None:
            return
        self._dropdown.value = model.model_id
        with self.hold_sync():
            self.set_trait("can_use_style", bool(model.can_use_style))
            self.set_trait("can_use_speaker_boost", bool(model.can_use_speaker_boost))
            self.set_trait("max_characters", max_characters(model))
            self.set_trait("character_cost_multiplier", character_cost_multiplier(model))
        codes = [lang.get("language_id", "") for lang in model.languages or ()]
        languages = ", ".join(codes) if len(codes) <= 6 else f"{len(codes)} languages"
        supports = [name for name, ok in (("style", self.can_use_style),
                                          ("speaker boost", self.can_use_speaker_boost)) if ok]
        self._info.value = (
            f"{self.max_characters:,} characters per request · "
            f"{self.character_cost_multiplier:g} credit/character"
            + (f" · supports {' and '.join(supports)}" if supports else "")
            + (f" · languages: {languages}" if languages else "")
        )

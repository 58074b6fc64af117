"""VoiceSettings widget against the real local server, driven through a simulated front end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from xiwidgets.client.errors import InvalidRequest, NotFound
from xiwidgets.client.types import VoiceSettings as SettingsValues
from xiwidgets.widgets.models import ModelPicker
from xiwidgets.widgets.settings import VoiceSettings

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def voice_id(client: Any) -> Iterator[str]:
    """A voice whose stored settings the test may change; restored afterwards."""
    voice = client.voices.list()[-1]
    stored = client.voices.get_settings(voice.voice_id)
    yield voice.voice_id
    client.voices.edit_settings(voice.voice_id, stored)


def model_without(client: Any, capability: str) -> str:
    for model in client.models.list():
        if model.can_do_text_to_speech and not getattr(model, capability):
            return model.model_id
    pytest.skip(f"every local model has {capability}")


def test_defaults_come_from_the_voices_stored_settings(frontend: Any, client: Any,
                                                       voice_id: str) -> None:
    client.voices.edit_settings(voice_id, SettingsValues(
        stability=0.31, similarity_boost=0.62, style=0.2, use_speaker_boost=False, speed=0.9))

    widget = VoiceSettings(client=client, voice_id=voice_id)

    assert widget.settings == SettingsValues(stability=0.31, similarity_boost=0.62, style=0.2,
                                             use_speaker_boost=False, speed=0.9)
    assert widget.sliders["stability"].value == pytest.approx(0.31)
    assert widget.speaker_boost_toggle.value is False


def test_without_a_voice_the_accounts_default_settings_apply(frontend: Any, client: Any) -> None:
    widget = VoiceSettings(client=client)

    defaults = client.voices.default_settings()
    assert widget.stability == pytest.approx(defaults.stability)
    assert widget.similarity_boost == pytest.approx(defaults.similarity_boost)
    assert widget.speed == pytest.approx(defaults.speed or 1.0)


def test_sliders_moved_in_the_browser_make_the_settings(frontend: Any, client: Any,
                                                        voice_id: str) -> None:
    widget = VoiceSettings(client=client, voice_id=voice_id)

    frontend.set_state(widget.sliders["speed"], value=0.8)
    frontend.set_state(widget.sliders["stability"], value=0.9)
    frontend.set_state(widget.speaker_boost_toggle, value=True)

    settings = widget.settings
    assert (settings.speed, settings.stability, settings.use_speaker_boost) == (0.8, 0.9, True)
    assert {"speed": 0.8} in frontend.updates(widget)


def test_the_sliders_span_exactly_what_the_server_accepts(frontend: Any, client: Any,
                                                         voice_id: str) -> None:
    widget = VoiceSettings(client=client)

    for name, slider in widget.sliders.items():
        for accepted in (slider.min, slider.max):
            client.voices.edit_settings(voice_id, SettingsValues(**{name: accepted}))
            assert getattr(client.voices.get_settings(voice_id), name) == accepted
        for refused in (slider.min - 0.01, slider.max + 0.01):
            with pytest.raises(InvalidRequest):
                client.voices.edit_settings(voice_id, SettingsValues(**{name: refused}))


def test_a_new_widget_starts_at_the_servers_default_settings(client: Any) -> None:
    defaults = client.voices.default_settings().to_dict()

    traits = VoiceSettings.class_traits()

    assert {name: traits[name].default_value for name in defaults} == defaults


def test_values_outside_the_range_are_clamped(frontend: Any, client: Any) -> None:
    widget = VoiceSettings(client=client)

    widget.speed = 2.0
    widget.stability = -1

    assert (widget.speed, widget.stability) == (1.2, 0.0)
    assert widget.sliders["speed"].value == 1.2


def test_controls_the_model_cannot_use_are_disabled(frontend: Any, client: Any) -> None:
    no_style = model_without(client, "can_use_style")
    picker = ModelPicker(client=client, model_id="eleven_multilingual_v2")
    widget = VoiceSettings(client=client, model=picker)
    assert not widget.sliders["style"].disabled
    widget.style = 0.4

    dropdown = frontend.find(picker, "xi-model-select")
    frontend.set_state(dropdown, index=[m for _l, m in dropdown.options].index(no_style))

    assert widget.for_model_id == no_style
    assert widget.sliders["style"].disabled
    assert widget.style_enabled is False
    assert widget.settings.style is None
    assert {"disabled": True} in frontend.updates(widget.sliders["style"])


def test_a_model_id_string_is_enough_to_disable_controls(frontend: Any, client: Any) -> None:
    no_boost = model_without(client, "can_use_speaker_boost")

    widget = VoiceSettings(client=client, model=no_boost)

    assert widget.speaker_boost_toggle.disabled
    assert widget.settings.use_speaker_boost is None


def test_reset_button_goes_back_to_the_stored_settings(frontend: Any, client: Any,
                                                       voice_id: str) -> None:
    widget = VoiceSettings(client=client, voice_id=voice_id)
    stored = client.voices.get_settings(voice_id)
    frontend.set_state(widget.sliders["similarity_boost"], value=0.05)

    frontend.click(frontend.find(widget, "xi-reset"))

    assert widget.similarity_boost == pytest.approx(stored.similarity_boost)


def test_save_as_default_stores_the_settings_on_the_voice(frontend: Any, client: Any,
                                                          voice_id: str) -> None:
    widget = VoiceSettings(client=client, voice_id=voice_id)
    frontend.set_state(widget.sliders["stability"], value=0.77)
    frontend.set_state(widget.sliders["speed"], value=1.1)

    frontend.click(frontend.find(widget, "xi-save-settings"))

    stored = client.voices.get_settings(voice_id)
    assert (stored.stability, stored.speed) == (pytest.approx(0.77), pytest.approx(1.1))
    assert widget.last_error is None
    assert VoiceSettings(client=client, voice_id=voice_id).stability == pytest.approx(0.77)


def test_apply_changes_only_the_given_fields(frontend: Any, client: Any) -> None:
    widget = VoiceSettings(client=client)
    before = widget.settings

    widget.apply(SettingsValues(speed=0.75))

    assert widget.speed == 0.75
    assert widget.stability == before.stability


def test_saving_for_an_unknown_voice_shows_the_servers_reason(frontend: Any,
                                                              client: Any) -> None:
    widget = VoiceSettings(client=client)
    widget.set_trait("voice_id", "no-such-voice-id")

    assert widget.save_as_default() is False
    assert isinstance(widget.last_error, NotFound)
    assert frontend.is_shown(widget, widget.error_card)
    assert "not found" in widget.error_card.text.lower()


def test_the_card_stays_until_an_action_works(frontend: Any, client: Any,
                                              voice_id: str) -> None:
    widget = VoiceSettings(client=client, voice_id=voice_id)
    save = frontend.find(widget, "xi-save-settings")
    widget.set_trait("voice_id", "no-such-voice-id")
    frontend.click(save)
    assert isinstance(widget.last_error, NotFound)
    shown = widget.error_card.text

    frontend.set_state(widget.sliders["speed"], value=0.9)  # not an action: the card stays
    assert widget.error_card.text == shown and frontend.is_shown(widget, widget.error_card)

    widget.voice_id = voice_id  # loading this voice's settings works
    assert widget.last_error is None
    assert not frontend.is_shown(widget, widget.error_card) and widget.error_card.text == ""
    frontend.click(save)
    assert widget.last_error is None
    assert client.voices.get_settings(voice_id).speed == pytest.approx(widget.speed)

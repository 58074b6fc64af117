"""ModelPicker against the real local server, driven through a simulated front end."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import traitlets

from xiwidgets.widgets.models import ModelPicker

pytestmark = pytest.mark.timeout(60)


def models_over_http(server: Any) -> list[dict]:
    return requests.get(f"{server.base_url}/v1/models", timeout=10).json()


def test_offers_only_text_to_speech_models_and_the_default(frontend: Any, client: Any,
                                                           server: Any) -> None:
    picker = ModelPicker(client=client)
    dropdown = frontend.find(picker, "xi-model-select")

    tts_ids = [m["model_id"] for m in models_over_http(server) if m["can_do_text_to_speech"]]
    assert [model_id for _label, model_id in dropdown.options] == tts_ids
    assert picker.selected_model_id == "eleven_multilingual_v2"
    assert picker.model.model_id == "eleven_multilingual_v2"


def test_traits_tell_what_the_chosen_model_supports(frontend: Any, client: Any,
                                                    server: Any) -> None:
    picker = ModelPicker(client=client)
    dropdown = frontend.find(picker, "xi-model-select")
    raw = {m["model_id"]: m for m in models_over_http(server)}

    for index, (_label, model_id) in enumerate(dropdown.options):
        frontend.set_state(dropdown, index=index)
        expected = raw[model_id]
        assert picker.selected_model_id == model_id
        assert picker.can_use_style is expected["can_use_style"]
        assert picker.can_use_speaker_boost is expected["can_use_speaker_boost"]
        assert picker.max_characters == expected["max_characters_request_subscribed_user"]
        assert picker.character_cost_multiplier == pytest.approx(
            expected["model_rates"]["character_cost_multiplier"])
        info = frontend.find(picker, "xi-model-info").value
        assert f"{picker.max_characters:,} characters per request" in info


def test_choice_from_the_browser_is_synced_and_called_back(frontend: Any, client: Any) -> None:
    picker = ModelPicker(client=client)
    dropdown = frontend.find(picker, "xi-model-select")
    seen = []
    picker.on_change(seen.append)
    last_index = len(dropdown.options) - 1
    wanted = dropdown.options[last_index][1]

    frontend.set_state(dropdown, index=last_index)

    assert [model.model_id for model in seen] == [wanted]
    assert any(update.get("selected_model_id") == wanted for update in frontend.updates(picker))

    picker.on_change(seen.append, remove=True)
    frontend.set_state(dropdown, index=0)
    assert picker.selected_model_id == dropdown.options[0][1] != wanted
    assert [model.model_id for model in seen] == [wanted]


def test_an_unknown_model_is_refused(frontend: Any, client: Any) -> None:
    picker = ModelPicker(client=client)

    with pytest.raises(traitlets.TraitError, match="unknown model 'no_such_model'"):
        picker.selected_model_id = "no_such_model"
    assert picker.selected_model_id == "eleven_multilingual_v2"


def test_an_unknown_starting_model_falls_back_to_the_first(frontend: Any, client: Any) -> None:
    picker = ModelPicker(client=client, model_id="retired_model")
    dropdown = frontend.find(picker, "xi-model-select")

    assert picker.selected_model_id == dropdown.options[0][1]


def test_the_picker_renders_in_a_container(frontend: Any, client: Any) -> None:
    """Its own model id stays the comm id, so containers can reference it."""
    import ipywidgets as widgets

    picker = ModelPicker(client=client)

    assert frontend.render(widgets.HBox([picker])) > 3

"""Studio against the real local server, used the way a person in the browser would use it."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import ipywidgets as widgets
import pytest
from ipywidgets.widgets.widget import _instances

from xiwidgets.client import Client
from xiwidgets.client.errors import QuotaExceeded
from xiwidgets.widgets.models import max_characters
from xiwidgets.widgets.studio import Studio, StudioTake

pytestmark = pytest.mark.timeout(180)

LONG_TEXT = " ".join(
    f"This is sentence number {n} of a long text that keeps the voice busy for a while."
    for n in range(1, 16)
)


def wait_until(condition: Any, timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds (the take runs in the studio's background thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def option_index(dropdown: widgets.Dropdown, value: Any) -> int:
    return [v for _label, v in dropdown.options].index(value)


def test_speak_click_streams_a_take_with_the_chosen_voice_and_settings(
    frontend: Any, client: Any
) -> None:
    studio = Studio(client=client, voice="Joe")
    takes: list[StudioTake] = []
    studio.on_take(takes.append)
    voice = studio.voice_picker.voices[-1]

    voice_dropdown = frontend.find(studio, "xi-voice-select")
    frontend.set_state(voice_dropdown, index=option_index(voice_dropdown, voice.voice_id))
    frontend.set_state(studio.voice_settings.sliders["speed"], value=0.8)
    frontend.set_state(frontend.find(studio, "xi-text"), value="Hello from the studio.")
    frontend.click(frontend.find(studio, "xi-speak"))
    wait_until(lambda: not studio.busy)

    assert studio.last_error is None, studio.error_card.text
    assert [take.history_item_id for take in takes] == [studio.last_take.history_item_id]
    take = takes[0]
    assert take.audio == studio.player.last_take and len(take.audio) > 1000
    assert b"".join(b[0] for c, b in frontend.custom(studio.player) if c["type"] == "chunk") \
        == take.audio
    item = client.history.get(take.history_item_id)
    assert (item.voice_id, item.model_id, item.text) == (
        voice.voice_id, "eleven_multilingual_v2", "Hello from the studio.")
    assert item.settings["speed"] == pytest.approx(0.8)
    assert studio.status.startswith("done:")
    assert "done:" in frontend.find(studio, "xi-status").value


def test_character_count_follows_typing_and_the_model(frontend: Any, client: Any) -> None:
    studio = Studio(client=client, voice="Joe")
    text_area = frontend.find(studio, "xi-text")

    frontend.set_state(text_area, value="x" * 123)

    assert studio.character_count == 123
    multiplier = studio.model_picker.character_cost_multiplier
    assert studio.estimated_cost == round(123 * multiplier)
    line = frontend.find(studio, "xi-count").value
    assert f"123 / {studio.model_picker.max_characters:,} characters per request" in line
    assert f"{studio.quota.characters_left:,} left in quota" in line
    assert f"estimated cost {studio.estimated_cost:,} credits" in line


def test_text_over_the_models_request_limit_is_flagged(frontend: Any, client: Any) -> None:
    studio = Studio(client=client, voice="Joe")
    smallest = min(studio.model_picker.models, key=max_characters)
    limit = max_characters(smallest)
    model_dropdown = frontend.find(studio, "xi-model-select")
    frontend.set_state(model_dropdown, index=option_index(model_dropdown, smallest.model_id))

    frontend.set_state(frontend.find(studio, "xi-text"), value="y" * limit)
    assert 'class="xi-over"' not in frontend.find(studio, "xi-count").value
    frontend.set_state(frontend.find(studio, "xi-text"), value="y" * (limit + 1))

    line = frontend.find(studio, "xi-count").value
    assert f'class="xi-over">{limit + 1:,} / {limit:,} characters per request' in line


def test_quota_error_card_says_needed_left_and_reset(frontend: Any,
                                                     server_factory: Any) -> None:
    small = server_factory(character_limit=50)
    studio = Studio(client=Client(base_url=small.base_url), voice="Joe")
    text = "A" * 60 + " " + "b" * 59

    assert studio.speak(text, wait=True) is None

    assert isinstance(studio.last_error, QuotaExceeded)
    assert frontend.is_shown(studio, studio.error_card)
    card = studio.error_card.text
    assert card.startswith("quota exceeded: 120 characters needed, 50 left")
    if studio.quota.reset_date:
        assert f"resets on {studio.quota.reset_date}" in card
    assert studio.status == "failed"
    assert studio.player.chunks_received == 0
    assert studio.quota.character_count == 0


def test_empty_text_is_explained_without_a_request(frontend: Any, client: Any) -> None:
    studio = Studio(client=client, voice="Joe")

    frontend.click(frontend.find(studio, "xi-speak"))

    assert "Nothing to say" in studio.error_card.text
    # No take starts; the browser, which got ready for one on the click, is told none comes.
    assert not studio.busy and frontend.custom(studio.player) == [({"type": "cancel"}, [])]


def test_a_take_that_works_clears_the_card_and_removed_callbacks_stay_silent(
    frontend: Any, client: Any
) -> None:
    studio = Studio(client=client, voice="Joe")
    kept: list[StudioTake] = []
    removed: list[StudioTake] = []
    studio.on_take(kept.append)
    studio.on_take(removed.append)
    studio.on_take(removed.append, remove=True)
    frontend.click(frontend.find(studio, "xi-speak"))
    assert frontend.is_shown(studio, studio.error_card)

    take = studio.speak("Short and sweet.", wait=True)

    assert take is not None and studio.last_error is None
    assert not frontend.is_shown(studio, studio.error_card)
    assert kept == [take] and removed == []
    # What made it, as on a Take: settings sent, and the request's timings.
    assert take.voice_settings.to_dict() == studio.voice_settings.settings.to_dict()
    assert 0 < take.time_to_first_byte <= take.total_time


def test_stop_click_ends_a_long_take_early(frontend: Any, client: Any) -> None:
    studio = Studio(client=client, voice="Joe", text=LONG_TEXT)
    stop_button = frontend.find(studio, "xi-stop")
    assert stop_button.disabled

    studio.speak()
    wait_until(lambda: studio.player.chunks_received > 0)
    assert not stop_button.disabled and frontend.find(studio, "xi-speak").disabled
    frontend.click(stop_button)
    wait_until(lambda: not studio.busy)

    assert studio.player.status == "stopped"
    assert studio.status.startswith("stopped")
    assert "end" not in [c["type"] for c, _b in frontend.custom(studio.player)]
    assert stop_button.disabled and not frontend.find(studio, "xi-speak").disabled


def test_the_first_chunk_reaches_the_browser_ahead_of_the_studios_status_updates(
    frontend: Any, client: Any
) -> None:
    # The browser handles messages in order: anything sent ahead of the first chunk delays
    # the moment the take becomes audible.
    studio = Studio(client=client, voice="Joe", text="Hello there. This is the second clause.")
    status_line = frontend.find(studio, "xi-status")
    watched = (studio, status_line, studio.player)
    already = len(frontend.in_order(*watched))
    frontend.click(frontend.find(studio, "xi-speak"))
    wait_until(lambda: not studio.busy)
    assert studio.last_error is None, studio.error_card.text

    sent = frontend.in_order(*watched)[already:]
    kinds = [(widget, message.data["content"]["type"] if message.method == "custom"
              else message.data.get("state", {})) for widget, message in sent]
    first_chunk = next(i for i, (widget, kind) in enumerate(kinds)
                       if widget is studio.player and kind == "chunk")

    def sent_at(widget: Any, **state: Any) -> int:
        return next(i for i, (sender, kind) in enumerate(kinds) if sender is widget
                    and isinstance(kind, dict) and state.items() <= kind.items())

    # The click is one update of the Studio's own state: busy and "generating…" together.
    assert sent_at(studio, busy=True, status="generating…") < first_chunk
    # The player says "streaming" (its own line) and gets the take's start ahead of the audio;
    # the Studio's status line follows the first chunk.
    assert sent_at(studio.player, status="streaming") < first_chunk
    assert "start" in [kind for widget, kind in kinds[:first_chunk] if widget is studio.player]
    assert sent_at(studio, status="streaming…") > first_chunk
    assert sent_at(status_line, value="streaming…") > first_chunk
    # And the browser still learns everything: the take's final state is synced.
    assert studio.player.status == "done" and studio.status.startswith("done:")


def test_speak_returns_while_the_take_is_generated(frontend: Any, client: Any) -> None:
    studio = Studio(client=client, voice="Joe", text=LONG_TEXT)
    finished = threading.Event()
    studio.on_take(lambda _take: finished.set())

    assert studio.speak() is None

    assert studio.busy and not finished.is_set()
    studio.stop()
    wait_until(lambda: not studio.busy)


def test_restore_puts_a_history_item_back(frontend: Any, client: Any) -> None:
    studio = Studio(client=client, voice="Joe")
    voice = next(v for v in studio.voice_picker.voices if v.name == "Riley")
    take = client.tts.convert(voice.voice_id, text="Restore me later.",
                              voice_settings={"stability": 0.25, "speed": 1.15})
    item = client.history.get(take.history_item_id)
    studio.text = "something else"

    studio.restore(item)

    assert studio.voice_picker.voice_id == voice.voice_id
    assert studio.model_picker.selected_model_id == item.model_id
    assert studio.voice_settings.stability == pytest.approx(0.25)
    assert studio.voice_settings.speed == pytest.approx(1.15)
    assert frontend.find(studio, "xi-text").value == "Restore me later."


def test_history_open_in_studio_restores_the_take(frontend: Any, client: Any) -> None:
    studio = Studio(client=client, voice="Joe")
    voice = next(v for v in studio.voice_picker.voices if v.name == "Riley")
    studio.voice_picker.voice = voice
    studio.voice_settings.speed = 0.75
    take = studio.speak("A take to open again from the history.", wait=True)
    assert take is not None, studio.error_card.text
    studio.voice_picker.voice = "Joe"
    studio.text = ""

    studio.history.open_in_studio(take.history_item_id)

    assert studio.voice_picker.voice_id == voice.voice_id
    assert studio.voice_settings.speed == pytest.approx(0.75)
    assert studio.text == "A take to open again from the history."


def test_no_widget_state_or_message_carries_the_api_key(frontend: Any, server: Any) -> None:
    key = "sk-known-secret-4242424242"
    studio = Studio(client=Client(api_key=key, base_url=server.base_url), voice="Joe",
                    text="Keep it safe.")

    studio.speak(wait=True)

    assert studio.last_take is not None, studio.error_card.text
    states = [json.dumps(w.get_state(), default=str) for w in list(_instances.values())]
    assert states and not any(key in state for state in states)
    assert key not in frontend.all_sent_text()
    assert key not in repr(studio) and key not in repr(studio.last_take)


def test_renders_and_key_elements_carry_stable_css_classes(frontend: Any, client: Any) -> None:
    studio = Studio(client=client, voice="Joe")

    assert frontend.render(studio) > 40
    for css_class in ("xi-studio", "xi-speak", "xi-stop", "xi-text", "xi-status", "xi-player",
                      "xi-quota", "xi-voice-picker", "xi-model-picker", "xi-voice-settings"):
        assert frontend.find(studio, css_class) is not None


@pytest.mark.parametrize("output_format", ["mp3_44100_64", "mp3_22050_32"])
def test_takes_are_kept_at_the_studios_notebook_bitrate(frontend: Any, client: Any,
                                                        output_format: str) -> None:
    kbps = int(output_format.rsplit("_", 1)[1])
    studio = Studio(client=client, output_format=output_format)
    take = studio.speak("A take for the notebook, kept small.", wait=True)
    assert take is not None, studio.error_card.text
    # Constant-bitrate MP3: bytes per second of audio give the bitrate the notebook stores.
    assert len(take.audio) * 8 / 1000 / take.duration == pytest.approx(kbps, rel=0.1)


def test_a_studio_refuses_a_format_its_player_cannot_stream(client: Any) -> None:
    with pytest.raises(ValueError, match="streams MP3"):
        Studio(client=client, output_format="pcm_16000")


def test_a_saved_take_as_a_cell_value_names_its_player_instead_of_adding_one(
    frontend: Any, client: Any
) -> None:
    studio = Studio(client=client)
    take = studio.speak("One player per take.", wait=True)
    assert take is not None

    saved_card = studio.player.take_output.outputs[0]["data"]["text/html"]
    shown = take._repr_html_()

    # The Studio saved the take as a card with one <audio>; the cell's value adds none.
    assert saved_card.count("<audio") == 1 and f'data-xi-take="{take.card_id}"' in saved_card
    assert "<audio" not in shown and f'data-xi-take-ref="{take.card_id}"' in shown
    assert "plays in the Studio's player" in shown


def test_a_take_the_studio_did_not_save_still_plays_as_a_cell_value(
    frontend: Any, client: Any
) -> None:
    studio = Studio(client=client, policy="none")
    take = studio.speak("Nothing kept, so the value plays.", wait=True)
    assert take is not None and take.card_id is None

    assert take._repr_html_().count("<audio") == 1

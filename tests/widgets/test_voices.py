"""VoicePicker against the real local server, driven through a simulated front end."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from xiwidgets.widgets.voices import VoicePicker, notify_voices_changed, voice_facets

pytestmark = pytest.mark.timeout(120)


def voices_over_http(server: Any) -> list[dict]:
    return requests.get(f"{server.base_url}/v1/voices", timeout=10).json()["voices"]


def listed_ids(picker: VoicePicker) -> set[str]:
    return {voice.voice_id for voice in picker.voices}


def test_lists_every_voice_and_selects_one(frontend: Any, client: Any, server: Any) -> None:
    picker = VoicePicker(client=client)
    dropdown = frontend.find(picker, "xi-voice-select")

    listed = {v["voice_id"] for v in voices_over_http(server)}
    offered = {voice_id for _label, voice_id in dropdown.options}
    assert offered == listed
    # Listed by name, but the server's first (recommended) voice is the default.
    assert picker.voice_id == voices_over_http(server)[0]["voice_id"]
    labels = [label for label, _voice_id in dropdown.options]
    assert labels == sorted(labels, key=str.lower)
    assert picker.voice.voice_id == picker.voice_id
    assert picker.voice_count == len(listed)


def test_choosing_in_the_browser_updates_voice_and_calls_back(
    frontend: Any, client: Any
) -> None:
    picker = VoicePicker(client=client)
    dropdown = frontend.find(picker, "xi-voice-select")
    seen = []
    picker.on_change(seen.append)
    first = picker.voice_id
    other = next(v for v in picker.voices if v.voice_id != first)
    ids = [voice_id for _label, voice_id in dropdown.options]

    frontend.set_state(dropdown, index=ids.index(other.voice_id))

    assert picker.voice_id == other.voice_id
    assert picker.voice.name == other.name
    assert [voice.voice_id for voice in seen] == [other.voice_id]
    assert {"voice_id": other.voice_id} in frontend.updates(picker)

    picker.on_change(seen.append, remove=True)
    frontend.set_state(dropdown, index=ids.index(first))
    assert picker.voice_id == first
    assert [voice.voice_id for voice in seen] == [other.voice_id]


def test_a_voice_can_be_given_by_name(frontend: Any, client: Any) -> None:
    first = VoicePicker(client=client)
    wanted = first.voices[-1]

    picker = VoicePicker(client=client, voice=wanted.name.upper())

    assert picker.voice_id == wanted.voice_id


def test_an_unknown_voice_is_explained_on_the_card(frontend: Any, client: Any,
                                                   server: Any) -> None:
    picker = VoicePicker(client=client, voice="Nobody At All")

    assert "unknown voice 'Nobody At All'" in picker.error_card.text
    assert picker.last_error is not None
    assert picker.voice_id == voices_over_http(server)[0]["voice_id"]


def test_search_typed_in_the_browser_narrows_the_list(frontend: Any, client: Any) -> None:
    picker = VoicePicker(client=client)
    dropdown = frontend.find(picker, "xi-voice-select")
    by_id = {voice.voice_id: voice for voice in picker.voices}
    target = picker.voices[-1]

    frontend.set_state(frontend.find(picker, "xi-voice-search"), value=target.name[:4].lower())

    shown = {voice_id for _label, voice_id in dropdown.options}
    assert target.voice_id in shown
    assert len(shown) == picker.voice_count < len(picker.voices)
    assert all(target.name[:4].lower() in by_id[v].name.lower()
               or target.name[:4].lower() in str(by_id[v].labels).lower()
               or target.name[:4].lower() in (by_id[v].description or "").lower()
               for v in shown)
    assert picker.voice_id in shown


def test_search_without_match_keeps_the_voice_and_says_so(frontend: Any,
                                                          client: Any) -> None:
    picker = VoicePicker(client=client)
    before = picker.voice_id

    frontend.set_state(frontend.find(picker, "xi-voice-search"), value="zzzz-no-such-voice")

    assert picker.voice_count == 0
    assert picker.voice_id == before
    assert "no voice matches" in frontend.find(picker, "xi-voice-info").value


@pytest.mark.parametrize("facet", ["language", "gender", "category"])
def test_filters_offer_the_voices_values_and_filter_by_them(
    frontend: Any, client: Any, facet: str
) -> None:
    picker = VoicePicker(client=client)
    dropdown = frontend.find(picker, "xi-voice-select")
    by_id = {voice.voice_id: voice for voice in picker.voices}
    facet_dropdown = frontend.find(picker, f"xi-voice-{facet}")
    values = [value for _label, value in facet_dropdown.options if value]
    assert values, f"the local voices carry no {facet}"
    wanted = values[-1]

    frontend.set_state(facet_dropdown, index=len(values))

    assert getattr(picker, facet) == wanted
    shown = [by_id[v] for _label, v in dropdown.options]
    assert shown and all(wanted in voice_facets(voice)[facet] for voice in shown)
    assert wanted in voice_facets(picker.voice)[facet]


def test_preview_click_plays_the_sample_as_a_binary_message(
    frontend: Any, client: Any
) -> None:
    picker = VoicePicker(client=client)
    sample = requests.get(picker.voice.preview_url, timeout=30).content

    frontend.click(frontend.find(picker, "xi-preview"))

    player = frontend.find(picker, "xi-player")
    chunks = [buffers[0] for content, buffers in frontend.custom(player)
              if content["type"] == "chunk"]
    assert b"".join(chunks) == sample
    assert sample[:3] == b"ID3" or sample[0] == 0xFF
    assert player.policy == "none" and player.take_output.outputs == ()
    assert picker.last_error is None


def test_refresh_notifier_updates_every_picker(frontend: Any, client: Any,
                                               server: Any) -> None:
    pickers = [VoicePicker(client=client), VoicePicker(client=client)]
    sample = client.tts.convert(
        pickers[0].voice_id, text="A short sample of speech for a new voice, spoken clearly."
    ).audio
    added = client.voices.add("Picker Test Voice", files=[sample])
    try:
        assert all(added.voice_id not in listed_ids(p) for p in pickers)
        notify_voices_changed()
        assert all(added.voice_id in listed_ids(p) for p in pickers)
    finally:
        client.voices.delete(added.voice_id)
    notify_voices_changed()
    assert all(added.voice_id not in listed_ids(p) for p in pickers)


def test_unreachable_server_shows_the_card_instead_of_raising(frontend: Any) -> None:
    from xiwidgets.client import Client
    from xiwidgets.client.errors import ConnectionFailed

    picker = VoicePicker(client=Client(base_url="http://127.0.0.1:9", max_retries=0))

    assert isinstance(picker.last_error, ConnectionFailed)
    assert frontend.is_shown(picker, picker.error_card)
    assert "Could not reach http://127.0.0.1:9" in picker.error_card.text
    assert picker.voice_id is None

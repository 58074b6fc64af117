"""VoiceMaker against the real local server, driven like a browser would drive it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from xiwidgets.widgets.maker import VoiceMaker
from xiwidgets.widgets.voices import VoicePicker

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def client(server: Any) -> Any:
    from xiwidgets.client import Client

    return Client(base_url=server.base_url)


@pytest.fixture(scope="module")
def recorded_speech(client: Any) -> bytes:
    """A few seconds of speech made in the notebook, the way a user would record a sample."""
    voice = client.voices.list()[0]
    take = client.tts.convert(
        voice.voice_id,
        text="The quick brown fox jumps over the lazy dog, and then it rests in the warm sun.",
        output_format="mp3_44100_128",
    )
    return take.audio


def voice_names_over_http(server: Any) -> set[str]:
    voices = requests.get(f"{server.base_url}/v1/voices", timeout=10).json()["voices"]
    return {voice["name"] for voice in voices}


def test_uploaded_sample_makes_a_voice_that_every_picker_shows(
    frontend: Any, client: Any, server: Any, recorded_speech: bytes,
) -> None:
    picker = VoicePicker(client=client)
    maker = VoiceMaker(client=client)
    name = f"Narrator {uuid.uuid4().hex[:6]}"
    maker.name_box.value = name
    maker.description_box.value = "Calm test narrator"
    maker.accent_box.value = "american"
    maker.gender_box.value = "male"
    frontend.upload(maker.upload, [("narration.mp3", recorded_speech)])
    assert "narration.mp3" in maker.samples_label.value

    frontend.click(maker.create_button)

    assert maker.last_error is None, maker.error_card.text
    assert maker.voice is not None and maker.voice.name == name
    assert name in voice_names_over_http(server)
    assert name in {voice.name for voice in picker.voices}
    stored = client.voices.get(maker.voice.voice_id)
    assert stored.labels["accent"] == "american"
    assert stored.labels["gender"] == "male"
    assert stored.description == "Calm test narrator"
    assert maker.samples == []  # ready for the next voice
    assert maker.voice.voice_id in {value for _, value in maker.delete_picker.options}


def test_audio_made_in_the_notebook_is_a_sample_too(client: Any, recorded_speech: bytes) -> None:
    maker = VoiceMaker(client=client)
    made = []
    maker.on_created(made.append)
    maker.name_box.value = f"From a take {uuid.uuid4().hex[:6]}"
    maker.add_samples(recorded_speech)
    assert maker.samples[0][0].endswith(".mp3")
    voice = maker.create()
    assert voice is not None, maker.error_card.text
    assert made == [voice]

    maker.on_created(made.append, remove=True)
    maker.name_box.value = f"Unannounced {uuid.uuid4().hex[:6]}"
    maker.add_samples(recorded_speech)
    second = maker.create()
    assert second is not None, maker.error_card.text
    assert made == [voice]


def test_bad_upload_shows_the_servers_message_and_keeps_the_form(
    frontend: Any, client: Any, server: Any,
) -> None:
    maker = VoiceMaker(client=client)
    name = f"Broken {uuid.uuid4().hex[:6]}"
    maker.name_box.value = name
    not_audio = b"these are my meeting notes, not audio"
    frontend.upload(maker.upload, [("notes.mp3", not_audio)])
    frontend.click(maker.create_button)
    direct = requests.post(f"{server.base_url}/v1/voices/add", data={"name": name},
                           files=[("files", ("notes.mp3", not_audio))], timeout=30)
    assert direct.status_code in (400, 422)
    server_message = direct.json()["detail"]["message"]

    assert maker.voice is None
    assert maker.last_error is not None
    assert frontend.is_shown(maker, maker.error_card)
    assert server_message in maker.error_card.text
    assert name not in voice_names_over_http(server)
    assert maker.name_box.value == name  # nothing typed is lost
    assert len(maker.samples) == 1


def test_missing_name_or_samples_is_explained(
    frontend: Any, client: Any, recorded_speech: bytes,
) -> None:
    maker = VoiceMaker(client=client)
    maker.add_samples(recorded_speech)
    frontend.click(maker.create_button)
    assert "name" in maker.error_card.text
    assert isinstance(maker.last_error, ValueError)
    assert frontend.is_shown(maker, maker.error_card)

    maker.clear_samples()
    maker.name_box.value = "No samples"
    frontend.click(maker.create_button)
    assert "sample" in maker.error_card.text

    maker.name_box.value = f"Complete {uuid.uuid4().hex[:6]}"
    maker.add_samples(recorded_speech)
    frontend.click(maker.create_button)  # a voice that is made clears the card
    assert maker.voice is not None and maker.last_error is None
    assert not frontend.is_shown(maker, maker.error_card) and maker.error_card.text == ""


def test_delete_asks_first_then_removes_the_voice_everywhere(
    frontend: Any, client: Any, server: Any, recorded_speech: bytes,
) -> None:
    name = f"Short lived {uuid.uuid4().hex[:6]}"
    voice = client.voices.add(name, files=[("s.mp3", recorded_speech)])
    picker = VoicePicker(client=client)
    maker = VoiceMaker(client=client)
    assert all(v.category != "premade" for v in client.voices.list()
               if v.voice_id in {value for _, value in maker.delete_picker.options})

    maker.delete_picker.value = voice.voice_id
    assert not frontend.is_shown(maker, maker.confirm_button)
    frontend.click(maker.delete_button)
    assert frontend.is_shown(maker, maker.confirm_button)
    assert not frontend.is_shown(maker, maker.delete_button)
    assert name in voice_names_over_http(server)

    frontend.click(maker.confirm_button)
    assert name not in voice_names_over_http(server)
    assert name not in {v.name for v in picker.voices}
    assert voice.voice_id not in {value for _, value in maker.delete_picker.options}

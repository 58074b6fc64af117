"""Voices and models against the real local server."""

from __future__ import annotations

import pytest

from xiwidgets.client import Client, NotFound, Voice, VoiceSettings


def test_list_gives_typed_voices(client):
    voices = client.voices.list()

    assert len(voices) >= 6
    assert all(isinstance(v, Voice) and v.voice_id and v.name for v in voices)
    joe = next(v for v in voices if v.name == "Joe")
    assert joe.category == "premade" and joe.preview_url


def test_search_pages_through_every_voice(client):
    everyone = {v.voice_id for v in client.voices.list()}
    pages = [client.voices.search(page_size=3)]
    while pages[-1].has_more:
        pages.append(client.voices.search(page_size=3,
                                          next_page_token=pages[-1].next_page_token))

    assert len(pages) >= 3
    assert all(len(p.voices) <= 3 for p in pages[1:])
    paged = [v.voice_id for p in pages for v in p.voices]
    assert len(paged) == len(set(paged)) and set(paged) == everyone
    assert [v.voice_id for v in client.voices.iter_all(page_size=3)] == paged


def test_search_filters_by_text(client):
    page = client.voices.search(search="joe")
    assert [v.name for v in page.voices] == ["Joe"]


def test_find_is_case_insensitive_and_names_the_choices_when_missing(client):
    assert client.voices.find("  jOE ").name == "Joe"

    with pytest.raises(NotFound) as caught:
        client.voices.find("Nobody Here")
    # The message names the choices (the first ones by name when there are many).
    first = min((v.name for v in client.voices.iter_all()), key=str.lower)
    assert "Available voices:" in str(caught.value) and first in str(caught.value)


def test_find_sees_a_voice_added_by_another_client(server, client, sample_audio):
    client.voices.find("Joe")  # fills this client's cache
    other = Client(base_url=server.base_url)
    added = other.voices.add("Cache Check", files=[sample_audio])
    try:
        assert client.voices.find("cache check").voice_id == added.voice_id
    finally:
        other.voices.delete(added)


def test_settings_default_get_and_edit(client, voice_id):
    default = client.voices.default_settings()
    assert default.stability is not None and default.speed is not None

    original = client.voices.get_settings(voice_id)
    try:
        client.voices.edit_settings(voice_id, VoiceSettings(stability=0.2, speed=1.1))
        changed = client.voices.get_settings("Joe")
        assert (changed.stability, changed.speed) == (0.2, 1.1)
    finally:
        client.voices.edit_settings(voice_id, original)
    assert client.voices.get_settings(voice_id) == original


@pytest.fixture(scope="module")
def sample_audio(server) -> bytes:
    """A few seconds of speech to clone from, made by the server itself."""
    with Client(base_url=server.base_url) as c:
        return c.tts.convert(
            "Joe", text="This is a short recording used as a voice sample for cloning.",
            output_format="mp3_44100_128",
        ).audio


def test_add_edit_and_delete_a_cloned_voice(client, sample_audio, tmp_path):
    sample_file = tmp_path / "me.mp3"
    sample_file.write_bytes(sample_audio)

    voice = client.voices.add("Test Clone", files=[sample_file, ("again.mp3", sample_audio)],
                              description="made by a test", labels={"accent": "test"})
    try:
        assert voice.name == "Test Clone" and voice.category == "cloned"
        assert voice.labels.get("accent") == "test"
        take = client.tts.convert("test clone", text="Speaking as the clone.")
        assert take.audio and client.history.get(take.history_item_id).voice_id == voice.voice_id

        client.voices.edit(voice, name="Renamed Clone", description="renamed")
        assert client.voices.get(voice.voice_id).name == "Renamed Clone"
        assert client.voices.find("renamed clone").voice_id == voice.voice_id
    finally:
        client.voices.delete(voice.voice_id)
    with pytest.raises(NotFound):
        client.voices.get(voice.voice_id)


def test_models_list(client):
    models = client.models.list()
    ids = [m.model_id for m in models]
    assert "eleven_multilingual_v2" in ids
    assert all(m.can_do_text_to_speech is not None for m in models)
    assert all(m.languages for m in models if m.can_do_text_to_speech)


def test_preview_is_served_through_the_client(client):
    joe = client.voices.find("Joe")
    clip = client.voices.preview(joe)
    assert clip[:3] == b"ID3" or clip[0] == 0xFF
    assert client.voices.preview(joe.voice_id) == clip

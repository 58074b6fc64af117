"""``client.dialogue`` against the real local server: the official SDK's calls, our types."""

from __future__ import annotations

import pytest

from xiwidgets.client import InvalidRequest, NotFound, Take
from xiwidgets.client.dialogue import DialogueChunk, DialogueTake

LINES = [("Are you coming to the park today?", "Joe"), ("Yes, right after lunch.", "Amelia")]


def test_convert_makes_one_billed_take_of_every_line(client):
    take = client.dialogue.convert(inputs=LINES, output_format="mp3_44100_128")

    assert isinstance(take, Take) and take.audio
    assert take.character_cost == sum(len(text) for text, _ in LINES)
    assert take.text == " ".join(text for text, _ in LINES)
    item = client.history.get(take.history_item_id)
    assert [line["voice_name"] for line in item.dialogue] == ["Joe", "Amelia"]
    assert item.text is None and item.spoken_text == take.text
    assert item.speakers == "Joe / Amelia"


def test_lines_may_be_mappings_objects_or_pairs_with_voice_names_or_ids(client):
    joe = client.voices.find("Joe")
    amelia = client.voices.find("Amelia").voice_id

    class Line:
        text, voice_id = "Yes, right after lunch.", amelia

    as_pairs = client.dialogue.convert(inputs=LINES, output_format="pcm_16000", seed=5)
    mixed = client.dialogue.convert(
        inputs=[{"text": LINES[0][0], "voice_id": joe}, Line()], output_format="pcm_16000", seed=5
    )
    assert as_pairs.audio == mixed.audio


def test_timestamps_give_words_and_one_voice_segment_per_line(client):
    take = client.dialogue.convert_with_timestamps(inputs=LINES)

    assert isinstance(take, DialogueTake)
    assert [segment.dialogue_input_index for segment in take.voice_segments] == [0, 1]
    assert take.voice_segments[1].voice_id == client.voices.find("Amelia").voice_id
    words = [word.text for word in take.words]
    assert words[0] == "Are" and words[-1] == "lunch."
    assert take.words[-1].start >= take.voice_segments[1].start_time_seconds


def test_streams_yield_audio_as_it_is_made(client):
    stream = client.dialogue.stream(inputs=LINES, output_format="pcm_24000")
    assert stream.history_item_id
    assert len(stream.read()) > 24_000
    chunks = list(client.dialogue.stream_with_timestamps(inputs=LINES))
    assert all(isinstance(chunk, DialogueChunk) for chunk in chunks)
    assert {s.dialogue_input_index for chunk in chunks for s in chunk.voice_segments} == {0, 1}


def test_errors_are_the_clients_exceptions(client):
    with pytest.raises(NotFound):
        client.dialogue.convert(inputs=[("Hello.", "no-such-voice-id")])
    with pytest.raises(InvalidRequest):
        client.dialogue.convert(inputs=[])
    with pytest.raises(TypeError):
        client.dialogue.convert(inputs="Hello.")

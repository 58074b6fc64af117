"""Text to speech against the real local server: whole takes, streams, timestamps, errors."""

from __future__ import annotations

import time

import pytest

from xiwidgets.client import Client, InvalidRequest, NotFound, QuotaExceeded, Take, VoiceSettings

THREE_SENTENCES = ("Streaming starts early. Then a second sentence follows, with a few more "
                   "words in it. And a third sentence ends the paragraph.")


def _is_mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def test_convert_returns_audio_and_the_take_headers(client, voice_id):
    take = client.tts.convert(voice_id, text="Hello from the client tests.")

    assert isinstance(take, Take) and _is_mp3(take.audio)
    assert take.content_type == "audio/mpeg"
    assert take.character_cost == len("Hello from the client tests.")
    assert take.request_id and take.history_item_id
    assert client.history.get(take.history_item_id).text == "Hello from the client tests."


def test_voice_can_be_given_as_name_id_or_voice(client, voice_id):
    voice = client.voices.get(voice_id)
    takes = [client.tts.convert(v, text="Same voice.", output_format="pcm_16000", seed=1)
             for v in ("joe", voice_id, voice)]

    assert {client.history.get(t.history_item_id).voice_id for t in takes} == {voice_id}
    assert takes[0].audio == takes[1].audio == takes[2].audio


def test_voice_settings_speed_changes_the_take_length(client, voice_id):
    def seconds(speed: float) -> float:
        take = client.tts.convert(voice_id, text="A sentence spoken at two speeds.",
                                  voice_settings=VoiceSettings(speed=speed),
                                  output_format="pcm_16000")
        return len(take.audio) / 2 / 16000

    assert seconds(0.7) > 1.2 * seconds(1.2)


def test_stream_yields_chunks_while_the_take_is_still_being_made(client, voice_id):
    sent = time.perf_counter()
    stream = client.tts.stream(voice_id, text=THREE_SENTENCES, output_format="mp3_44100_128")
    assert stream.request_id and stream.history_item_id  # headers before any audio

    arrivals, chunks = [], []
    for chunk in stream:
        arrivals.append(time.perf_counter())
        chunks.append(chunk)

    elapsed = arrivals[-1] - sent
    assert len(chunks) >= 3 and _is_mp3(chunks[0])
    # Had the client buffered the take, every chunk would arrive at the end, at once.
    assert arrivals[-1] - arrivals[0] > 0.3 * elapsed
    assert arrivals[0] - sent < 0.5 * elapsed
    assert stream.received == b"".join(chunks)
    assert client.history.audio(stream.history_item_id)[:3] == chunks[0][:3]


def test_convert_with_timestamps_aligns_every_character(client, voice_id):
    text = "Timed words."
    take = client.tts.convert_with_timestamps(voice_id, text=text)

    assert _is_mp3(take.audio) and take.request_id
    assert take.alignment.text == text
    starts = take.alignment.character_start_times_seconds
    ends = take.alignment.character_end_times_seconds
    assert len(starts) == len(ends) == len(text)
    assert list(starts) == sorted(starts) and all(e >= s for s, e in zip(starts, ends, strict=True))


def test_stream_with_timestamps_yields_audio_with_alignment(client, voice_id):
    text = "First part. Second part of the text."
    chunks = list(client.tts.stream_with_timestamps(voice_id, text=text))

    assert len(chunks) >= 2
    assert _is_mp3(b"".join(c.audio for c in chunks))
    aligned = "".join(c.alignment.text for c in chunks if c.alignment)
    assert aligned.split() == text.split()


def test_unknown_voice_is_not_found(client):
    with pytest.raises(NotFound) as caught:
        client.tts.convert("NoSuchVoice", text="Hello")
    assert caught.value.status_code == 404 and caught.value.code == "voice_not_found"


def test_text_over_the_model_limit_is_an_invalid_request(client, voice_id):
    with pytest.raises(InvalidRequest) as caught:
        client.tts.stream(voice_id, text="word " * 2001)
    assert caught.value.code == "max_character_limit_exceeded"
    assert "characters" in str(caught.value)


def test_unsupported_output_format_names_the_field(client, voice_id):
    with pytest.raises(InvalidRequest) as caught:
        client.tts.convert(voice_id, text="Hello", output_format="mp3_1_2")
    assert any(e.startswith("output_format") for e in caught.value.errors)


def test_quota_exceeded_on_the_local_server_gives_the_numbers(server_factory):
    small = server_factory(character_limit=30)
    client = Client(base_url=small.base_url)
    client.tts.convert("Joe", text="Twenty characters ok")

    with pytest.raises(QuotaExceeded) as caught:
        client.tts.convert("Joe", text="This text is longer than the ten left.")

    err = caught.value
    assert (err.status_code, err.code) == (401, "quota_exceeded")
    assert (err.needed, err.left) == (len("This text is longer than the ten left."), 10)
    assert err.reset_unix == client.user.subscription().next_character_count_reset_unix
    assert "quota" in str(err)


def test_quota_numbers_come_from_the_errors_fields_not_its_sentence():
    # The client reads detail.needed/left/reset_unix: rewording the server's sentence (here
    # simulated by a client that would have parsed it) cannot change what it reports.
    from xiwidgets.client.errors import _quota_numbers

    detail = {"needed": 27, "left": 10, "reset_unix": 1767225600,
              "message": "Some other wording entirely: 99 of 12."}
    assert _quota_numbers(detail["message"], detail) == (27, 10, 1767225600)

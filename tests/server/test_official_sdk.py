"""The official ``elevenlabs`` SDK, pointed at the local server, works unchanged."""

from __future__ import annotations

import pytest

from tests.server.helpers import decode_audio

elevenlabs_client = pytest.importorskip("elevenlabs.client")


@pytest.fixture(scope="module")
def sdk(server):
    return elevenlabs_client.ElevenLabs(api_key="x", base_url=server.base_url)


def test_sdk_lists_voices_and_models(sdk):
    searched = sdk.voices.search(page_size=5)
    assert len(searched.voices) == 5 and searched.has_more
    everything = sdk.voices.get_all()
    assert {voice.name for voice in everything.voices} >= {"Joe", "Camille"}
    assert "eleven_multilingual_v2" in {model.model_id for model in sdk.models.list()}


def test_sdk_converts_and_streams(sdk):
    joe = next(v for v in sdk.voices.get_all().voices if v.name == "Joe").voice_id
    converted = b"".join(
        sdk.text_to_speech.convert(
            voice_id=joe,
            text="The official client works here.",
            model_id="eleven_multilingual_v2",
            output_format="mp3_44100_128",
        )
    )
    streamed = b"".join(
        sdk.text_to_speech.stream(voice_id=joe, text="Streaming, too.", output_format="pcm_24000")
    )
    assert len(decode_audio(converted)[0]) > 0
    assert len(streamed) > 24000  # more than half a second of 16-bit PCM
    history = sdk.history.list(page_size=2)
    assert history.history[0].text == "Streaming, too."
    subscription = sdk.user.subscription.get()
    assert subscription.character_count >= len("The official client works here.")

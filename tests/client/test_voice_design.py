"""client.voice_design against a real local server: design, stream a preview, keep a voice."""

from __future__ import annotations

import pytest

from tests.server.helpers import decode_audio, without_kokoro
from xiwidgets.client import Client, NotFound, VoicePreview

pytestmark = pytest.mark.timeout(300)


def test_design_stream_and_create_a_voice_every_route_can_use(server_factory, tmp_path):
    with without_kokoro(tmp_path):
        client = Client(base_url=server_factory().base_url)
        before = {voice.voice_id for voice in client.voices.list()}
        designed = client.voice_design.design("An old British man, deep and slow", seed=5)
        assert len(designed.previews) == 3 and len(designed.text) >= 100
        assert all(isinstance(preview, VoicePreview) for preview in designed.previews)
        chosen = designed.previews[2]
        samples, rate = decode_audio(chosen.audio)
        assert len(samples) / rate == pytest.approx(chosen.duration_secs, rel=0.05)
        assert "<audio" in chosen._repr_html_()
        streamed = b"".join(client.text_to_voice.preview.stream(chosen.generated_voice_id))
        assert len(decode_audio(streamed)[0]) > 0

        voice = client.voice_design.create(
            "Old Sailor", "An old British man, deep and slow", chosen.generated_voice_id,
            labels={"use_case": "narration"},
        )
        assert voice.category == "generated"
        assert voice.labels["accent"] == "british" and voice.labels["use_case"] == "narration"
        # The voice list the client caches shows the new voice at once.
        assert {v.voice_id for v in client.voices.list()} - before == {voice.voice_id}
        assert client.voices.find("Old Sailor").voice_id == voice.voice_id
        timed = client.tts.convert_with_timestamps(voice, text="Ahoy, all hands on deck.")
        assert timed.alignment is not None and len(timed.audio) > 0


def test_an_unknown_preview_is_not_found(server):
    client = Client(base_url=server.base_url)
    with pytest.raises(NotFound):
        b"".join(client.voice_design.preview.stream("noSuchPreview1234567"))
    with pytest.raises(NotFound):
        client.voice_design.create("Ghost", "A voice nobody ever designed", "noSuchPreview1234567")

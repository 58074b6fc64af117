"""The WebSocket stream-input endpoint against the real local server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from xiwidgets.client import NotFound, RealtimeChunk
from xiwidgets.client.realtime import websocket_url


def test_websocket_url_follows_the_base_url_scheme():
    assert websocket_url("http://127.0.0.1:8000", "/v1/x", {"a": True, "b": None}) == \
        "ws://127.0.0.1:8000/v1/x?a=true"
    assert websocket_url("https://api.elevenlabs.io", "/v1/x", {}) == \
        "wss://api.elevenlabs.io/v1/x"


def test_realtime_yields_audio_with_alignment(client, voice_id):
    text_pieces = ["Realtime speech ", "arrives in ", "pieces. ", "The end."]
    chunks = list(client.tts.realtime(voice_id, text_chunks=text_pieces,
                                      output_format="mp3_22050_32"))

    assert chunks and all(isinstance(c, RealtimeChunk) for c in chunks)
    audio = b"".join(c.audio for c in chunks)
    assert audio[:3] == b"ID3" or audio[0] == 0xFF
    aligned = "".join(c.alignment.text for c in chunks if c.alignment)
    assert aligned.split() == ["Realtime", "speech", "arrives", "in", "pieces.", "The", "end."]


def test_audio_arrives_while_later_text_is_still_being_produced(client, voice_id):
    first_audio = threading.Event()

    def slow_producer() -> Iterator[str]:
        yield "The first sentence is sent on its own, long before the second one. "
        # Without concurrent sending and receiving this would wait forever: fail instead.
        if not first_audio.wait(timeout=60):
            raise AssertionError("no audio arrived before the rest of the text was produced")
        yield "Here is the second sentence."

    chunks = []
    for chunk in client.tts.realtime(voice_id, text_chunks=slow_producer()):
        chunks.append(chunk)
        first_audio.set()

    spoken = "".join(c.alignment.text for c in chunks if c.alignment)
    assert "second sentence" in spoken


def test_errors_from_the_text_iterator_reach_the_caller(client, voice_id):
    def broken() -> Iterator[str]:
        yield "Hello there, this sentence is fine. "
        raise ValueError("the language model failed")

    with pytest.raises(ValueError, match="language model failed"):
        list(client.tts.realtime(voice_id, text_chunks=broken()))


def test_unknown_voice_raises_not_found(client):
    with pytest.raises(NotFound):
        list(client.tts.realtime("NoSuchVoice", text_chunks=["Hello there."]))

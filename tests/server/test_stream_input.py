"""The stream-input websocket: text in pieces, audio messages with alignment, errors."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.server.helpers import duration_of, history_count, receive_all, voice_id_named


def _url(server, voice_id: str, query: str = "") -> str:
    return f"ws{server.base_url[4:]}/v1/text-to-speech/{voice_id}/stream-input{query}"


def test_text_in_pieces_becomes_audio_with_chunk_relative_alignment(server):
    before = history_count(server)
    pieces = ["Hello there, ", "this text arrives ", "in small pieces. ", "It ends here. "]
    with connect(_url(server, voice_id_named(server, "Joe"))) as socket:
        socket.send(json.dumps({"text": " ", "voice_settings": {"speed": 1.0}}))
        for piece in pieces:
            socket.send(json.dumps({"text": piece}))
        socket.send(json.dumps({"text": ""}))
        messages = receive_all(socket)
        assert socket.close_code == 1000
    assert messages[-1] == {"isFinal": True}
    audio_messages = messages[:-1]
    assert audio_messages and all(m["isFinal"] is False for m in audio_messages)
    spoken = "".join("".join(m["alignment"]["chars"]) for m in audio_messages if m["alignment"])
    assert spoken == "".join(pieces)
    for message in audio_messages:
        alignment = message["alignment"]
        if alignment:
            assert alignment["charStartTimesMs"][0] < 1000  # relative to this message's audio
            assert len(alignment["charsDurationsMs"]) == len(alignment["chars"])
    audio = b"".join(base64.b64decode(m["audio"]) for m in audio_messages)
    assert duration_of(audio) > 2.0
    assert history_count(server) == before  # websocket takes are not stored


def test_chunk_length_schedule_releases_audio_before_the_end(server):
    with connect(_url(server, voice_id_named(server, "Joe"), "?output_format=pcm_16000")) as ws:
        ws.send(json.dumps({"text": " ", "generation_config": {"chunk_length_schedule": [50]}}))
        ws.send(json.dumps({"text": "This sentence is long enough to pass fifty characters. "}))
        early = json.loads(ws.recv(timeout=60))  # arrives while the input is still open
        assert early["audio"] and early["alignment"]["chars"]
        assert len(base64.b64decode(early["audio"])) % 2 == 0
        ws.send(json.dumps({"text": "Short tail. ", "flush": True}))
        spoken = "".join(early["alignment"]["chars"])
        while not spoken.endswith("Short tail. "):  # flush speaks the buffer without ending
            message = json.loads(ws.recv(timeout=60))
            spoken += "".join((message["alignment"] or {"chars": []})["chars"])
        ws.send(json.dumps({"text": ""}))
        assert receive_all(ws)[-1] == {"isFinal": True}


def test_try_trigger_generation_speaks_before_the_schedule_is_reached(server):
    with connect(_url(server, voice_id_named(server, "Joe"))) as ws:
        ws.send(json.dumps({"text": " "}))  # default schedule: first audio at 120 characters
        text = "Sixty characters of text are waiting in the buffer now. "
        ws.send(json.dumps({"text": text, "try_trigger_generation": True}))
        early = json.loads(ws.recv(timeout=60))  # arrives while the input is still open
        assert early["audio"] and "".join(early["alignment"]["chars"]).startswith("Sixty")
        ws.send(json.dumps({"text": ""}))
        assert receive_all(ws)[-1] == {"isFinal": True}


@pytest.mark.parametrize(
    ("voice", "query", "first", "error"),
    [
        ("NoSuchVoice000000000", "", {"text": " "}, "voice_not_found"),
        ("Joe", "?model_id=nope", {"text": " "}, "model_not_found"),
        ("Joe", "?output_format=mp3_1_1", {"text": " "}, "invalid_output_format"),
        ("Joe", "", {"no_text": True}, "invalid_request"),
        ("Joe", "?inactivity_timeout=1", None, "input_timeout_exceeded"),
    ],
    ids=["unknown-voice", "unknown-model", "bad-format", "no-text-field", "inactivity"],
)
def test_errors_are_a_json_frame_then_close_1008(server, voice, query, first, error):
    voice_id = voice_id_named(server, voice) if voice == "Joe" else voice
    with connect(_url(server, voice_id, query)) as socket:
        if first is not None:
            with contextlib.suppress(ConnectionClosed):  # the server may refuse before reading
                socket.send(json.dumps(first))
        messages = receive_all(socket)
        assert socket.close_code == 1008
    assert messages[-1]["error"] == error and messages[-1]["code"] == 1008
    assert len(messages[-1]["message"].split()) >= 4

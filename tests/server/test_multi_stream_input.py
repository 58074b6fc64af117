"""The multi-context websocket: contexts with their own settings on one socket, each tagged,
flushed, closed and billed on its own and kept as one history item; the limit of five, the
inactivity timeout, keep-alive, and bad input.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.server.helpers import (
    character_count,
    duration_of,
    get,
    history_count,
    post,
    receive_all,
    voice_id_named,
)

ASYNCAPI_PATH = next(
    (
        path
        for parent in Path(__file__).resolve().parents[3:5]
        if (path := parent / "shared" / "reference" / "elevenlabs-asyncapi.yml").exists()
    ),
    None,
)


def _schema(name: str) -> dict | None:
    if ASYNCAPI_PATH is None:
        return None
    import yaml

    schemas = yaml.safe_load(ASYNCAPI_PATH.read_text())["components"]["schemas"]
    return {**schemas[name], "components": {"schemas": schemas}}


def _url(server, voice_id: str, query: str = "") -> str:
    return f"ws{server.base_url[4:]}/v1/text-to-speech/{voice_id}/multi-stream-input{query}"


def _by_context(messages):
    contexts: dict[str, list[dict]] = {}
    for message in messages:
        contexts.setdefault(message.get("contextId"), []).append(message)
    return contexts


def _spoken(messages) -> str:
    return "".join("".join(m["alignment"]["chars"]) for m in messages if m.get("alignment"))


def test_two_contexts_speak_with_their_own_settings_and_are_billed_and_kept_apart(server):
    joe = voice_id_named(server, "Joe")
    slow_text, fast_text = "This one is slow and calm. ", "This one is fast and bright. "
    used, kept = character_count(server), history_count(server)
    with connect(_url(server, joe, "?output_format=mp3_22050_32")) as socket:
        socket.send(json.dumps({"text": " ", "context_id": "slow",
                                "voice_settings": {"speed": 0.7}}))
        socket.send(json.dumps({"text": " ", "context_id": "fast",
                                "voice_settings": {"speed": 1.2}}))
        socket.send(json.dumps({"text": slow_text, "context_id": "slow"}))
        socket.send(json.dumps({"text": fast_text, "context_id": "fast", "flush": True}))
        socket.send(json.dumps({"context_id": "slow", "flush": True}))
        socket.send(json.dumps({"close_socket": True}))
        messages = receive_all(socket)
        assert socket.close_code == 1000
    contexts = _by_context(messages)
    assert set(contexts) == {"slow", "fast"}
    audio_schema, final_schema = _schema("AudioOutputMulti"), _schema("FinalOutputMulti")
    for context_id, text in [("slow", slow_text), ("fast", fast_text)]:
        tagged = contexts[context_id]
        assert tagged[-1] == {"isFinal": True, "contextId": context_id}
        assert _spoken(tagged) == text
        if audio_schema:
            for message in tagged[:-1]:
                assert not list(Draft7Validator(audio_schema).iter_errors(message))
            assert not list(Draft7Validator(final_schema).iter_errors(tagged[-1]))
    durations = {
        name: duration_of(b"".join(base64.b64decode(m["audio"]) for m in tagged[:-1]))
        for name, tagged in contexts.items()
    }
    assert durations["slow"] > durations["fast"] * 1.2
    # Billed per context, each kept as one history item of what it said.
    assert character_count(server) - used == len(slow_text) + len(fast_text)
    assert history_count(server) == kept + 2
    history = get(server, "/v1/history?page_size=2").json()["history"]
    assert {item["text"] for item in history} == {slow_text, fast_text}


def test_close_context_drops_unflushed_text_and_bills_nothing_for_it(server):
    joe = voice_id_named(server, "Joe")
    used = character_count(server)
    with connect(_url(server, joe, "?enable_logging=false")) as socket:
        socket.send(json.dumps({"text": " ", "context_id": "a"}))
        socket.send(json.dumps({"text": "Never said. ", "context_id": "a"}))
        socket.send(json.dumps({"context_id": "a", "close_context": True}))
        assert json.loads(socket.recv(timeout=60)) == {"isFinal": True, "contextId": "a"}
        # The socket stays open for other contexts; the id can be used again, afresh.
        socket.send(json.dumps({"text": "Said now. ", "context_id": "a", "flush": True}))
        socket.send(json.dumps({"close_socket": True}))
        messages = receive_all(socket)
    assert _spoken(messages) == "Said now. "
    assert character_count(server) - used == len("Said now. ")


def test_a_sixth_context_is_refused(server):
    with connect(_url(server, voice_id_named(server, "Joe"))) as socket:
        for number in range(6):
            socket.send(json.dumps({"text": " ", "context_id": f"c{number}"}))
        messages = receive_all(socket)
        assert socket.close_code == 1008
    assert messages[-1]["error"] == "max_active_conversations"
    assert "(5)" in messages[-1]["message"]


def test_an_idle_context_times_out_while_a_kept_alive_one_stays(server):
    with connect(_url(server, voice_id_named(server, "Joe"), "?inactivity_timeout=1")) as socket:
        socket.send(json.dumps({"text": " ", "context_id": "idle"}))
        socket.send(json.dumps({"text": " ", "context_id": "alive"}))
        closed = []
        deadline = time.monotonic() + 10
        while not closed and time.monotonic() < deadline:
            socket.send(json.dumps({"text": "", "context_id": "alive"}))  # keep-alive
            with contextlib.suppress(TimeoutError):
                closed.append(json.loads(socket.recv(timeout=0.4)))
        assert closed == [{"isFinal": True, "contextId": "idle"}]
        socket.send(json.dumps({"text": "Still here. ", "context_id": "alive", "flush": True}))
        socket.send(json.dumps({"close_socket": True}))
        messages = receive_all(socket)
    assert _spoken(messages) == "Still here. "
    assert messages[-1] == {"isFinal": True, "contextId": "alive"}


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"text": " ", "context_id": 5}, "invalid_request"),
        ({"text": " ", "context_id": "x" * 300}, "invalid_request"),
        ({"text": 5, "context_id": "a"}, "invalid_request"),
        ({"text": " ", "pronunciation_dictionary_locators": [
            {"pronunciation_dictionary_id": "no", "version_id": "no"}
        ]}, "pronunciation_dictionary_not_found"),
        ({"text": " ", "voice_settings": {"speed": 9}}, "invalid_request"),
    ],
)
def test_bad_messages_end_the_socket_with_an_error_frame_and_cost_nothing(server, message, error):
    used = character_count(server)
    with connect(_url(server, voice_id_named(server, "Joe"))) as socket:
        socket.send(json.dumps(message))
        with contextlib.suppress(ConnectionClosed):  # the server may have closed already
            socket.send(json.dumps({"text": "Anything. ", "flush": True}))
        messages = receive_all(socket)
        assert socket.close_code == 1008
    assert messages[-1]["error"] == error
    assert character_count(server) == used


def test_the_key_is_needed_before_a_context_opens(server_factory):
    server = server_factory(api_keys=["right"])
    joe = voice_id_named(server, "Joe", headers={"xi-api-key": "right"})
    with connect(_url(server, joe)) as socket:
        socket.send(json.dumps({"text": " ", "xi_api_key": "wrong", "context_id": "a"}))
        messages = receive_all(socket)
        assert socket.close_code == 1008
    assert messages[-1]["error"] == "invalid_api_key"
    with connect(_url(server, joe)) as socket:
        socket.send(json.dumps({"text": " ", "xi_api_key": "right", "context_id": "a"}))
        socket.send(json.dumps({"text": "Hello. ", "context_id": "a", "flush": True}))
        socket.send(json.dumps({"close_socket": True}))
        messages = receive_all(socket)
    assert _spoken(messages) == "Hello. "


def test_a_socket_that_drops_keeps_what_its_open_contexts_said_in_the_history(server):
    # What a context said was billed and sent: a client that goes away without closing its
    # contexts still finds it in the history, as a closed context's would be. What was billed
    # and what the history keeps agree, whatever the moment the client left.
    from tests.reliability.harness import wait_until

    joe = voice_id_named(server, "Joe")
    first, second = "The tide came in at dawn. ", "And out again by noon. "
    used, kept = character_count(server), history_count(server)
    concurrency = server.services.concurrency
    with connect(_url(server, joe)) as socket:
        socket.send(json.dumps({"text": " ", "context_id": "told"}))
        socket.send(json.dumps({"text": first, "context_id": "told", "flush": True}))
        socket.send(json.dumps({"text": "This was never flushed", "context_id": "untold"}))
        heard = []
        while _spoken(heard) != first:
            heard.append(json.loads(socket.recv(timeout=60)))
        # The second take starts only once the first is settled: its audio proves it.
        socket.send(json.dumps({"text": second, "context_id": "told", "flush": True}))
        while _spoken(heard) == first:
            heard.append(json.loads(socket.recv(timeout=60)))
    # Gone mid-take, without close_context or close_socket.
    assert wait_until(lambda: concurrency.headers()["current-concurrent-requests"] == "0",
                      timeout=60)
    assert wait_until(lambda: history_count(server) == kept + 1, timeout=30)
    [item] = get(server, "/v1/history?page_size=1").json()["history"]
    assert item["text"] in (first, first + second)
    assert character_count(server) - used == len(item["text"])
    audio = get(server, f"/v1/history/{item['history_item_id']}/audio").content
    assert duration_of(audio) > 1.0


def test_an_unsupported_language_code_is_refused_as_the_http_routes_refuse_it(server):
    joe = voice_id_named(server, "Joe")
    query = "?model_id=eleven_multilingual_v2&language_code=fr"
    http = post(server, f"/v1/text-to-speech/{joe}/stream", json={
        "text": "Bonjour. ", "model_id": "eleven_multilingual_v2", "language_code": "fr",
    })
    assert http.status_code == 400
    used = character_count(server)
    with connect(_url(server, joe, query)) as socket:
        with contextlib.suppress(ConnectionClosed):  # refused on connecting, before any text
            socket.send(json.dumps({"text": " ", "context_id": "a"}))
            socket.send(json.dumps({"close_socket": True}))
        messages = receive_all(socket)
        assert socket.close_code == 1008
    assert not [message for message in messages if message.get("audio")]
    assert messages[-1]["error"] == http.json()["detail"]["status"] == "unsupported_language"
    assert messages[-1]["message"] == http.json()["detail"]["message"]
    assert character_count(server) == used


def test_a_supported_language_code_reads_every_context_in_that_language(server):
    amelia = voice_id_named(server, "Amelia")
    query = "?language_code=fr&apply_text_normalization=on"
    with connect(_url(server, amelia, query)) as socket:
        socket.send(json.dumps({"text": "Il a 42 chats. ", "context_id": "a", "flush": True}))
        socket.send(json.dumps({"close_socket": True}))
        messages = receive_all(socket)
    spoken = "".join("".join(m["normalizedAlignment"]["chars"])
                     for m in messages if m.get("normalizedAlignment"))
    assert "quarante-deux" in spoken

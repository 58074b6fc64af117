"""The stream-input websocket under hostile or careless clients.

Sockets without a key cannot take the sessions of clients that have one; text that is not
valid Unicode is refused before any synthesis; the text buffer is bounded by the model's
per-request limit; every refusal is an error frame followed by a close with code 1008.
"""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from .bad_inputs import readable
from .harness import character_count, english_voice_id, wait_until

API_KEY = "sk_websocket_hardening_0123456789abcdef"
# The default model's per-request limit (eleven_multilingual_v2).
MODEL_LIMIT = 10_000
WORDS_WITHOUT_SENTENCE_END = "and then some more words "


def _url(server, voice_id: str, query: str = "") -> str:
    return f"ws{server.base_url[4:]}/v1/text-to-speech/{voice_id}/stream-input{query}"


def _until_closed(socket_, timeout: float = 60) -> tuple[list[dict], int | None]:
    """Frames received until the server closed, and the close code."""
    frames = []
    try:
        while True:
            frames.append(json.loads(socket_.recv(timeout=timeout)))
    except ConnectionClosed:
        pass
    return frames, socket_.close_code


def _audio_frames(frames: list[dict]) -> list[dict]:
    return [frame for frame in frames if frame.get("audio")]


def _assert_refused(frames: list[dict], close: int | None, error: str) -> None:
    assert close == 1008, f"closed with {close}, frames {frames!r:.300}"
    assert frames and frames[-1].get("error") == error, f"{frames!r:.300}"
    assert frames[-1]["code"] == 1008
    assert readable(frames[-1]["message"]), frames[-1]["message"]
    assert not _audio_frames(frames), "audio was sent for refused input"


def _spoken(frames: list[dict]) -> str:
    return "".join("".join(f["alignment"]["chars"]) for f in frames if f.get("alignment"))


def _assert_dropped_take_refunded(server, before: int) -> None:
    # The take of a dropped session stops after the clause being synthesized and is refunded
    # (waiting for that also keeps its thread from outliving the test).
    assert wait_until(lambda: character_count(server.base_url) == before, timeout=120)


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("ws-keyed"), api_keys=(API_KEY,),
                             max_websocket_sessions=2)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def keyed_voice(keyed_server) -> str:
    return english_voice_id(keyed_server.base_url, API_KEY)


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("ws-open"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def open_voice(open_server) -> str:
    return english_voice_id(open_server.base_url)


# -- sessions without a key ---------------------------------------------------------------

def test_keyless_sockets_neither_take_sessions_nor_linger(keyed_server, keyed_voice):
    url = _url(keyed_server, keyed_voice, "?inactivity_timeout=180")
    with contextlib.ExitStack() as stack:
        keyless = [stack.enter_context(ws_connect(url, open_timeout=30)) for _ in range(4)]
        # Twice as many silent keyless sockets as there are sessions: a keyed client still
        # gets one, with the key in the header or in the first message.
        for headers, init in (({"xi-api-key": API_KEY}, {"text": " "}),
                              ({}, {"text": " ", "xi_api_key": API_KEY})):
            with ws_connect(url, additional_headers=headers, open_timeout=30) as keyed:
                keyed.send(json.dumps(init))
                keyed.send(json.dumps({"text": "I have a key. "}))
                keyed.send(json.dumps({"text": ""}))
                frames, close = _until_closed(keyed)
            assert close == 1000, f"keyed session refused: {frames[-1:]!r:.300}"
            assert _audio_frames(frames) and frames[-1] == {"isFinal": True}
        # The keyless sockets are closed long before their 180 s inactivity timeout.
        for socket_ in keyless:
            frames, close = _until_closed(socket_, timeout=60)
            _assert_refused(frames, close, "input_timeout_exceeded")
            assert "xi_api_key" in frames[-1]["message"]


def test_a_session_with_the_key_in_its_first_message_counts(server_factory):
    server = server_factory(api_keys=(API_KEY,), max_websocket_sessions=1)
    url = _url(server, english_voice_id(server.base_url, API_KEY))
    with ws_connect(url, open_timeout=30) as first:
        first.send(json.dumps({"text": " ", "xi_api_key": API_KEY}))
        first.send(json.dumps({"text": "Ready. ", "flush": True}))
        assert json.loads(first.recv(timeout=60)).get("audio")  # authenticated and running
        with ws_connect(url, additional_headers={"xi-api-key": API_KEY},
                        open_timeout=30) as second:
            frames, close = _until_closed(second)
        _assert_refused(frames, close, "too_many_concurrent_requests")


@pytest.mark.parametrize("key", [12345, ["a", "list"], "sk_\ud800_surrogate"],
                         ids=["number", "list", "lone-surrogate"])
def test_a_malformed_key_in_the_first_message_is_refused(keyed_server, keyed_voice, key):
    with ws_connect(_url(keyed_server, keyed_voice), open_timeout=30) as socket_:
        socket_.send(json.dumps({"text": " ", "xi_api_key": key}))
        frames, close = _until_closed(socket_)
    _assert_refused(frames, close, "invalid_api_key")


# -- text that cannot be spoken -----------------------------------------------------------

@pytest.mark.parametrize("first", [True, False], ids=["in-first-message", "later"])
def test_a_lone_surrogate_is_refused_before_synthesis(open_server, open_voice, first):
    before = character_count(open_server.base_url)
    messages = [{"text": "Hello \ud800 there. ", "flush": True}]
    if not first:
        messages = [{"text": " "}, {"text": "Fine so far. "}, *messages]
    with ws_connect(_url(open_server, open_voice), open_timeout=30) as socket_:
        for message in messages:
            socket_.send(json.dumps(message))  # json.dumps writes the surrogate as \ud800
        frames, close = _until_closed(socket_)
    _assert_refused(frames, close, "invalid_text")
    assert "\\ud800" in frames[-1]["message"]
    assert character_count(open_server.base_url) == before


def test_pieces_with_nothing_to_say_are_skipped_and_not_billed(open_server, open_voice):
    before = character_count(open_server.base_url)
    spoken = ["Hello there. ", "Goodbye now. "]
    with ws_connect(_url(open_server, open_voice), open_timeout=30) as socket_:
        socket_.send(json.dumps({"text": " "}))
        socket_.send(json.dumps({"text": spoken[0], "flush": True}))
        socket_.send(json.dumps({"text": "👋 🎉 ", "flush": True}))
        socket_.send(json.dumps({"text": spoken[1], "flush": True}))
        socket_.send(json.dumps({"text": ""}))
        frames, close = _until_closed(socket_)
    assert close == 1000 and frames[-1] == {"isFinal": True}
    assert _spoken(frames) == "".join(spoken)
    assert character_count(open_server.base_url) - before == len("".join(spoken))


# -- the auto_mode buffer -----------------------------------------------------------------

def test_a_message_over_the_model_limit_is_refused_at_once(open_server, open_voice):
    before = character_count(open_server.base_url)
    text = WORDS_WITHOUT_SENTENCE_END * (MODEL_LIMIT // len(WORDS_WITHOUT_SENTENCE_END) + 20)
    with ws_connect(_url(open_server, open_voice, "?auto_mode=true"), open_timeout=30,
                    max_size=None) as socket_:
        socket_.send(json.dumps({"text": " "}))
        socket_.send(json.dumps({"text": text}))  # no end of input: the refusal comes first
        frames, close = _until_closed(socket_)
    _assert_refused(frames, close, "max_character_limit_exceeded")
    assert f"{MODEL_LIMIT:,}" in frames[-1]["message"]
    assert character_count(open_server.base_url) == before


def test_auto_mode_speaks_a_buffer_that_reaches_the_limit(open_server, open_voice):
    before = character_count(open_server.base_url)
    piece = WORDS_WITHOUT_SENTENCE_END * (MODEL_LIMIT * 3 // 5 // len(WORDS_WITHOUT_SENTENCE_END))
    with ws_connect(_url(open_server, open_voice, "?auto_mode=true"), open_timeout=30,
                    max_size=None) as socket_:
        socket_.send(json.dumps({"text": " "}))
        socket_.send(json.dumps({"text": piece}))
        socket_.send(json.dumps({"text": piece}))  # past the limit, still no sentence end
        # Audio comes while the input is still open (the socket is dropped before the end:
        # the rest of this long take is not needed).
        first = json.loads(socket_.recv(timeout=120))
    assert first.get("audio"), f"expected audio, got {first!r:.300}"
    assert _spoken([first]) and piece.startswith(_spoken([first]))
    _assert_dropped_take_refunded(open_server, before)


def test_a_short_sentence_end_releases_a_long_auto_mode_buffer(open_server, open_voice):
    # The sentence-end check looks only at each new message: it must still see this one.
    before = character_count(open_server.base_url)
    words = WORDS_WITHOUT_SENTENCE_END * (MODEL_LIMIT * 4 // 5 // len(WORDS_WITHOUT_SENTENCE_END))
    with ws_connect(_url(open_server, open_voice, "?auto_mode=true"), open_timeout=30,
                    max_size=None) as socket_:
        socket_.send(json.dumps({"text": " "}))
        socket_.send(json.dumps({"text": words}))
        socket_.send(json.dumps({"text": "end."}))
        first = json.loads(socket_.recv(timeout=120))  # before the end of input
    assert first.get("audio"), f"expected audio, got {first!r:.300}"
    assert words.startswith(_spoken([first]))
    _assert_dropped_take_refunded(open_server, before)


def test_a_session_speaking_a_long_piece_still_answers_pings(open_server, open_voice):
    # The client pings every second and gives up after 3 s without a pong; the server keeps
    # reading (and answering) while it speaks, with the client's next message waiting.
    before = character_count(open_server.base_url)
    words = WORDS_WITHOUT_SENTENCE_END * (MODEL_LIMIT * 3 // 5 // len(WORDS_WITHOUT_SENTENCE_END))
    with ws_connect(_url(open_server, open_voice), open_timeout=30, max_size=None,
                    ping_interval=1, ping_timeout=3, close_timeout=1) as socket_:
        socket_.send(json.dumps({"text": " "}))
        socket_.send(json.dumps({"text": words, "flush": True}))
        assert json.loads(socket_.recv(timeout=120)).get("audio")  # the long piece has begun
        socket_.send(json.dumps({"text": "This waits for the long piece. "}))
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                socket_.recv(timeout=max(0.1, deadline - time.monotonic()))
    _assert_dropped_take_refunded(open_server, before)


# -- frames the session cannot read -------------------------------------------------------

@pytest.mark.parametrize(
    "frame",
    [b'{"text": "Binary JSON. "}', '{"text": null}', '["text", "in", "a", "list"]',
     '{"text": "Hi. ", "voice_settings": {"speed": Infinity}}', '{"text": "Hi. ", "x": 1e999}'],
    ids=["binary", "null-text", "json-array", "infinity", "overflowing-float"])
def test_an_unreadable_frame_gets_an_error_frame_and_1008(open_server, open_voice, frame):
    with ws_connect(_url(open_server, open_voice), open_timeout=30) as socket_:
        socket_.send(json.dumps({"text": " "}))
        with contextlib.suppress(ConnectionClosed):
            socket_.send(frame)
            socket_.send(json.dumps({"text": ""}))
        frames, close = _until_closed(socket_)
    _assert_refused(frames, close, "invalid_request")

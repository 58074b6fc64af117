"""A key inside a long websocket message stays out of the debug log.

websockets logs each frame at DEBUG shortened to its beginning and its end; a key that sits at
the end of a long first message (after the voice settings, as a client may put it) keeps its
tail in the shortened text while its name and ``sk_`` prefix fall in the cut, so redacting the
shortened line cannot find it.
"""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect as ws_connect

from .harness import ServerProcess, voice_ids

SERVER_KEY = "sk_" + "d4" * 24
HOSTED_KEY = "sk_" + "e5" * 24  # a key this server does not know (meant for the hosted API)
LONG_SETTINGS = {"stability": 0.5, "similarity_boost": 0.75, "style": 0.0, "speed": 1.0}


def _tails(key: str) -> list[str]:
    """Every 12-character piece of the key after its ``sk_`` prefix."""
    return [key[start:start + 12] for start in range(3, len(key) - 11)]


@pytest.fixture(scope="module")
def debug_server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("frames"),
                           ["--api-key", SERVER_KEY, "--log-level", "debug"]).start()
    yield server
    server.stop()


def test_a_key_at_the_end_of_a_long_first_message_is_not_logged(debug_server):
    base_url = debug_server.base_url
    voice = voice_ids(base_url, SERVER_KEY)[0]
    for key in (SERVER_KEY, HOSTED_KEY):
        url = f"ws{base_url[4:]}/v1/text-to-speech/{voice}/stream-input"
        with ws_connect(url, open_timeout=30) as socket_:
            socket_.send(json.dumps({"text": " ", "voice_settings": LONG_SETTINGS,
                                     "xi_api_key": key}))
            if key == SERVER_KEY:
                socket_.send(json.dumps({"text": ""}))
                socket_.recv(timeout=60)
            else:
                # A key this server does not know: it answers with an error frame and closes
                # at once (a second message from here would race that close).
                with pytest.raises(ConnectionClosedError) as closed:
                    while True:
                        socket_.recv(timeout=60)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    debug_server.stop()

    output = debug_server.output
    assert "< TEXT" in output, "websocket frames were not logged at debug"
    for key in (SERVER_KEY, HOSTED_KEY):
        leaked = [piece for piece in _tails(key) if piece in output]
        assert not leaked, f"part of a key is in the debug log: {leaked[0]!r}"

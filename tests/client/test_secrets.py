"""The API key never shows: not in a repr, a str, a log record, an error or a traceback."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest
import responses

from xiwidgets.client import (
    AuthenticationError,
    Client,
    ConnectionFailed,
    NotFound,
    XIError,
)

from .helpers import HOSTED, SECRET_KEY

# Module constants, not locals: the tracebacks below are formatted with every frame's locals.
WRONG_KEY = SECRET_KEY + "_wrong"


def _everything_about(error: BaseException) -> str:
    """str, repr, args, and the traceback formatted with every frame's local variables."""
    formatted = "".join(traceback.TracebackException.from_exception(
        error, capture_locals=True).format())
    parts = [str(error), repr(error), repr(error.args), formatted]
    response = getattr(error, "response", None)
    if response is not None:
        parts += [repr(response), repr(dict(response.request.headers)), response.text]
    return "\n".join(parts)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every logger, requests/urllib3/websockets included, at DEBUG."""
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "websockets", "xiwidgets"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A local server that requires ``SECRET_KEY``."""
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("keyed"), api_keys=[SECRET_KEY])
    yield handle
    handle.stop()


def test_client_repr_never_shows_the_key(monkeypatch):
    explicit = Client(api_key=SECRET_KEY)
    monkeypatch.setenv("ELEVENLABS_API_KEY", SECRET_KEY)
    from_env = Client()

    for client in (explicit, from_env):
        shown = repr(client) + str(client) + repr(vars(client)) + repr(client._transport.session)
        assert SECRET_KEY not in shown
        assert "key set" in repr(client)


def test_working_session_logs_no_key(keyed_server, debug_logs, tmp_path):
    client = Client(api_key=SECRET_KEY, base_url=keyed_server.base_url)
    voice = client.voices.find("Joe")
    take = client.tts.convert(voice, text="Keys stay secret.")
    streamed = client.tts.stream(voice, text="Keys stay secret.").read()
    chunks = list(client.tts.realtime(voice, text_chunks=["Keys stay ", "secret."]))
    item = client.history.get(take.history_item_id)
    user = client.user.get()

    assert streamed and chunks and item.text == "Keys stay secret."
    # Both the HTTP and the WebSocket request logs show the header, redacted.
    assert "'xi-api-key': '[redacted]'" in debug_logs.text
    assert "> xi-api-key: [redacted]" in debug_logs.text
    assert SECRET_KEY not in debug_logs.text
    for shown in (take, voice, item, user, user.subscription, chunks[0]):
        assert SECRET_KEY not in repr(shown) + str(shown)


def test_rejected_key_error_and_traceback_hide_the_key(keyed_server, debug_logs):
    client = Client(api_key=WRONG_KEY, base_url=keyed_server.base_url)

    with pytest.raises(AuthenticationError) as caught:
        client.tts.convert("Joe", text="Hello")

    assert caught.value.status_code == 401
    everything = _everything_about(caught.value)
    assert WRONG_KEY not in everything and SECRET_KEY not in everything
    assert "Set ELEVENLABS_API_KEY" in str(caught.value)
    assert WRONG_KEY not in debug_logs.text


def test_realtime_errors_hide_the_key(keyed_server, debug_logs):
    client = Client(api_key=WRONG_KEY, base_url=keyed_server.base_url)
    voice_id = Client(api_key=SECRET_KEY, base_url=keyed_server.base_url).voices.find("Joe")

    with pytest.raises(XIError) as caught:
        list(client.tts.realtime(voice_id, text_chunks=["Hello there."]))

    assert isinstance(caught.value, AuthenticationError)
    assert WRONG_KEY not in _everything_about(caught.value)
    assert WRONG_KEY not in debug_logs.text


def test_not_found_error_hides_the_key(keyed_server):
    client = Client(api_key=SECRET_KEY, base_url=keyed_server.base_url)

    with pytest.raises(NotFound) as caught:
        client.history.get("no-such-item")

    assert SECRET_KEY not in _everything_about(caught.value)


def test_connection_failure_traceback_hides_the_key(debug_logs):
    client = Client(api_key=SECRET_KEY, base_url="http://127.0.0.1:9", max_retries=0)

    with pytest.raises(ConnectionFailed) as caught:
        client.models.list()

    assert SECRET_KEY not in _everything_about(caught.value)
    assert SECRET_KEY not in debug_logs.text


def test_user_endpoint_echoing_the_key_is_not_kept():
    with responses.RequestsMock() as api:
        api.get(f"{HOSTED}/v1/user", json={
            "user_id": "u1", "xi_api_key": SECRET_KEY, "xi_api_key_preview": "sk_l...1b",
            "subscription": {"tier": "free", "character_count": 10, "character_limit": 100},
        })
        user = Client(api_key=SECRET_KEY).user.get()

    assert user.user_id == "u1" and user.subscription.characters_left == 90
    assert SECRET_KEY not in repr(user) + repr(user.extra)


# The key pasted into a field of a take (a module constant: no frame's local holds it).
PASTED: dict[str, Any] = {"output_format": SECRET_KEY, "model_id": SECRET_KEY,
                          "voice_settings": {"stability": SECRET_KEY}}


@pytest.mark.parametrize("field", sorted(PASTED))
def test_a_key_pasted_into_a_field_is_not_echoed_into_the_error(keyed_server, field):
    # The server's answer repeats what it refused (its own body may: it is the caller's), and
    # the frames' locals hold the caller's own arguments; the error the caller sees, its
    # traceback and its list of field messages do not.
    client = Client(api_key=SECRET_KEY, base_url=keyed_server.base_url, max_retries=0)
    voice_id = client.voices.find("Joe")

    with pytest.raises(XIError) as caught:
        client.tts.convert(voice_id, text="Hello", **{field: PASTED[field]})

    error = caught.value
    assert SECRET_KEY in error.response.text or field == "voice_settings"
    shown = [str(error), repr(error), repr(error.args), "".join(traceback.format_exception(error)),
             repr(getattr(error, "errors", None)), repr(error.message)]
    assert not [text for text in shown if SECRET_KEY in text]

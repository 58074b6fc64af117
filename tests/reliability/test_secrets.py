"""A known API key never shows up in logs, reprs, exception texts, tracebacks or widget state.

The server runs with ``--api-key`` as a CLI subprocess (its whole output is scanned), and the
client is driven through every error path it has. The saved-notebook scan belongs to the widget
tests.
"""

from __future__ import annotations

import json
import logging
import traceback

import pytest
import requests
from websockets.sync.client import connect as ws_connect

from .harness import DroppingProxy, ServerProcess, english_voice_id

API_KEY = "sk_secret_known_5f3a9c0e1b2d4f6a8c0e"
WRONG_KEY = "sk_secret_wrong_9e8d7c6b5a4f3e2d1c0b"
SECRETS = (API_KEY, WRONG_KEY)


def _assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"the key appears in {where}"
        assert secret[8:] not in text, f"most of the key appears in {where}"


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory):
    """The CLI server with a known key, stopped at the end of the module (output kept)."""
    server = ServerProcess(tmp_path_factory.mktemp("secret-data"),
                           ["--api-key", API_KEY, "--character-limit", "400",
                            "--log-level", "debug"]).start()
    yield server
    server.stop()


def _error_paths(client, proxy_client, voice_id: str, closed_port_client):
    """Yield (label, exception) for every way a client call can fail."""
    from xiwidgets.client import XIError

    calls = {
        "unknown voice": lambda: client.tts.convert("NoSuchVoice0000000000", text="Hello."),
        "empty text": lambda: client.tts.convert(voice_id, text=""),
        "bad output format": lambda: client.tts.convert(voice_id, text="Hi.",
                                                        output_format="mp3_1"),
        "unknown history item": lambda: client.history.get("NoSuchItem0000000000"),
        "quota exceeded": lambda: client.tts.convert(voice_id, text="word " * 200),
        "stream interrupted": lambda: proxy_client.tts.stream(
            voice_id, text="A long sentence that will not arrive whole. " * 6).read(),
        "connection failed": lambda: closed_port_client.voices.list(),
    }
    for label, call in calls.items():
        try:
            call()
        except XIError as error:
            yield label, error
        else:
            pytest.fail(f"{label}: no error raised")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_key_never_leaks_from_server_client_or_widgets(cli_server, caplog):
    from xiwidgets.client import AuthenticationError, Client

    base_url = cli_server.base_url
    voice_id = english_voice_id(base_url, API_KEY)
    # The reference also allows the key inside the first websocket message (before the
    # client's logs are captured: this raw socket is not the client under test).
    with ws_connect(f"ws{base_url[4:]}/v1/text-to-speech/{voice_id}/stream-input",
                    open_timeout=30) as socket_:
        socket_.send(json.dumps({"text": " ", "xi_api_key": API_KEY}))
        socket_.send(json.dumps({"text": "Key in the message. "}))
        socket_.send(json.dumps({"text": ""}))
        while not json.loads(socket_.recv(timeout=60)).get("isFinal"):
            pass
    # Another test may have left the websockets logger at DEBUG: what the raw socket above
    # logged is the test's own doing, not the client's.
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    client = Client(api_key=API_KEY, base_url=base_url, max_retries=0)
    wrong_client = Client(api_key=WRONG_KEY, base_url=base_url, max_retries=0)
    proxy = DroppingProxy(base_url, cut_after_bytes=30_000)
    proxy_client = Client(api_key=API_KEY, base_url=proxy.base_url, max_retries=0)
    closed_port_client = Client(api_key=API_KEY, base_url="http://127.0.0.1:9", max_retries=0,
                                timeout=5)

    client.tts.convert(voice_id, text="A good take.")
    assert list(client.tts.realtime(voice_id, text_chunks=["Over the socket. "])), (
        "no audio over the socket")
    requests.get(base_url + "/v1/user", headers={"xi-api-key": WRONG_KEY}, timeout=30)

    errors = list(_error_paths(client, proxy_client, voice_id, closed_port_client))
    with pytest.raises(AuthenticationError) as refused:
        wrong_client.voices.list()
    errors.append(("wrong key", refused.value))

    for label, error in errors:
        _assert_no_secret(str(error), f"str() of the {label} error")
        _assert_no_secret(repr(error), f"repr() of the {label} error")
        _assert_no_secret("".join(traceback.format_exception(error)),
                          f"the traceback of the {label} error")
        _assert_no_secret(repr(error.args), f"the args of the {label} error")
    for shown in (client, wrong_client, getattr(client, "session", None)):
        _assert_no_secret(repr(shown), "a client repr")
        _assert_no_secret(str(shown), "a client str")
    _assert_no_secret(caplog.text, "the client's log records")
    _assert_widget_states_clean(client, wrong_client, proxy_client, voice_id)
    proxy.close()

    cli_server.stop()
    _assert_no_secret(cli_server.output, "the server's log output")
    assert cli_server.output.strip(), "the server logged nothing at all to scan"


def _assert_widget_states_clean(client, wrong_client, proxy_client, voice_id: str) -> None:
    """Build the widgets on the keyed client, make a player fail, then dump every state."""
    widgets_module = pytest.importorskip("xiwidgets.widgets")
    from ipywidgets.widgets.widget import _instances

    built = []
    for name in ("Studio", "VoicePicker", "ModelPicker", "HistoryTable", "QuotaMeter",
                 "VoiceMaker", "Player"):
        widget_class = getattr(widgets_module, name, None)
        if widget_class is not None:
            built.append(widget_class(client=client))

    def refused_stream():
        yield from wrong_client.tts.stream(voice_id, text="Never spoken.")

    def cut_stream():
        yield from proxy_client.tts.stream(voice_id, text="Cut short, again and again. " * 30)

    for failing in (refused_stream(), cut_stream()):
        player = widgets_module.Player(client=client, policy="none")
        player.play_stream(failing)
        assert player.status == "error"
        built.append(player)
    states = {model_id: widget.get_state() for model_id, widget in list(_instances.items())}
    _assert_no_secret(json.dumps(states, default=repr), "widget state")
    for widget in built:
        _assert_no_secret(repr(widget), f"repr() of {type(widget).__name__}")

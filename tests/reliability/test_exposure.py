"""The local server is safe to leave running on a machine with a browser and other users.

Every web page in the user's browser, and every local process, can reach ``127.0.0.1``. So:
pages of foreign origins and DNS-rebinding host names are refused (HTTP and WebSocket); the
embedded server of ``xiwidgets.connect()`` requires a key only the kernel holds; a bind beyond
loopback needs a key or an explicit ``--insecure-no-auth``; no key of any shape reaches a log
line; and idle or half-sent connections are closed instead of piling up.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from .harness import ServerProcess, error_status, history_ids, host_port, voice_ids, wait_until
from .probe_idle import HALF_REQUEST, probe_idle

EVIL_ORIGIN = "https://evil.example"
PAGE_ORIGIN = "http://localhost:8888"  # e.g. the JupyterLab page, allowed in some tests
REBOUND_HOST = "attacker.example"
SAMPLE_WAV = (b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80>\x00\x00"
              b"\x00}\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    """A keyless server (the embedded default's settings) holding one take."""
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("exposure"))
    voice = voice_ids(handle.base_url)[0]
    response = requests.post(f"{handle.base_url}/v1/text-to-speech/{voice}",
                             json={"text": "A private take."}, timeout=120)
    response.raise_for_status()
    yield handle
    handle.stop()


def _ws_url(base_url: str, voice_id: str) -> str:
    return f"ws{base_url[4:]}/v1/text-to-speech/{voice_id}/stream-input"


# -- pages of other origins and rebound host names --------------------------------------------


@pytest.mark.parametrize("headers", [{"Origin": EVIL_ORIGIN}, {"Host": REBOUND_HOST},
                                     {"Origin": "null"}],
                         ids=["foreign origin", "rebound host", "null origin"])
def test_a_web_page_cannot_read_the_history(open_server, headers):
    response = requests.get(open_server.base_url + "/v1/history", headers=headers, timeout=30)

    assert response.status_code == 403
    assert error_status(response.json()) in ("origin_not_allowed", "host_not_allowed")
    assert "private take" not in response.text.lower()
    assert "access-control-allow-origin" not in response.headers


def test_a_web_page_cannot_delete_a_take(open_server):
    (item,) = history_ids(open_server.base_url)[:1]
    preflight = requests.options(
        f"{open_server.base_url}/v1/history/{item}",
        headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "DELETE"}, timeout=30)
    deleted = requests.delete(f"{open_server.base_url}/v1/history/{item}",
                              headers={"Origin": EVIL_ORIGIN}, timeout=30)

    assert preflight.status_code == 403
    assert "DELETE" not in preflight.headers.get("access-control-allow-methods", "")
    assert "access-control-allow-origin" not in preflight.headers
    assert deleted.status_code == 403
    assert item in history_ids(open_server.base_url)


def test_a_cross_site_form_post_adds_no_voice(open_server):
    # A multipart form post is a "simple" request: the browser sends it without a preflight.
    before = voice_ids(open_server.base_url)
    response = requests.post(f"{open_server.base_url}/v1/voices/add",
                             headers={"Origin": EVIL_ORIGIN}, data={"name": "Planted"},
                             files=[("files", ("a.wav", SAMPLE_WAV, "audio/wav"))], timeout=30)

    assert response.status_code == 403
    assert error_status(response.json()) == "origin_not_allowed"
    assert voice_ids(open_server.base_url) == before


def test_a_web_page_cannot_open_the_websocket(open_server):
    # Browsers send Origin on every WebSocket handshake; CORS does not apply to WebSockets.
    url = _ws_url(open_server.base_url, voice_ids(open_server.base_url)[0])
    with pytest.raises(InvalidStatus) as refused, ws_connect(url, origin=EVIL_ORIGIN,
                                                              open_timeout=30):
        pass

    assert refused.value.response.status_code == 403
    assert error_status(json.loads(refused.value.response.body)) == "origin_not_allowed"


def test_a_rebound_host_cannot_open_the_websocket(open_server):
    host, port = host_port(open_server.base_url)
    path = _ws_url(open_server.base_url, voice_ids(open_server.base_url)[0]).split(str(port))[1]
    handshake = (f"GET {path} HTTP/1.1\r\nHost: {REBOUND_HOST}:{port}\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n")
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(handshake.encode())
        answer = _read_until_closed(sock)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403"), head
    assert error_status(json.loads(body)) == "host_not_allowed"


def test_programs_and_the_servers_own_pages_still_get_in(open_server):
    base_url = open_server.base_url
    host, port = host_port(base_url)
    voice = voice_ids(base_url)[0]

    assert requests.get(base_url + "/v1/history", timeout=30).status_code == 200
    for name in (f"localhost:{port}", f"127.0.0.7:{port}", f"[::1]:{port}", "localhost"):
        assert requests.get(base_url + "/v1/models", headers={"Host": name},
                            timeout=30).status_code == 200, name
    # The /docs page's "Try it out" sends the server's own origin.
    own = requests.get(base_url + "/v1/models", headers={"Origin": f"http://{host}:{port}"},
                       timeout=30)
    assert own.status_code == 200
    with ws_connect(_ws_url(base_url, voice), open_timeout=30) as socket_:
        socket_.send(json.dumps({"text": " "}))
        socket_.send(json.dumps({"text": ""}))
        assert json.loads(socket_.recv(timeout=60)) == {"isFinal": True}


def test_only_configured_origins_and_hosts_are_let_in(server_factory):
    handle = server_factory(allowed_origins=[PAGE_ORIGIN + "/"], allowed_hosts=["Proxy.Example"],
                            warm_up=False)
    url = handle.base_url + "/v1/models"

    allowed = requests.get(url, headers={"Origin": PAGE_ORIGIN}, timeout=30)
    preflight = requests.options(url, headers={"Origin": PAGE_ORIGIN,
                                               "Access-Control-Request-Method": "GET",
                                               "Access-Control-Request-Headers": "xi-api-key"},
                                 timeout=30)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PAGE_ORIGIN
    assert "request-id" in allowed.headers["access-control-expose-headers"].lower()
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == PAGE_ORIGIN
    assert requests.get(url, headers={"Origin": EVIL_ORIGIN}, timeout=30).status_code == 403
    assert requests.get(url, headers={"Host": "proxy.example:443"}, timeout=30).status_code == 200
    assert requests.get(url, headers={"Host": REBOUND_HOST}, timeout=30).status_code == 403


@pytest.mark.parametrize("origin", ["*", "null", "http://localhost:8888/lab", "localhost:8888"])
def test_an_allowed_origin_must_be_an_origin(origin):
    from xiwidgets.server import ServerConfig

    with pytest.raises(ValueError, match="not an origin"):
        ServerConfig(data_dir=None, allowed_origins=(origin,))


# -- the embedded server's key ----------------------------------------------------------------


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    """``xiwidgets.connect()`` with no key or base URL set: the embedded server, stopped after."""
    from xiwidgets.client import embedded as embedded_module
    from xiwidgets.config import API_KEY_ENV_VARS, BASE_URL_ENV_VAR

    for name in (*API_KEY_ENV_VARS, BASE_URL_ENV_VAR):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XIWIDGETS_DATA_DIR", str(tmp_path))
    embedded_module.shutdown()
    yield embedded_module
    embedded_module.shutdown()


def test_the_embedded_server_answers_only_the_kernels_client(embedded, capsys):
    import xiwidgets

    client = xiwidgets.connect()
    handle = embedded.embedded_server()
    key = handle.api_key
    printed = capsys.readouterr()

    assert client.is_local and client.voices.list()
    other_program = requests.get(client.base_url + "/v1/history", timeout=30)
    assert other_program.status_code == 401
    assert error_status(other_program.json()) == "invalid_api_key"
    assert key and len(key) >= 32
    assert requests.get(client.base_url + "/v1/history", headers={"xi-api-key": key},
                        timeout=30).status_code == 200
    for shown in (printed.out, printed.err, repr(client), str(client), repr(handle),
                  repr(handle.config)):
        assert key not in shown
    assert xiwidgets.connect(timeout=20).voices.list()  # clients with options get the key too
    widgets = pytest.importorskip("xiwidgets.widgets")
    from ipywidgets.widgets.widget import _instances

    studio = widgets.Studio()  # on the shared connect() client
    assert studio.voice_picker.voice_id  # it listed the voices through the key
    states = {model_id: widget.get_state() for model_id, widget in list(_instances.items())}
    assert key not in json.dumps(states, default=repr)


def test_two_servers_on_one_data_dir_each_accept_their_own_key(server_factory, tmp_path):
    # Two notebooks' embedded servers share the user data directory, each with its own key.
    first = server_factory(data_dir=tmp_path, api_keys=["first-kernel-key"], warm_up=False)
    second = server_factory(data_dir=tmp_path, api_keys=["second-kernel-key"], warm_up=False)

    for handle, key in ((first, "first-kernel-key"), (second, "second-kernel-key")):
        assert requests.get(handle.base_url + "/v1/models", headers={"xi-api-key": key},
                            timeout=30).status_code == 200
    assert requests.get(first.base_url + "/v1/models",
                        headers={"xi-api-key": "second-kernel-key"}, timeout=30).status_code == 401


# -- binding beyond loopback ------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.0.2.10", "myhost.lan"])
def test_a_keyless_bind_beyond_loopback_is_refused(host):
    from xiwidgets.server import ServerConfig

    with pytest.raises(ValueError, match="--insecure-no-auth"):
        ServerConfig(data_dir=None, host=host)
    assert ServerConfig(data_dir=None, host=host, api_keys=("k",)).api_keys == ("k",)
    assert ServerConfig(data_dir=None, host=host, insecure_no_auth=True).host == host


def test_start_in_thread_refuses_a_keyless_public_bind(tmp_path):
    from xiwidgets.server import start_in_thread

    handle = None
    try:
        with pytest.raises(ValueError, match="without an API key"):
            handle = start_in_thread(data_dir=tmp_path, host="0.0.0.0")
    finally:
        if handle is not None:
            handle.stop()


def test_cli_refuses_a_keyless_public_bind_in_one_line(tmp_path):
    # 192.0.2.10 (TEST-NET) is no address of this machine: nothing could bind it anyway.
    command = [sys.executable, "-m", "xiwidgets.cli", "serve", "--host", "192.0.2.10",
               "--port", "0", "--data-dir", str(tmp_path)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)

    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "--api-key" in lines[0] and "--insecure-no-auth" in lines[0]
    assert "listening" not in completed.stdout


def test_cli_serves_openly_beyond_loopback_when_told_to(tmp_path):
    with ServerProcess(tmp_path / "data", ["--insecure-no-auth"], host="0.0.0.0") as server:
        port = host_port(server.base_url)[1]
        response = requests.get(f"http://127.0.0.1:{port}/v1/models", timeout=30)
        assert response.status_code == 200
        assert "warning: serving on 0.0.0.0 without --api-key" in server.output
        # Bound beyond loopback with no --allow-host, any host name is accepted.
        assert requests.get(f"http://127.0.0.1:{port}/v1/models", headers={"Host": "box.lan"},
                            timeout=30).status_code == 200


# -- keys in logs -----------------------------------------------------------------------------

SK_HEADER = "sk_" + "a1" * 24
PLAIN_HEADER = "plain-header-secret-7QpZ2"
QUERY_SECRETS = {
    "xi-api-key": "query-dash-secret-8LmW4",
    "xi_api_key": "query-underscore-secret-3VbN9",
    "api_key": "query-generic-secret-5TrX1",
}
BEARER_QUERY = "bearer-query-secret-6YhJ0"
BEARER_HEADER = "bearer-header-secret-2KdS8"
WS_HEADER = "sk_" + "b2" * 24
WS_PLAIN_HEADER = "ws-plain-header-secret-4GfE3"
WS_QUERY = "ws-query-secret-9PoI5"
WS_MESSAGE = "ws-message-secret-1AzQ7"
SK_IN_PATH = "sk_" + "c3" * 24
ALL_SECRETS = [SK_HEADER, PLAIN_HEADER, *QUERY_SECRETS.values(), BEARER_QUERY, BEARER_HEADER,
               WS_HEADER, WS_PLAIN_HEADER, WS_QUERY, WS_MESSAGE, SK_IN_PATH]


def _send_unknown_keys_everywhere(base_url: str) -> None:
    """Requests carrying keys this server does not know, in every place a key travels."""
    models = base_url + "/v1/models"
    requests.get(models, headers={"xi-api-key": SK_HEADER}, timeout=30)
    requests.get(models, headers={"XI-API-KEY": PLAIN_HEADER}, timeout=30)
    requests.get(models, headers={"Authorization": f"Bearer {BEARER_HEADER}"}, timeout=30)
    for name, secret in QUERY_SECRETS.items():
        requests.get(models, params={name: secret}, timeout=30)
    requests.get(f"{models}?authorization=Bearer%20{BEARER_QUERY}", timeout=30)
    requests.get(f"{base_url}/v1/voices/{SK_IN_PATH}", timeout=30)
    voice = voice_ids(base_url)[0]
    url = f"{_ws_url(base_url, voice)}?xi_api_key={WS_QUERY}"
    with ws_connect(url, additional_headers={"xi-api-key": WS_HEADER,
                                             "X-Api-Key": WS_PLAIN_HEADER},
                    open_timeout=30) as socket_:
        socket_.send(json.dumps({"text": " ", "xi_api_key": WS_MESSAGE}))
        socket_.send(json.dumps({"text": ""}))
        socket_.recv(timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("level", ["debug", "info"])
def test_no_key_of_any_shape_reaches_the_log(tmp_path, level):
    server = ServerProcess(tmp_path / "data", ["--log-level", level]).start()
    try:
        _send_unknown_keys_everywhere(server.base_url)
    finally:
        server.stop()
    output = server.output
    assert "/v1/models" in output, "nothing was logged to scan"
    if level == "debug":
        assert "TEXT" in output, "websocket frames were not logged at debug"
    leaked = [secret for secret in ALL_SECRETS if secret in output or secret[6:] in output]
    assert not leaked, f"keys in the {level} log: {leaked}"
    assert "Logging error" not in output and "Traceback" not in output


def test_log_redaction_keeps_what_is_not_a_key():
    from xiwidgets.server.redaction import redact

    kept = ['"has_api_key": true', "GET /v1/voices?page_size=10 HTTP/1.1", "task_1234567890"]
    for text in kept:
        assert redact(text) == text
    assert redact("xi-api-key=[redacted]") == "xi-api-key=[redacted]"


# -- idle and half-sent connections -----------------------------------------------------------

HEADER_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """The CLI server with a 1 s header timeout and 32 connections per client."""
    server = ServerProcess(tmp_path_factory.mktemp("idle"),
                           ["--header-timeout", str(HEADER_TIMEOUT),
                            "--max-connections-per-client", "32"]).start()
    yield server
    server.stop()


@pytest.mark.slow
def test_hundreds_of_idle_sockets_cannot_hold_the_server(strict_server):
    result = probe_idle(strict_server.base_url, 400, header_timeout_s=HEADER_TIMEOUT,
                        grace_s=20, requests_while_idle=3, half_every=4)

    assert result.connected == 400
    assert result.statuses == [200, 200, 200]
    assert result.open_after_timeout == 0
    assert requests.get(strict_server.base_url + "/v1/models", timeout=30).status_code == 200


def test_a_half_sent_request_gets_408(strict_server):
    host, port = host_port(strict_server.base_url)
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(HALF_REQUEST)
        answer = _read_until_closed(sock)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert error_status(json.loads(body)) == "request_timeout"


def test_a_stalled_request_body_gets_408(strict_server):
    host, port = host_port(strict_server.base_url)
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"POST /v1/text-to-speech/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"te")
        answer = _read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 408")


def test_keep_alive_still_serves_a_second_request(strict_server):
    host, port = host_port(strict_server.base_url)
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        statuses, local_addresses = [], []
        for _ in range(2):
            connection.request("GET", "/v1/models")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            local_addresses.append(connection.sock.getsockname())
            time.sleep(HEADER_TIMEOUT / 2)
        assert statuses == [200, 200]
        assert local_addresses[0] == local_addresses[1]  # the same connection both times
    finally:
        connection.close()


def test_a_client_at_the_cap_still_gets_in(server_factory):
    # A long header timeout: only the cap can have closed the idle sockets.
    handle = server_factory(header_timeout_s=60, max_connections_per_client=8, warm_up=False)
    host, port = host_port(handle.base_url)
    idle = [socket.create_connection((host, port), timeout=30) for _ in range(12)]
    try:
        assert wait_until(lambda: _eof(idle[3]), timeout=20)
        assert requests.get(handle.base_url + "/v1/models", timeout=30).status_code == 200
        assert wait_until(lambda: _eof(idle[4]), timeout=20)
        assert [_eof(sock) for sock in idle[5:]] == [False] * 7  # the newest stay open
    finally:
        for sock in idle:
            sock.close()


def test_a_client_whose_connections_are_all_busy_gets_a_readable_503(server_factory):
    handle = server_factory(header_timeout_s=60, max_connections_per_client=2, warm_up=False)
    host, port = host_port(handle.base_url)
    # Two requests in progress: the server asks for their bodies (100 Continue), which never
    # come.
    busy = [socket.create_connection((host, port), timeout=30) for _ in range(2)]
    for sock in busy:
        sock.sendall(b"POST /v1/text-to-speech/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100")
    try:
        refused = requests.get(handle.base_url + "/v1/models", timeout=30)
        assert refused.status_code == 503
        assert error_status(refused.json()) == "too_many_connections"
        assert "retry" in refused.json()["detail"]["message"]
    finally:
        for sock in busy:
            sock.close()
    assert wait_until(lambda: requests.get(handle.base_url + "/v1/models",
                                           timeout=30).status_code == 200, timeout=20)


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _eof(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (checked without waiting)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True

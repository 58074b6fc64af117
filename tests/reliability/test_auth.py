"""With API keys configured, every protected route refuses requests without a valid key.

The routes come from the app's own route table, so a route added later is covered the day it is
added: it either refuses unauthenticated requests or must be listed in ``PUBLIC_ROUTES`` with a
reason.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3

import pytest
import requests
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Route
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

from .harness import ServerProcess, error_status, find_databases, stored_files

API_KEY = "sk_reliability_auth_0123456789abcdef"
WRONG_KEY = "sk_reliability_wrong_fedcba9876543210"

# Routes anyone may call, and why.
PUBLIC_ROUTES = {
    # FastAPI's own schema and documentation pages: describe the API, expose no data.
    "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
    # The reference declares no xi-api-key on this operation (§3.6).
    "/v1/voices/settings/default",
    # preview_url is played by a browser <audio> element, which cannot send a header.
    "/v1/voices/{voice_id}/preview",
}
ALWAYS_PROTECTED = {
    "/v1/voices", "/v2/voices", "/v1/text-to-speech/{voice_id}",
    "/v1/text-to-speech/{voice_id}/stream", "/v1/text-to-speech/{voice_id}/stream-input",
    "/v1/history", "/v1/history/{history_item_id}/audio", "/v1/user/subscription",
}
CASES = [("no key", None), ("wrong key", WRONG_KEY), ("empty key", "")]


def _flat_routes(app):
    """(path, route) for every endpoint, looking inside included routers."""
    try:  # FastAPI >= 0.16x keeps included routers as nodes of the route table
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return [(route.path, route) for route in app.routes]
    return [(context.path, context.original_route)
            for context in iter_route_contexts(app.routes)]


def _route_table():
    server = pytest.importorskip("xiwidgets.server")
    app = server.create_app(server.ServerConfig(data_dir=None, api_keys=(API_KEY,)))
    http, websockets = [], []
    for path, route in _flat_routes(app):
        if isinstance(route, APIWebSocketRoute):
            websockets.append(path)
        elif isinstance(route, (APIRoute, Route)):
            http += [(method, path) for method in sorted(route.methods or ())
                     if method not in ("HEAD", "OPTIONS")]
    return http, websockets


HTTP_ROUTES, WEBSOCKET_ROUTES = _route_table()
PROTECTED_HTTP = [(m, p) for m, p in HTTP_ROUTES if p not in PUBLIC_ROUTES]


def _fill(path: str) -> str:
    # Any id will do: the key check must come before the lookup.
    return re.sub(r"\{[^}]+\}", "SomeId00000000000000", path)


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("keyed"), api_keys=(API_KEY,))
    yield handle
    handle.stop()


def test_route_table_covers_the_api():
    paths = {path for _, path in HTTP_ROUTES} | set(WEBSOCKET_ROUTES)
    assert paths >= ALWAYS_PROTECTED
    assert not ALWAYS_PROTECTED & PUBLIC_ROUTES


@pytest.mark.parametrize(("label", "key"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize(("method", "path"), PROTECTED_HTTP,
                         ids=[f"{m} {p}" for m, p in PROTECTED_HTTP])
def test_protected_route_refuses_without_a_valid_key(keyed_server, method, path, label, key):
    headers = {"xi-api-key": key} if key is not None else {}
    response = requests.request(method, keyed_server.base_url + _fill(path), headers=headers,
                                timeout=30)
    assert response.status_code == 401, f"{method} {path} with {label}: {response.status_code}"
    body = response.json()
    # The OpenAI-compatible route answers in OpenAI's error shape, as the openai package reads it.
    code = body["error"]["code"] if path == "/v1/audio/speech" else error_status(body)
    assert code == "invalid_api_key"
    assert WRONG_KEY not in response.text


@pytest.mark.parametrize(("method", "path"), PROTECTED_HTTP,
                         ids=[f"{m} {p}" for m, p in PROTECTED_HTTP])
def test_protected_route_lets_the_right_key_through(keyed_server, method, path):
    response = requests.request(method, keyed_server.base_url + _fill(path),
                                headers={"xi-api-key": API_KEY}, timeout=60)
    assert response.status_code != 401, response.text


@pytest.mark.parametrize("path", sorted(PUBLIC_ROUTES & {p for _, p in HTTP_ROUTES}))
def test_public_route_answers_without_a_key(keyed_server, path):
    if "{voice_id}" in path:
        voice = requests.get(keyed_server.base_url + "/v1/voices",
                             headers={"xi-api-key": API_KEY}, timeout=30).json()["voices"][0]
        path = path.replace("{voice_id}", voice["voice_id"])
    assert requests.get(keyed_server.base_url + path, timeout=120).status_code == 200


@pytest.mark.parametrize(("label", "key"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("path", WEBSOCKET_ROUTES)
def test_websocket_refuses_without_a_valid_key(keyed_server, path, label, key):
    url = "ws" + keyed_server.base_url[4:] + _fill(path)
    headers = {"xi-api-key": key} if key is not None else {}
    frames: list[dict] = []
    try:
        with ws_connect(url, additional_headers=headers, open_timeout=30) as socket_:
            # The server may close before the second message is sent; the error frame it sent
            # first is still waiting to be read, so read on after a failed send.
            with contextlib.suppress(ConnectionClosed):
                socket_.send(json.dumps({"text": " "}))
                socket_.send(json.dumps({"text": "Let me in. "}))
            try:
                while True:
                    frames.append(json.loads(socket_.recv(timeout=60)))
            except ConnectionClosed:
                pass
            except TimeoutError:
                pytest.fail(f"{label}: the server neither refused nor closed within 60 s")
            code, reason = socket_.close_code, socket_.close_reason or ""
    except InvalidStatus as refused:
        assert refused.response.status_code in (401, 403)
        return
    assert code == 1008, f"{label}: closed with {code} {reason}"
    assert not [frame for frame in frames if frame.get("audio")], "audio sent without a key"
    assert "invalid_api_key" in json.dumps(frames) + reason


def test_keys_are_stored_hashed_never_in_clear(keyed_server):
    requests.get(keyed_server.base_url + "/v1/user", headers={"xi-api-key": API_KEY}, timeout=30)
    data_dir = keyed_server.data_dir
    for name in stored_files(data_dir) | {p.name for p in data_dir.glob("*-wal")}:
        assert API_KEY.encode() not in (data_dir / name).read_bytes(), name
    (database,) = find_databases(data_dir)
    connection = sqlite3.connect(database)
    try:
        dump = "\n".join(connection.iterdump())
        stored_keys = [row[0] for row in connection.execute("SELECT key_hash FROM api_keys")]
    finally:
        connection.close()
    assert API_KEY not in dump
    assert len(stored_keys) == 1 and re.fullmatch(r"[0-9a-f]{64}", stored_keys[0])


def test_cli_binds_loopback_unless_told_otherwise(tmp_path):
    with ServerProcess(tmp_path / "data", host=None) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert "warning" not in server.output.lower()

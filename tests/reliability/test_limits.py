"""Every limit is enforced with a readable error: body size, upload size, text length, websocket
sessions and websocket idle time. Servers get small limits so each check stays quick."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from .bad_inputs import readable
from .harness import english_voice_id, error_message, error_status, history_ids, stored_files


def _ws_url(server, voice_id: str, query: str = "") -> str:
    return f"ws{server.base_url[4:]}/v1/text-to-speech/{voice_id}/stream-input{query}"


def _until_closed(socket_, timeout: float) -> tuple[list[dict], int | None]:
    """Frames received until the server closed, and the close code."""
    frames = []
    try:
        while True:
            frames.append(json.loads(socket_.recv(timeout=timeout)))
    except ConnectionClosed:
        pass
    return frames, socket_.close_code


@pytest.fixture(scope="module")
def small_limits_server(tmp_path_factory):
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("limits"),
                             max_json_body_bytes=20_000, max_upload_file_bytes=200_000,
                             max_upload_total_bytes=300_000, max_websocket_sessions=2,
                             max_inactivity_timeout_s=5)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def voice(small_limits_server) -> str:
    return english_voice_id(small_limits_server.base_url)


def _refused_readably(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text[:300]
    message = error_message(response.json())
    assert readable(message), message
    return message


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_request_body_over_the_limit_gets_413(small_limits_server, voice, chunked):
    body = json.dumps({"text": "word " * 10_000}).encode()
    before = stored_files(small_limits_server.data_dir)
    data = iter([body[i:i + 4096] for i in range(0, len(body), 4096)]) if chunked else body
    response = requests.post(f"{small_limits_server.base_url}/v1/text-to-speech/{voice}",
                             data=data, headers={"Content-Type": "application/json"}, timeout=60)
    message = _refused_readably(response, 413)
    assert "20,000 bytes" in message
    assert stored_files(small_limits_server.data_dir) == before


def test_upload_over_the_file_limit_is_refused(small_limits_server):
    before = stored_files(small_limits_server.data_dir)
    sample = ("big.wav", b"RIFF" + b"\0" * 250_000, "audio/wav")
    response = requests.post(f"{small_limits_server.base_url}/v1/voices/add",
                             data={"name": "Too big"}, files=[("files", sample)], timeout=60)
    assert response.status_code in (400, 413), response.text[:300]
    assert readable(error_message(response.json()))
    assert stored_files(small_limits_server.data_dir) == before


def test_text_over_the_model_limit_names_the_limit(small_limits_server, voice):
    models = requests.get(f"{small_limits_server.base_url}/v1/models", timeout=30).json()
    model = min((m for m in models if m["can_do_text_to_speech"]),
                key=lambda m: m["maximum_text_length_per_request"])
    limit = model["maximum_text_length_per_request"]
    response = requests.post(f"{small_limits_server.base_url}/v1/text-to-speech/{voice}",
                             json={"text": "a" * (limit + 1), "model_id": model["model_id"]},
                             timeout=60)
    if limit + 20 > 20_000:  # the body limit of this server comes first
        _refused_readably(response, 413)
        return
    message = _refused_readably(response, 400)
    assert error_status(response.json()) == "max_character_limit_exceeded"
    assert f"{limit:,}" in message


def test_websocket_sessions_are_capped_and_freed(small_limits_server, voice):
    url = _ws_url(small_limits_server, voice)
    with ws_connect(url, open_timeout=30) as first, ws_connect(url, open_timeout=30) as second:
        for socket_ in (first, second):
            socket_.send(json.dumps({"text": " "}))
        with ws_connect(url, open_timeout=30) as third:
            frames, close = _until_closed(third, timeout=30)
        assert close == 1008
        assert frames and frames[-1]["error"] == "too_many_concurrent_requests"
        assert readable(frames[-1]["message"])
    # A closed session frees its slot (the server notices the close asynchronously).
    deadline = time.monotonic() + 20
    while True:
        with ws_connect(url, open_timeout=30) as again:
            again.send(json.dumps({"text": " "}))
            again.send(json.dumps({"text": "Room again. "}))
            again.send(json.dumps({"text": ""}))
            frames, close = _until_closed(again, timeout=60)
        if close == 1000 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert close == 1000 and any(frame.get("isFinal") for frame in frames)


def test_idle_websocket_is_closed_with_a_readable_reason(small_limits_server, voice):
    history_before = history_ids(small_limits_server.base_url)
    with ws_connect(_ws_url(small_limits_server, voice, "?inactivity_timeout=1"),
                    open_timeout=30) as socket_:
        socket_.send(json.dumps({"text": " "}))
        frames, close = _until_closed(socket_, timeout=30)
    assert close == 1008
    assert frames[-1]["error"] == "input_timeout_exceeded"
    assert readable(frames[-1]["message"])
    assert history_ids(small_limits_server.base_url) == history_before


def test_idle_timeout_above_the_maximum_is_refused(small_limits_server, voice):
    with ws_connect(_ws_url(small_limits_server, voice, "?inactivity_timeout=100000"),
                    open_timeout=30) as socket_:
        with contextlib.suppress(ConnectionClosed):  # the server may refuse before reading
            socket_.send(json.dumps({"text": " "}))
        frames, close = _until_closed(socket_, timeout=30)
    assert close == 1008
    assert readable(frames[-1]["message"]) and "inactivity_timeout" in frames[-1]["message"]

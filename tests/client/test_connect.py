"""``xiwidgets.connect()`` and where the key and base URL come from."""

from __future__ import annotations

import sys
import threading

import pytest
import responses
from responses import matchers

import xiwidgets
from xiwidgets.client import Client, LocalServerUnavailable, connect, embedded

from .helpers import HOSTED, SECRET_KEY


@pytest.fixture
def embedded_data_dir(tmp_path, monkeypatch):
    """Point the embedded server at a temporary directory and stop it after the test."""
    monkeypatch.setenv("XIWIDGETS_DATA_DIR", str(tmp_path))
    embedded.shutdown()
    yield tmp_path
    embedded.shutdown()


def test_connect_without_key_starts_one_local_server_and_reuses_it(embedded_data_dir, capsys):
    clients = []
    threads = [threading.Thread(target=lambda: clients.append(connect())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    again = xiwidgets.connect()

    assert all(c is again for c in clients)
    # The embedded server's key, made up at its start (not the user's: none is set).
    assert again.is_local and again.has_api_key
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1
    assert "no API key set" in printed[0] and again.base_url in printed[0]
    assert again.base_url.startswith("http://127.0.0.1:")
    assert again.voices.find("Joe").voice_id
    assert embedded.embedded_server().data_dir == embedded_data_dir
    assert any(embedded_data_dir.iterdir())


def test_connect_with_a_key_uses_the_hosted_api(monkeypatch, capsys):
    monkeypatch.setenv("ELEVENLABS_API_KEY", SECRET_KEY)
    client = connect()

    assert client.base_url == HOSTED and not client.is_local and client.has_api_key
    assert connect() is client
    assert capsys.readouterr().out == ""
    assert connect(api_key="other").base_url == HOSTED


def test_connect_with_a_base_url_uses_that_server(server):
    client = connect(base_url=server.base_url)
    assert client.base_url == server.base_url and client.is_local
    assert client.models.list()


def test_missing_local_extra_gives_the_install_command(embedded_data_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "xiwidgets.server", None)  # as if not installed

    with pytest.raises(LocalServerUnavailable) as caught:
        connect()

    message = str(caught.value)
    assert "pip install 'xiwidgets[local]'" in message and "\n" not in message


def test_key_set_after_the_client_was_made_is_used(monkeypatch):
    client = Client()
    monkeypatch.setenv("XI_API_KEY", "second-choice")
    monkeypatch.setenv("ELEVENLABS_API_KEY", SECRET_KEY)
    with responses.RequestsMock() as api:
        api.get(f"{HOSTED}/v1/models", json=[],
                match=[matchers.header_matcher({"xi-api-key": SECRET_KEY})])
        assert client.models.list() == []
        monkeypatch.delenv("ELEVENLABS_API_KEY")
        api.get(f"{HOSTED}/v1/models", json=[],
                match=[matchers.header_matcher({"xi-api-key": "second-choice"})])
        assert client.models.list() == []
        api.get(f"{HOSTED}/v1/models", json=[],
                match=[matchers.header_matcher({"xi-api-key": "explicit"})])
        assert Client(api_key="explicit").models.list() == []


def test_base_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("ELEVENLABS_BASE_URL", "http://localhost:8000/")
    assert Client().base_url == "http://localhost:8000"
    assert Client(base_url="https://api.eu.residency.elevenlabs.io").is_local is False


@pytest.mark.parametrize("script", [
    # Exits during the model's load (ONNX Runtime), and during the G2P's imports.
    "import time; import xiwidgets as xi; xi.connect(); time.sleep(0.5)",
    "import xiwidgets as xi; xi.connect().voices.list()",
])
def test_a_script_that_connects_and_exits_at_once_exits_cleanly(tmp_path, script):
    # The embedded server loads Kokoro in the background; ending the process under that load
    # used to abort it (exit 134, "terminate called without an active exception"), or print
    # the load's traceback ("can't register atexit after shutdown").
    import os
    import subprocess

    from xiwidgets.server.engines import kokoro_assets

    if kokoro_assets.check_assets(None).assets is None:
        pytest.skip("the Kokoro voices are not installed: nothing loads in the background")
    env = {**os.environ, "XIWIDGETS_DATA_DIR": str(tmp_path)}
    env.pop("ELEVENLABS_API_KEY", None)
    result = subprocess.run([sys.executable, "-c", script],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "terminate called" not in result.stderr
    assert "Traceback" not in result.stderr, result.stderr[-2000:]

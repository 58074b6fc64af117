"""``xiwidgets serve``: the ready line, a working server behind it, keys from the command line."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import pytest
import requests
from websockets.sync.client import connect

from xiwidgets.cli import exposure_warning

READY = re.compile(r"^xiwidgets server listening on (http://127\.0\.0\.1:(\d+))$")


def test_serve_prints_one_ready_line_and_never_logs_the_key(tmp_path):
    command = [
        sys.executable, "-m", "xiwidgets.cli", "serve", "--port", "0",
        "--data-dir", str(tmp_path), "--api-key", "cli-key", "--character-limit", "777",
        "--log-level", "debug",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().rstrip("\n")
        match = READY.match(line)
        assert match, line
        base_url = match.group(1)
        assert requests.get(base_url + "/v1/user", timeout=10).status_code == 401
        subscription = requests.get(
            base_url + "/v1/user/subscription", headers={"xi-api-key": "cli-key"}, timeout=10
        ).json()
        assert subscription["character_limit"] == 777
        # At debug level websocket frames are logged; a key in the first message is redacted.
        url = f"ws{base_url[4:]}/v1/text-to-speech/WK59PFkl0JfI2yyVlbPe/stream-input"
        with connect(url) as socket:
            socket.send(json.dumps({"text": " ", "xi_api_key": "cli-key"}))
            socket.send(json.dumps({"text": ""}))
            assert json.loads(socket.recv(timeout=60)) == {"isFinal": True}
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "listening on" not in out  # the ready line is printed once (access logs follow)
    assert "cli-key" not in out
    assert "Traceback" not in err and "TEXT" in err  # frames were logged...
    assert "cli-key" not in err  # ...without the key


@pytest.mark.parametrize(
    ("host", "keys", "warns"),
    [
        ("0.0.0.0", (), True),
        ("192.0.2.10", (), True),
        ("::", (), True),
        ("0.0.0.0", ("k1",), False),
        ("127.0.0.1", (), False),
        ("127.0.0.2", (), False),
        ("::1", (), False),
        ("localhost", (), False),
    ],
)
def test_binding_beyond_loopback_without_a_key_warns(host, keys, warns):
    # Decided before binding, so no test needs to expose a server beyond loopback.
    warning = exposure_warning(host, keys)
    if warns:
        assert warning and host in warning and "--api-key" in warning
    else:
        assert warning is None

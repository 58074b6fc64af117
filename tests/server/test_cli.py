"""``xiwidgets serve``: the ready line, a working server behind it, keys from the command line."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import requests

READY = re.compile(r"^xiwidgets server listening on (http://127\.0\.0\.1:(\d+))$")


def test_serve_prints_one_ready_line_and_serves_with_the_given_key(tmp_path):
    command = [
        sys.executable, "-m", "xiwidgets.cli", "serve", "--port", "0",
        "--data-dir", str(tmp_path), "--api-key", "cli-key", "--character-limit", "777",
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
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert out == ""  # nothing after the ready line
    assert "Traceback" not in err and "cli-key" not in err

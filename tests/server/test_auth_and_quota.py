"""API keys and the character quota, on servers started with special settings."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.server.helpers import character_count, get, history_count, post, voice_id_named

KEY = {"xi-api-key": "k1-secret"}


@pytest.fixture
def keyed(server_factory):
    return server_factory(api_keys=["k1-secret", "k2-secret"])


PROTECTED = [
    ("get", "/v1/voices"),
    ("get", "/v2/voices"),
    ("get", "/v1/models"),
    ("get", "/v1/history"),
    ("get", "/v1/user"),
    ("get", "/v1/user/subscription"),
    ("get", "/v1/usage/character-stats?start_unix=0&end_unix=1000"),
    ("post", "/v1/text-to-speech/{joe}"),
    ("post", "/v1/text-to-speech/{joe}/stream"),
    ("get", "/v1/voices/{joe}"),
    ("get", "/v1/voices/{joe}/settings"),
]


def test_protected_endpoints_need_one_of_the_keys(keyed):
    joe = voice_id_named(keyed, "Joe", headers=KEY)
    for method, path in PROTECTED:
        url = keyed.base_url + path.format(joe=joe)
        body = {"json": {"text": "Hi."}} if method == "post" else {}
        for headers in ({}, {"xi-api-key": "wrong"}):
            refused = requests.request(method, url, headers=headers, timeout=30, **body)
            assert refused.status_code == 401, (path, headers)
            assert refused.json()["detail"]["status"] == "invalid_api_key"
            assert "xi-api-key" in refused.json()["detail"]["message"]
        other_key = {"xi-api-key": "k2-secret"}
        assert requests.request(method, url, headers=other_key, timeout=60, **body).ok, path
    assert history_count(keyed, headers=KEY) == 2  # only the two accepted takes


def test_default_settings_and_previews_need_no_key(keyed):
    assert get(keyed, "/v1/voices/settings/default").status_code == 200
    joe = voice_id_named(keyed, "Joe", headers=KEY)
    preview = get(keyed, f"/v1/voices/{joe}/preview")
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/mpeg"


def test_keys_are_stored_hashed(keyed):
    database = (keyed.data_dir / "xiwidgets.sqlite3").read_bytes()
    assert b"k1-secret" not in database and b"k2-secret" not in database


def test_websocket_needs_a_key_in_the_header_or_first_message(keyed):
    joe = voice_id_named(keyed, "Joe", headers=KEY)
    url = f"ws{keyed.base_url[4:]}/v1/text-to-speech/{joe}/stream-input"
    with connect(url) as socket:
        socket.send(json.dumps({"text": " ", "xi_api_key": "wrong"}))
        frame = json.loads(socket.recv(timeout=30))
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=30)
        assert socket.close_code == 1008
    assert frame["error"] == "invalid_api_key"
    with connect(url) as socket:
        socket.send(json.dumps({"text": " ", "xi_api_key": "k1-secret"}))
        socket.send(json.dumps({"text": "Key accepted. "}))
        socket.send(json.dumps({"text": ""}))
        assert json.loads(socket.recv(timeout=60))["audio"]
    with connect(url, additional_headers=KEY) as socket:
        socket.send(json.dumps({"text": " "}))
        socket.send(json.dumps({"text": "Header key. "}))
        socket.send(json.dumps({"text": ""}))
        assert json.loads(socket.recv(timeout=60))["audio"]


def test_quota_refuses_a_request_that_would_pass_the_limit(server_factory):
    limited = server_factory(character_limit=30)
    joe = voice_id_named(limited, "Joe")
    first = post(limited, f"/v1/text-to-speech/{joe}", json={"text": "Twenty characters ok"})
    assert first.status_code == 200 and character_count(limited) == 20
    refused = post(limited, f"/v1/text-to-speech/{joe}", json={"text": "Twenty more chars..."})
    assert refused.status_code == 401
    detail = refused.json()["detail"]
    assert detail["status"] == "quota_exceeded"
    assert "20" in detail["message"] and "10" in detail["message"]  # needed vs left
    assert character_count(limited) == 20 and history_count(limited) == 1
    assert post(limited, f"/v1/text-to-speech/{joe}", json={"text": "Ten chars!"}).ok
    assert character_count(limited) == 30
    with connect(f"ws{limited.base_url[4:]}/v1/text-to-speech/{joe}/stream-input") as socket:
        socket.send(json.dumps({"text": " "}))
        socket.send(json.dumps({"text": "Over the limit. ", "flush": True}))
        frame = json.loads(socket.recv(timeout=30))
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=30)
        assert socket.close_code == 1008
    assert frame["error"] == "quota_exceeded" and "left" in frame["message"]
    assert character_count(limited) == 30


def test_a_quota_refusal_carries_its_numbers_as_fields(server_factory):
    limited = server_factory(character_limit=30)
    joe = voice_id_named(limited, "Joe")
    assert post(limited, f"/v1/text-to-speech/{joe}", json={"text": "Twenty characters ok"}).ok

    refused = post(limited, f"/v1/text-to-speech/{joe}/stream",
                   json={"text": "Twelve chars"})

    assert refused.status_code == 401
    detail = refused.json()["detail"]
    reset = get(limited, "/v1/user/subscription").json()["next_character_count_reset_unix"]
    assert (detail["status"], detail["needed"], detail["left"]) == ("quota_exceeded", 12, 10)
    assert detail["reset_unix"] == reset
    assert "12" in detail["message"]


def test_quota_is_exact_under_concurrent_requests(server_factory):
    limited = server_factory(character_limit=100, max_concurrent_syntheses=1)
    joe = voice_id_named(limited, "Joe")

    def speak(_: int) -> requests.Response:
        url = f"{limited.base_url}/v1/text-to-speech/{joe}"
        return requests.post(url, json={"text": "Exactly twenty chars"}, timeout=120)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(speak, range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [401] * 3
    served = [r for r in responses if r.ok]
    # One synthesis at a time: the others waited their turn and saw the queue in the header.
    assert {r.headers["maximum-concurrent-requests"] for r in served} == {"1"}
    assert max(int(r.headers["current-concurrent-requests"]) for r in served) >= 2
    assert character_count(limited) == 100
    assert history_count(limited) == 5

"""The concurrency limit as the hosted API has it: past ``max_concurrent_requests`` a take gets
429 ``too_many_concurrent_requests`` (same shape, ``Retry-After``), nothing is billed or stored,
and every take says how many requests are in flight and how many may be."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import requests

from tests.server.helpers import character_count, history_count, voice_id_named
from xiwidgets.formats import CODECS

# Long enough that the first takes are still in flight when the burst arrives.
PARAGRAPH = (
    "The river ran low that summer, and the children of the village walked along its bed "
    "collecting smooth stones and counting the fish that hid in the last deep pools."
)


def _take(server, voice_id: str, text: str, stream: bool = True) -> requests.Response:
    path = f"/v1/text-to-speech/{voice_id}" + ("/stream" if stream else "")
    return requests.post(server.base_url + path, json={"text": text}, timeout=120)


def test_a_burst_past_the_limit_gets_exactly_the_excess_refused_and_nothing_billed(
        server_factory):
    server = server_factory(max_concurrent_requests=2)
    voice_id = voice_id_named(server, "Joe")
    characters_before, history_before = character_count(server), history_count(server)
    burst = 6
    barrier = threading.Barrier(burst)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def send() -> None:
        barrier.wait()
        response = _take(server, voice_id, PARAGRAPH)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(burst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    refused = [r for r in answers if r.status_code == 429]
    served = [r for r in answers if r.status_code == 200]
    assert len(refused) == burst - 2 and len(served) == 2
    for response in refused:
        detail = response.json()["detail"]
        assert detail["status"] == "too_many_concurrent_requests"
        assert "at most 2" in detail["message"]
        assert int(response.headers["Retry-After"]) >= 1
    for response in served:
        assert CODECS["mp3"].starts_like(response.content[:4])
        assert response.headers["maximum-concurrent-requests"] == "2"
        assert 1 <= int(response.headers["current-concurrent-requests"]) <= 2
    billed = sum(int(r.headers["character-cost"]) for r in served)
    assert character_count(server) - characters_before == billed
    assert history_count(server) - history_before == len(served)
    # Once those are over the limit has room again.
    again = _take(server, voice_id, "Room again.", stream=False)
    assert again.status_code == 200
    assert again.headers["current-concurrent-requests"] == "1"


def test_subscription_and_every_take_say_how_many_requests_may_run(server_factory):
    server = server_factory(max_concurrent_requests=3, max_concurrent_syntheses=1)
    subscription = requests.get(server.base_url + "/v1/user/subscription", timeout=10).json()
    assert subscription["max_concurrent_requests"] == 3
    assert subscription["max_concurrent_syntheses"] == 1
    assert subscription["refuses_past_maximum"] is True
    user = requests.get(server.base_url + "/v1/user", timeout=10).json()
    assert user["subscription_extras"]["concurrency"] == 3
    voice_id = voice_id_named(server, "Joe")
    for path in ("", "/stream", "/with-timestamps", "/stream/with-timestamps"):
        response = requests.post(f"{server.base_url}/v1/text-to-speech/{voice_id}{path}",
                                 json={"text": "Counted."}, timeout=60)
        assert response.status_code == 200, path
        assert response.headers["maximum-concurrent-requests"] == "3", path
        assert response.headers["current-concurrent-requests"] == "1", path


def test_without_a_limit_takes_wait_their_turn_and_the_maximum_is_the_synthesis_slots(server):
    subscription = requests.get(server.base_url + "/v1/user/subscription", timeout=10).json()
    slots = server.services.concurrency.synthesis_slots.limit
    assert subscription["max_concurrent_requests"] == slots
    assert subscription["refuses_past_maximum"] is False
    voice_id = voice_id_named(server, "Joe")
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(
        _take(server, voice_id, "Nobody is refused.", stream=False).status_code))
        for _ in range(slots + 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * (slots + 3)


def test_a_limit_below_one_is_refused_before_the_server_starts(tmp_path):
    from xiwidgets.server import ServerConfig

    with pytest.raises(ValueError, match="max_concurrent_requests must be >= 1"):
        ServerConfig(data_dir=tmp_path, max_concurrent_requests=0)
    result = subprocess.run(
        [sys.executable, "-m", "xiwidgets.cli", "serve", "--port", "0", "--data-dir",
         str(tmp_path), "--max-concurrent-requests", "0"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "max_concurrent_requests must be >= 1" in result.stderr
    assert not (tmp_path / "xiwidgets.sqlite3").exists()


def test_a_voice_design_counts_against_the_limit_like_a_take(server_factory, tmp_path):
    from tests.reliability.harness import wait_until
    from tests.server.helpers import without_kokoro

    design_body = {"voice_description": "A bright, fast female voice, young and cheerful.",
                   "text": PARAGRAPH[:120]}
    with without_kokoro(tmp_path):
        server = server_factory(max_concurrent_requests=1, max_concurrent_syntheses=1)
        joe = voice_id_named(server, "Joe")
        answers: list[requests.Response] = []
        first = threading.Thread(target=lambda: answers.append(requests.post(
            server.base_url + "/v1/text-to-voice/design", json=design_body, timeout=120)))
        # The one synthesis slot held: the design stays in flight, waiting for it.
        with server.services.concurrency.synthesis_slots:
            first.start()
            assert wait_until(lambda: any(t.name == "xiwidgets-design"
                                          for t in threading.enumerate()), 30)
            used = character_count(server)
            second = requests.post(server.base_url + "/v1/text-to-voice/design",
                                   json=design_body, timeout=30)
            take = _take(server, joe, "Hello there.")
            for refused in (second, take):
                assert refused.status_code == 429, refused.text
                assert refused.json()["detail"]["status"] == "too_many_concurrent_requests"
            assert character_count(server) == used
        first.join(120)
        assert [answer.status_code for answer in answers] == [200]
        # Counted out once made: the next take is served.
        assert _take(server, joe, "Hello there.").status_code == 200

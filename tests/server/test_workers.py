"""Synthesis workers: N processes with their own engines behind one HTTP process, which keeps
the store, billing and history. A worker killed mid-take fails only that take and is replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
import requests

from tests.reliability.harness import ServerProcess, audio_files, wait_until
from tests.server.helpers import character_count, history_count
from xiwidgets.client import Client, PronunciationRule, ServerError

SEEDED = "Seeded takes sound the same. Whichever worker makes them."
LONG_TEXT = " ".join(f"Sentence {n} of a long reading, spoken slowly and with care."
                     for n in range(40))


@pytest.fixture(scope="module")
def workers_server(tmp_path_factory):
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("workers"), workers=2)
    yield handle
    handle.stop()


def test_a_seeded_take_is_the_same_from_every_worker_and_from_a_single_process_server(
        workers_server, tmp_path):
    client = Client(base_url=workers_server.base_url)
    takes: list[bytes] = []

    def make() -> None:
        takes.append(client.tts.convert("Joe", text=SEEDED, seed=11).audio)

    for _ in range(2):  # two at once: each of the two idle workers takes one
        threads = [threading.Thread(target=make) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    pool = workers_server.services.synthesizer
    assert len(pool.served) == 2 and all(count >= 1 for count in pool.served.values())
    # The engines' thread count is part of what makes a take (the floating-point sums split
    # differently), so the single-process server matches on the workers' share of the cores.
    from xiwidgets.threads import ENGINE_THREADS_ENV, threads_per_worker

    alone = ServerProcess(tmp_path, env={ENGINE_THREADS_ENV: str(threads_per_worker(2))})
    try:
        single = Client(base_url=alone.start().base_url)
        in_process = single.tts.convert("Joe", text=SEEDED, seed=11).audio
    finally:
        alone.stop()
    assert set(takes) == {in_process}

    # Streaming goes clause by clause through the worker's pipe.
    pieces = list(client.tts.stream_with_timestamps("Joe", text=SEEDED, seed=11))
    assert len([p for p in pieces if p.audio]) >= 2
    subscription = requests.get(workers_server.base_url + "/v1/user/subscription",
                                timeout=10).json()
    assert subscription["max_concurrent_syntheses"] == 2


def test_pronunciation_rules_reach_the_worker_that_makes_the_take(workers_server, server):
    # The rules travel to the worker process with the take; its audio must be what the
    # single-process server makes with the same rules, and differ from the take without them.
    text = "The UN met in a red tent."
    rules = [PronunciationRule.said_as("UN", "United Nations"),
             PronunciationRule.phonemes("red", "ɡɹiːn", "ipa")]
    audio = []
    for handle in (workers_server, server):
        client = Client(base_url=handle.base_url)
        made = client.pronunciation.create_from_rules(rules, name="Worker rules")
        audio.append(client.tts.convert("Joe", text=text, seed=3,
                                        pronunciation_dictionary_locators=[made.locator()]).audio)
    plain = Client(base_url=workers_server.base_url).tts.convert("Joe", text=text, seed=3).audio
    assert audio[0] == audio[1] != plain


def test_a_take_whose_client_leaves_is_not_billed_and_its_worker_serves_again(workers_server):
    pool = workers_server.services.synthesizer
    voice_id = Client(base_url=workers_server.base_url).voices.find("Joe").voice_id
    characters, items = character_count(workers_server), history_count(workers_server)
    with requests.post(f"{workers_server.base_url}/v1/text-to-speech/{voice_id}/stream",
                       json={"text": LONG_TEXT}, stream=True, timeout=120) as response:
        next(response.iter_content(1024))  # audio is flowing; then the client goes
    assert wait_until(lambda: not pool.busy_pids(), timeout=120)
    assert pool.alive() == 2 and pool.replaced == 0
    assert character_count(workers_server) == characters
    assert history_count(workers_server) == items


def _long_take_in_background(client: Client, pool) -> tuple[threading.Thread,
                                                             list[BaseException | str]]:
    """A long take on its own thread, returned once a worker is making it; ``outcome`` gets
    ``"made"`` or the ServerError it ended with."""
    outcome: list[BaseException | str] = []

    def long_take() -> None:
        try:
            client.tts.convert("Joe", text=LONG_TEXT)
            outcome.append("made")
        except ServerError as exc:
            outcome.append(exc)

    taker = threading.Thread(target=long_take)
    taker.start()
    assert wait_until(lambda: pool.busy_pids(), timeout=120)
    return taker, outcome


def test_a_worker_killed_mid_take_fails_only_that_take_refunds_it_and_is_replaced(
        workers_server):
    pool = workers_server.services.synthesizer
    client = Client(base_url=workers_server.base_url)
    characters, items = character_count(workers_server), history_count(workers_server)
    files = len(audio_files(workers_server.data_dir))
    taker, outcome = _long_take_in_background(client, pool)
    [busy] = pool.busy_pids()
    os.kill(busy, signal.SIGKILL)
    other = client.tts.convert("Joe", text="The other worker carries on.")  # not this take's fate
    taker.join(120)

    [error] = outcome
    assert isinstance(error, ServerError) and error.status_code == 503
    assert "synthesis worker" in str(error) and "nothing was charged" in str(error)
    assert character_count(workers_server) == characters + other.character_cost
    assert history_count(workers_server) == items + 1
    assert len(audio_files(workers_server.data_dir)) == files + 1
    assert wait_until(lambda: pool.alive() == 2 and not pool.busy_pids(), timeout=180)
    assert pool.replaced == 1
    assert client.tts.convert("Joe", text="A new worker took its place.").audio


def test_a_hung_worker_is_killed_after_the_worker_timeout_and_its_take_refunded(tmp_path):
    # SIGSTOP: the worker is alive but sends nothing, as a deadlocked or swapping one would.
    from xiwidgets.server import start_in_thread

    with start_in_thread(data_dir=tmp_path, workers=2, worker_timeout_s=5.0) as handle:
        pool = handle.services.synthesizer
        client = Client(base_url=handle.base_url)
        characters, items = character_count(handle), history_count(handle)
        taker, outcome = _long_take_in_background(client, pool)
        [hung] = pool.busy_pids()
        os.kill(hung, signal.SIGSTOP)
        taker.join(120)

        [error] = outcome
        assert isinstance(error, ServerError) and error.status_code == 503
        assert "nothing was charged" in str(error)
        assert character_count(handle) == characters
        assert history_count(handle) == items
        assert wait_until(lambda: pool.alive() == 2 and not pool.busy_pids(), timeout=180)
        assert pool.replaced == 1
        with pytest.raises(ProcessLookupError):  # killed, not left stopped
            os.kill(hung, 0)
        assert client.tts.convert("Joe", text="A new worker took its place.").audio


def test_each_worker_gets_its_share_of_the_cores(workers_server):
    # At most two engine threads a core in all (benchmarks/scale.py).
    import psutil

    from xiwidgets.threads import ENGINE_THREADS_ENV

    pool = workers_server.services.synthesizer
    shares = {psutil.Process(pid).environ().get(ENGINE_THREADS_ENV)
              for pid in pool.pids()}
    assert shares == {str(max(1, min(2, 2 * (os.cpu_count() or 1) // 2)))}


@pytest.mark.parametrize(("workers", "message"), [
    ("0", "workers must be a whole number >= 1"),
    ("100000", "synthesis workers need about"),
    ("many", "expected a whole number or 'auto'"),
])
def test_bad_worker_counts_are_refused_before_the_server_starts(tmp_path, workers, message):
    result = subprocess.run(
        [sys.executable, "-m", "xiwidgets.cli", "serve", "--port", "0", "--data-dir",
         str(tmp_path), "--workers", workers],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert message in result.stderr
    assert not list(tmp_path.iterdir())  # nothing created, nothing billed

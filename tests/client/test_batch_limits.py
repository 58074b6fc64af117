"""synthesize_many under a server's concurrency limit: sized from the advertised maximum, never
above it, fewer after a 429 (waiting its Retry-After), billing exact, nothing made twice."""

from __future__ import annotations

import threading
import time
from collections import Counter

import requests

from xiwidgets.client import Client
from xiwidgets.client.pacing import AdaptiveLimit

# A take that stays in flight for the whole batch: long, and its client reads nothing.
LONG_TEXT = " ".join(f"Sentence number {n} of a long reading that keeps the server busy."
                     for n in range(60))


class _RecordingSession(requests.Session):
    """Counts take requests in flight and records each answer's status and send time."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.answers: list[tuple[float, float, int]] = []  # (sent, answered, status)

    def send(self, request, **kwargs):
        if "/text-to-speech/" not in request.url:
            return super().send(request, **kwargs)
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        sent = time.monotonic()
        try:
            response = super().send(request, **kwargs)
        finally:
            with self._lock:
                self.in_flight -= 1
        with self._lock:
            self.answers.append((sent, time.monotonic(), response.status_code))
        return response


def _character_count(client: Client) -> int:
    return client.user.subscription().character_count


def test_batch_sizes_itself_from_the_advertised_maximum_and_never_exceeds_it(
        server_factory, tmp_path, capsys):
    server = server_factory(max_concurrent_requests=2)
    session = _RecordingSession()
    client = Client(base_url=server.base_url, session=session)
    texts = [f"Limited {n}." for n in range(5)]

    result = client.synthesize_many(texts, voice="Joe", out_dir=tmp_path / "a")
    assert len(result.succeeded) == 5
    assert session.peak == 2  # the advertised maximum, used in full
    assert "concurrency=2/2" in capsys.readouterr().err

    # Asking for more does not send more to a server that refuses past its maximum.
    session.peak = 0
    again = client.synthesize_many(texts, voice="Joe", out_dir=tmp_path / "b",
                                   max_concurrency=5, progress=False)
    assert len(again.succeeded) == 5 and session.peak <= 2
    assert [status for *_, status in session.answers] == [200] * 10


def test_a_refused_take_lowers_the_concurrency_waits_retry_after_and_is_made_once(
        server_factory, tmp_path):
    server = server_factory(max_concurrent_requests=2, max_concurrent_syntheses=2)
    voice_id = Client(base_url=server.base_url).voices.find("Joe").voice_id
    # Another program holds one of the two places for the whole batch.
    holder = requests.post(f"{server.base_url}/v1/text-to-speech/{voice_id}/stream",
                           json={"text": LONG_TEXT}, stream=True, timeout=300)
    assert holder.status_code == 200
    session = _RecordingSession()
    client = Client(base_url=server.base_url, session=session)
    before = _character_count(client)
    texts = [f"Refused at first {n}." for n in range(4)]
    try:
        result = client.synthesize_many(texts, voice="Joe", out_dir=tmp_path, progress=False)
    finally:
        holder.close()

    assert [item.status for item in result.items] == ["ok"] * 4
    statuses = Counter(status for *_, status in session.answers)
    assert statuses[429] >= 1 and statuses[200] == 4
    # After each refusal nothing more was sent before its Retry-After (1 s) had passed.
    for _, refused_at, status in session.answers:
        if status == 429:
            later = [sent for sent, _, _ in session.answers if sent > refused_at]
            assert all(sent - refused_at >= 0.99 for sent in later)
    # Made once each, billed exactly.
    history = Counter(item.text for item in client.history.iter_all())
    assert all(history[text] == 1 for text in texts)
    billed = sum(item.character_cost for item in result.items)
    held = LONG_TEXT in history
    assert _character_count(client) - before == billed + (len(LONG_TEXT) if held else 0)


def test_the_limit_drops_below_what_was_running_and_climbs_back_to_the_ceiling():
    now = [0.0]
    limit = AdaptiveLimit(4, clock=lambda: now[0])
    limit.refused(retry_after=2.0, in_flight=3)
    assert limit.current == 2 and limit.wait_s() == 2.0
    now[0] = 2.5
    assert limit.wait_s() == 0
    limit.refused(retry_after=None, in_flight=2)
    assert limit.current == 1 and limit.wait_s() == 1.0
    for _ in range(1 + 2 + 3):
        limit.succeeded(server_maximum=4)
    assert limit.current == 4 and limit.describe() == "4/4"
    limit.succeeded(server_maximum=3)  # the server says it allows fewer
    assert limit.ceiling == 3 and limit.current == 3

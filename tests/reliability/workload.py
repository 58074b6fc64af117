"""Concurrent workloads against a live server: a mixed load run and the quota race.

Both the tests (small runs with assertions) and ``benchmarks/load.py`` (larger runs that print
figures) call these functions, so the figures come from the code the tests check.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from .harness import auth_headers, character_count, error_status, history_ids

LOAD_TEXTS = (
    "The quick brown fox jumps over the lazy dog.",
    "Reliability is a feature you only notice when it is missing.",
    "Please hold the line, your call is important to us.",
    "Seven engineers share two cores tonight.",
)


@dataclass
class Sample:
    """One request of a load run."""

    kind: str
    status: int
    ttfb: float | None
    take_id: str | None = None
    current_concurrent: int | None = None
    maximum_concurrent: int | None = None
    error: str = ""


@dataclass
class LoadResult:
    """What a load run measured."""

    clients: int
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    lost_takes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.status != 200]

    @property
    def requests_per_second(self) -> float:
        return len(self.samples) / self.seconds if self.seconds else 0.0

    def ttfb_percentile(self, percent: float, kinds: tuple[str, ...] = ("convert", "stream")
                        ) -> float | None:
        """Time-to-first-byte percentile (seconds) over the requests of ``kinds``."""
        values = sorted(s.ttfb for s in self.samples if s.kind in kinds and s.ttfb is not None)
        if not values:
            return None
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[int(percent) - 1]

    @property
    def peak_concurrent(self) -> int | None:
        """Highest ``current-concurrent-requests`` header seen on a TTS response."""
        seen = [s.current_concurrent for s in self.samples if s.current_concurrent is not None]
        return max(seen) if seen else None

    @property
    def maximum_concurrent(self) -> int | None:
        """The ``maximum-concurrent-requests`` header the server announced."""
        seen = [s.maximum_concurrent for s in self.samples if s.maximum_concurrent is not None]
        return max(seen) if seen else None


def _header_int(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    return int(value) if value is not None and value.strip().isdigit() else None


def _timed(kind: str, method: str, url: str, headers: dict[str, str],
           **kwargs: object) -> Sample:
    started = time.perf_counter()
    try:
        with requests.request(method, url, headers=headers, stream=True, timeout=300,
                              **kwargs) as response:
            ttfb = None
            for _chunk in response.iter_content(chunk_size=4096):
                if ttfb is None:
                    ttfb = time.perf_counter() - started
            return Sample(kind, response.status_code, ttfb,
                          response.headers.get("history-item-id"),
                          _header_int(response, "current-concurrent-requests"),
                          _header_int(response, "maximum-concurrent-requests"),
                          "" if response.status_code == 200 else response.text[:200])
    except requests.RequestException as error:
        return Sample(kind, 0, None, error=type(error).__name__)


def _operations(base_url: str, voice_id: str, headers: dict[str, str]
                ) -> list[Callable[[int], Sample]]:
    tts = f"{base_url}/v1/text-to-speech/{voice_id}"

    def convert(i: int) -> Sample:
        return _timed("convert", "POST", tts, headers, json={"text": LOAD_TEXTS[i % 4]})

    def stream(i: int) -> Sample:
        return _timed("stream", "POST", tts + "/stream", headers,
                      json={"text": LOAD_TEXTS[(i + 1) % 4]})

    def history(_i: int) -> Sample:
        return _timed("history", "GET", f"{base_url}/v1/history", headers,
                      params={"page_size": 20})

    def voices(_i: int) -> Sample:
        return _timed("voices", "GET", f"{base_url}/v1/voices", headers)

    return [convert, history, stream, voices]


def run_load(base_url: str, voice_id: str, clients: int, requests_per_client: int,
             api_key: str | None = None) -> LoadResult:
    """``clients`` threads, each sending ``requests_per_client`` mixed requests in turn.

    The mix cycles convert, history list, stream and voices list; every completed take is then
    looked up in the history (a take whose response completed but that is missing is lost).
    """
    headers = auth_headers(api_key)
    operations = _operations(base_url, voice_id, headers)
    start_gate = threading.Barrier(clients)

    def client(index: int) -> list[Sample]:
        start_gate.wait()
        return [operations[(index + i) % len(operations)](index + i)
                for i in range(requests_per_client)]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        per_client = list(pool.map(client, range(clients)))
    result = LoadResult(clients, time.perf_counter() - started,
                        [s for samples in per_client for s in samples])
    stored = set(history_ids(base_url, api_key))
    result.lost_takes = [s.take_id for s in result.samples
                         if s.kind in ("convert", "stream") and s.status == 200
                         and s.take_id not in stored]
    return result


@dataclass
class QuotaRace:
    """What ``race_quota`` observed."""

    limit: int
    count_before: int
    count_after: int
    accepted_costs: list[int]
    refused: list[tuple[int, str | None]]
    other: list[tuple[int, str]]
    new_history_items: int

    @property
    def exact(self) -> bool:
        """Billed characters equal the sum of accepted costs and the limit held."""
        return (sum(self.accepted_costs) == self.count_after - self.count_before
                and self.count_after <= self.limit)


def race_quota(base_url: str, voice_id: str, limit: int, text: str, requests_count: int = 32,
               api_key: str | None = None) -> QuotaRace:
    """Fire ``requests_count`` identical takes at once against a server limited to ``limit``."""
    headers = auth_headers(api_key)
    count_before = character_count(base_url, api_key)
    history_before = set(history_ids(base_url, api_key))
    gate = threading.Barrier(requests_count)

    def one(_i: int) -> requests.Response:
        gate.wait()
        return requests.post(f"{base_url}/v1/text-to-speech/{voice_id}", json={"text": text},
                             headers=headers, timeout=300)

    with ThreadPoolExecutor(max_workers=requests_count) as pool:
        responses = list(pool.map(one, range(requests_count)))
    accepted, refused, other = [], [], []
    for response in responses:
        if response.status_code == 200:
            accepted.append(int(response.headers["character-cost"]))
        elif response.status_code == 401:
            refused.append((401, error_status(response.json())))
        else:
            other.append((response.status_code, response.text[:200]))
    new_items = len(set(history_ids(base_url, api_key)) - history_before)
    return QuotaRace(limit, count_before, character_count(base_url, api_key), accepted,
                     refused, other, new_items)

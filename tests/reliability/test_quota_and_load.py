"""Under concurrency the quota is exact and no take is lost; syntheses queue, never pile up."""

from __future__ import annotations

import pytest

from .harness import SynthesisProbe, english_voice_id, history_ids
from .workload import race_quota, run_load

QUOTA_TEXT = "Twenty-eight characters ok."  # every request costs the same
RACERS = 32
FITS = 16  # the limit admits exactly this many of the racers


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_quota_race_bills_exactly_and_never_passes_the_limit(server_factory):
    limit = FITS * len(QUOTA_TEXT) + len(QUOTA_TEXT) // 2
    server = server_factory(character_limit=limit)
    voice = english_voice_id(server.base_url)

    race = race_quota(server.base_url, voice, limit, QUOTA_TEXT, requests_count=RACERS)

    assert race.other == [], "requests failed for another reason than the quota"
    cost = race.accepted_costs[0]
    assert set(race.accepted_costs) == {cost}
    assert len(race.accepted_costs) == min(RACERS, limit // cost)
    assert sum(race.accepted_costs) == race.count_after - race.count_before
    assert race.count_after <= limit
    assert race.refused == [(401, "quota_exceeded")] * (RACERS - len(race.accepted_costs))
    assert race.new_history_items == len(race.accepted_costs)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_four_clients_mixed_load_loses_nothing(server_factory):
    server = server_factory(max_concurrent_syntheses=2)
    probe = SynthesisProbe(server)
    voice = english_voice_id(server.base_url)

    result = run_load(server.base_url, voice, clients=4, requests_per_client=4)

    assert [(s.kind, s.status, s.error) for s in result.errors] == []
    assert result.lost_takes == []
    takes = [s for s in result.samples if s.kind in ("convert", "stream")]
    assert len(takes) == 8 and set(history_ids(server.base_url)) >= {s.take_id for s in takes}
    assert probe.calls == 8
    assert probe.peak <= 2, "the engine ran more syntheses at once than configured"
    assert result.maximum_concurrent == 2

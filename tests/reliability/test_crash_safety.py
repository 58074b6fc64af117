"""A server killed with SIGKILL mid-work loses no completed take and leaves nothing dangling."""

from __future__ import annotations

import pytest

from .crash import crash_and_restart


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kill_9_with_takes_in_flight_then_restart(tmp_path):
    report = crash_and_restart(tmp_path / "data", takes=24, kill_after_completed=3)

    assert len(report.completed) >= 3, "the server was killed before any take completed"
    assert len(report.completed) < report.started, "every take finished before the kill"
    assert report.integrity and all(result == "ok" for result in report.integrity)
    assert report.missing_completed == [], "completed takes vanished from the history"
    assert report.wrong_audio == [], "history audio differs from what the response delivered"
    assert report.rows_without_audio == []
    assert report.orphan_files == []
    assert report.serves_after_restart

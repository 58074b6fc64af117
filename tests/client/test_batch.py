"""synthesize_many against the real local server: files, manifest, resume, failures, limits."""

from __future__ import annotations

import csv
import json
import threading
from typing import Any

import requests

from xiwidgets.client import Client
from xiwidgets.client.batch import MANIFEST_COLUMNS

TEXTS = ["One.", "Two.", "Three.", "Four."]


def _manifest(result) -> list[dict[str, str]]:
    with result.manifest_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == MANIFEST_COLUMNS
        return list(reader)


def _history_count(client: Client) -> int:
    return sum(1 for _ in client.history.iter_all())


def test_batch_writes_files_and_manifest_and_survives_a_bad_row(client, voice_id, tmp_path):
    rows = [*TEXTS, {"text": "Nobody speaks this.", "voice": "NoSuchVoice"},
            {"text": "Slower.", "settings": {"speed": 0.8}, "filename": "slow.mp3"}]

    result = client.synthesize_many(rows, voice="Joe", out_dir=tmp_path, max_concurrency=2,
                                    progress=False)

    assert [i.status for i in result.items] == ["ok"] * 4 + ["failed", "ok"]
    [failure] = result.failures
    assert failure.index == 4 and "voice_not_found" in failure.error
    manifest = _manifest(result)
    assert [r["status"] for r in manifest] == ["ok"] * 4 + ["failed", "ok"]
    assert manifest[4]["error"] and manifest[4]["file"] == ""
    assert json.loads(manifest[5]["settings"]) == {"speed": 0.8}
    for row in manifest[:4] + manifest[5:]:
        audio = (tmp_path / row["file"]).read_bytes()
        assert audio[:3] == b"ID3" or audio[0] == 0xFF
        assert row["voice_id"] == voice_id and int(row["character_cost"]) == len(row["text"])
        assert client.history.get(row["history_item_id"]).text == row["text"]
    assert (tmp_path / "slow.mp3").exists() and (tmp_path / "0000.mp3").exists()


def test_rerun_skips_finished_items_and_redoes_missing_ones(client, tmp_path):
    first = client.synthesize_many(TEXTS, voice="Joe", out_dir=tmp_path, progress=False)
    (tmp_path / first.items[2].file).unlink()
    (tmp_path / first.items[3].file).write_bytes(b"")  # a truncated file is not "done"
    history_before = _history_count(client)

    second = client.synthesize_many(TEXTS, voice="Joe", out_dir=tmp_path, progress=False)

    assert [i.status for i in second.items] == ["skipped", "skipped", "ok", "ok"]
    assert _history_count(client) == history_before + 2
    assert second.items[0].request_id == first.items[0].request_id
    assert [r["status"] for r in _manifest(second)] == ["skipped", "skipped", "ok", "ok"]

    changed = client.synthesize_many(["One, changed.", *TEXTS[1:]], voice="Joe",
                                     out_dir=tmp_path, progress=False)
    assert [i.status for i in changed.items] == ["ok", "skipped", "skipped", "skipped"]


def test_rerun_in_another_format_with_the_same_extension_redoes_every_item(client, tmp_path):
    first = client.synthesize_many(TEXTS[:2], voice="Joe", out_dir=tmp_path, progress=False)
    sizes = [(tmp_path / item.file).stat().st_size for item in first.items]

    smaller = client.synthesize_many(TEXTS[:2], voice="Joe", out_dir=tmp_path, progress=False,
                                     output_format="mp3_22050_32")

    assert [i.status for i in smaller.items] == ["ok", "ok"]
    assert [r["output_format"] for r in _manifest(smaller)] == ["mp3_22050_32"] * 2
    for item, size in zip(smaller.items, sizes, strict=True):
        assert (tmp_path / item.file).stat().st_size < size


class _CountingSession(requests.Session):
    """A real session that records how many requests it has in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            return super().send(request, **kwargs)
        finally:
            with self._lock:
                self.in_flight -= 1


def test_never_more_requests_in_flight_than_max_concurrency(server, tmp_path):
    session = _CountingSession()
    client = Client(base_url=server.base_url, session=session)
    client.voices.list()  # so that only synthesis requests run during the batch

    result = client.synthesize_many([f"Parallel {n}." for n in range(6)], voice="Joe",
                                    out_dir=tmp_path, max_concurrency=3, progress=False)

    assert len(result.succeeded) == 6
    assert session.peak == 3
    # The server's own count, reported per take, agrees: never more than three at once.
    reported = [i.current_concurrent_requests for i in result.items]
    assert all(reported) and max(reported) <= 3


def test_progress_bar_is_shown_when_asked(client, tmp_path, capsys):
    client.synthesize_many(["Progress."], voice="Joe", out_dir=tmp_path, progress=True)
    assert "synthesizing" in capsys.readouterr().err


def test_a_take_made_but_not_written_keeps_its_ids_to_find_it_in_the_history(client, tmp_path):
    # The take is made and billed, then its file cannot be written (a folder in its way).
    (tmp_path / "blocked.mp3.part").mkdir()
    rows = [{"text": "Made, not saved.", "filename": "blocked.mp3"}]

    result = client.synthesize_many(rows, voice="Joe", out_dir=tmp_path, progress=False)

    [row] = result.items
    assert row.status == "failed" and row.error
    assert row.history_item_id and row.request_id
    assert row.character_cost == len("Made, not saved.")
    assert client.history.get(row.history_item_id).text == "Made, not saved."
    [written] = _manifest(result)
    assert written["history_item_id"] == row.history_item_id

"""A data directory made before the schema had a version is migrated at start, losing nothing.

The old directory is built from ``tests/fixtures/schema-v0.sql`` (the CREATE statements of
xiwidgets up to commit c221a88, the schema every user's data directory has at version 0) with
rows shaped as that version wrote them.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.server.helpers import get, post
from xiwidgets.server.store import (
    MIGRATIONS,
    Migration,
    SchemaVersionError,
    Store,
    migrate,
    next_month_unix,
)

V0_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "schema-v0.sql"
LATEST = len(MIGRATIONS)
CHARACTER_COUNT = 1234
VOICE_ID = "V0clonedVoiceId00001"
SAMPLE_ID = "V0sampleId0000000001"
# The voice profile as xiwidgets 0.1.0 stored it: sample durations by file name.
V0_PROFILE = {
    "median_f0_hz": 190.0,
    "syllables_per_second": 4.9,
    "speech_seconds": 1.0,
    "engine": "espeak",
    "engine_voice": "en-us",
    "language": "en",
    "variant": "f1",
    "pitch_factor": 1.05,
    "rate_factor": 0.99,
    "sample_durations": {"calm.wav": 1.0},
}
TAKES = [
    {
        "history_item_id": f"V0take{number:014d}",
        "text": text,
        "settings": {"stability": 0.3 + number / 10, "similarity_boost": 0.75, "speed": 1.0},
        "audio": bytes([number]) * 300 + text.encode(),
    }
    for number, text in enumerate(
        ["The first take, before versions.", "A second one, with a comma.", "Último: ünïcode."]
    )
]


def wav_bytes(seconds: float = 1.0, rate: int = 16_000) -> bytes:
    """A mono 16-bit WAV of a quiet tone."""
    tone = 0.2 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * rate)) / rate)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes((tone * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


SAMPLE = wav_bytes()


def build_v0_data_dir(data_dir: Path) -> Path:
    """A data directory as xiwidgets wrote it before schema versions: takes, a voice, usage."""
    now = int(time.time())
    (data_dir / "audio").mkdir(parents=True)
    (data_dir / "samples" / VOICE_ID).mkdir(parents=True)
    database = data_dir / "xiwidgets.sqlite3"
    with sqlite3.connect(database) as db:
        db.executescript(V0_SCHEMA.read_text())
        db.execute(
            "INSERT INTO account VALUES (1, 'v0user', ?, ?, 10000, ?)",
            (now - 86_400, CHARACTER_COUNT, next_month_unix(now)),
        )
        db.execute(
            "INSERT INTO voices VALUES (?, 'Old clone', 'cloned', 'made by 0.1.0', ?, ?, ?)",
            (VOICE_ID, json.dumps({"accent": "calm"}), json.dumps(V0_PROFILE), now - 3600),
        )
        sample_path = data_dir / "samples" / VOICE_ID / f"{SAMPLE_ID}.wav"
        sample_path.write_bytes(SAMPLE)
        db.execute(
            "INSERT INTO samples VALUES (?, ?, 'calm.wav', 'audio/wav', ?, 'md5-of-0.1.0', 1.0, ?)",
            (SAMPLE_ID, VOICE_ID, len(SAMPLE), str(sample_path.relative_to(data_dir))),
        )
        db.execute(
            "INSERT INTO voice_settings VALUES (?, ?)",
            (VOICE_ID, json.dumps({"stability": 0.25, "similarity_boost": 0.5})),
        )
        count = 0
        for number, take in enumerate(TAKES):
            count_from, count = count, count + len(take["text"])
            file_name = f"{take['history_item_id']}.mp3"
            (data_dir / "audio" / file_name).write_bytes(take["audio"])
            db.execute(
                "INSERT INTO history (history_item_id, request_id, voice_id, voice_name, "
                "voice_category, model_id, text, date_unix, character_count_change_from, "
                "character_count_change_to, content_type, output_format, settings, alignments, "
                "audio_file) VALUES (?, ?, ?, 'Old clone', 'cloned', 'eleven_multilingual_v2', "
                "?, ?, ?, ?, 'audio/mpeg', 'mp3_44100_128', ?, ?, ?)",
                (
                    take["history_item_id"],
                    f"request-{number}",
                    VOICE_ID,
                    take["text"],
                    now - 600 + number,
                    count_from,
                    count,
                    json.dumps(take["settings"]),
                    json.dumps({"alignment": {"characters": list(take["text"][:3])}}),
                    file_name,
                ),
            )
            db.execute(
                "INSERT INTO usage_events VALUES (?, ?, 'eleven_multilingual_v2', ?)",
                ((now - 600 + number) * 1000, VOICE_ID, len(take["text"])),
            )
    return database


def user_version(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def contents_of(database: Path) -> list[str]:
    """The database as SQL statements: its schema and every row."""
    with sqlite3.connect(database) as db:
        return list(db.iterdump())


def schema_of(database: Path) -> dict[str, object]:
    """Every table's columns (name, type, not null, default, key) and every index's columns."""
    with sqlite3.connect(database) as db:
        tables = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )]
        indexes = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )]
        return {
            **{table: db.execute(f"PRAGMA table_info({table})").fetchall() for table in tables},
            **{index: db.execute(f"PRAGMA index_info({index})").fetchall() for index in indexes},
        }


def test_a_v0_data_dir_keeps_every_take_its_audio_voice_and_quota(server_factory, tmp_path):
    database = build_v0_data_dir(tmp_path)
    server = server_factory(data_dir=tmp_path)

    listed = get(server, "/v1/history?page_size=100").json()["history"]
    assert [item["history_item_id"] for item in listed] == [
        take["history_item_id"] for take in reversed(TAKES)
    ]
    for take in TAKES:
        item_id = take["history_item_id"]
        item = get(server, f"/v1/history/{item_id}").json()
        assert item["text"] == take["text"] and item["settings"] == take["settings"]
        assert item["voice_id"] == VOICE_ID and item["model_id"] == "eleven_multilingual_v2"
        assert item["alignments"] == {"alignment": {"characters": list(take["text"][:3])}}
        assert get(server, f"/v1/history/{item_id}/audio").content == take["audio"]
        downloaded = post(server, "/v1/history/download", json={"history_item_ids": [item_id]})
        assert downloaded.status_code == 200 and downloaded.content == take["audio"]

    voice = get(server, f"/v1/voices/{VOICE_ID}").json()
    assert voice["name"] == "Old clone" and voice["labels"] == {"accent": "calm"}
    assert [(s["sample_id"], s["file_name"], s["size_bytes"]) for s in voice["samples"]] == [
        (SAMPLE_ID, "calm.wav", len(SAMPLE))
    ]
    assert (tmp_path / "samples" / VOICE_ID / f"{SAMPLE_ID}.wav").read_bytes() == SAMPLE
    assert get(server, f"/v1/voices/{VOICE_ID}/settings").json()["stability"] == 0.25
    assert get(server, "/v1/user/subscription").json()["character_count"] == CHARACTER_COUNT
    stats = get(server, "/v1/usage/character-stats", params={
        "start_unix": 0, "end_unix": int(time.time() * 1000) + 1, "aggregation_interval":
        "cumulative", "breakdown_type": "voice"}).json()
    assert stats["usage"] == {VOICE_ID: [sum(len(take["text"]) for take in TAKES)]}
    assert user_version(database) == LATEST

    # The old voice still speaks, and its new take joins the old ones.
    spoken = post(server, f"/v1/text-to-speech/{VOICE_ID}", json={"text": "Still mine."})
    assert spoken.status_code == 200, spoken.text
    listed = get(server, "/v1/history?page_size=100").json()["history"]
    assert [item["history_item_id"] for item in listed][1:] == [
        take["history_item_id"] for take in reversed(TAKES)
    ]
    assert get(server, "/v1/user/subscription").json()["character_count"] == (
        CHARACTER_COUNT + len("Still mine.")
    )


def test_a_second_start_runs_no_migration(server_factory, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="xiwidgets.server.store")
    database = build_v0_data_dir(tmp_path)
    server_factory(data_dir=tmp_path).stop()
    upgrades = [r.getMessage() for r in caplog.records if "schema version" in r.getMessage()]
    assert upgrades == [f"upgraded the data directory {tmp_path} to schema version {LATEST} "
                        f"(migrations {', '.join(map(str, range(1, LATEST + 1)))})"]
    migrated = schema_of(database)
    caplog.clear()

    server = server_factory(data_dir=tmp_path)

    assert not [r for r in caplog.records if "schema version" in r.getMessage()]
    assert user_version(database) == LATEST and schema_of(database) == migrated
    ids = [item["history_item_id"] for item in get(server, "/v1/history").json()["history"]]
    assert ids == [take["history_item_id"] for take in reversed(TAKES)]
    assert get(server, "/v1/user/subscription").json()["character_count"] == CHARACTER_COUNT


def test_a_fresh_data_dir_has_the_schema_an_old_one_migrates_to(server_factory, tmp_path):
    server_factory(data_dir=tmp_path / "fresh").stop()
    old = build_v0_data_dir(tmp_path / "old")
    Store(tmp_path / "old", character_limit=10_000).close()

    assert user_version(tmp_path / "fresh" / "xiwidgets.sqlite3") == LATEST == user_version(old)
    assert schema_of(tmp_path / "fresh" / "xiwidgets.sqlite3") == schema_of(old)


def test_a_data_dir_from_a_newer_xiwidgets_is_refused_and_left_unchanged(server_factory,
                                                                         tmp_path):
    database = build_v0_data_dir(tmp_path)
    Store(tmp_path, character_limit=10_000).close()
    with sqlite3.connect(database) as db:
        db.execute(f"PRAGMA user_version = {LATEST + 1}")
    before = contents_of(database)
    refusal = (f"The data directory {tmp_path} has schema version {LATEST + 1}, but this "
               f"xiwidgets knows versions up to {LATEST}: a newer xiwidgets wrote it.")

    served = subprocess.run(
        [sys.executable, "-m", "xiwidgets.cli", "serve", "--port", "0", "--data-dir",
         str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    with pytest.raises(SchemaVersionError, match=re.escape(refusal)):
        server_factory(data_dir=tmp_path)
    with pytest.raises(SchemaVersionError, match=re.escape(refusal)):
        Store(tmp_path, character_limit=10_000)

    assert served.returncode == 2 and served.stdout == ""
    assert served.stderr.startswith(f"xiwidgets serve: {refusal}")
    assert user_version(database) == LATEST + 1
    assert contents_of(database) == before


def test_a_failed_migration_leaves_the_previous_version_whole(tmp_path):
    database = build_v0_data_dir(tmp_path)
    broken = Migration("a step that fails half-way", (
        "CREATE TABLE half_done (x INTEGER)",
        "ALTER TABLE history ADD COLUMN speaker TEXT",
        "INSERT INTO no_such_table VALUES (1)",
    ))
    db = sqlite3.connect(database, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            migrate(db, [*MIGRATIONS, broken])
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert migrate(db) == []
    finally:
        db.close()
    migrated = schema_of(database)
    assert "half_done" not in migrated
    assert "speaker" not in [column[1] for column in migrated["history"]]
    assert "reservations" in migrated


def test_a_data_dir_of_main_before_versions_keeps_its_held_reservations(tmp_path):
    # Between the hardening and schema versions, main created the reservations table at
    # version 0: migration 1 must take such a directory as it is.
    database = build_v0_data_dir(tmp_path)
    with sqlite3.connect(database) as db:
        for statement in MIGRATIONS[0].statements:
            db.execute(statement)
        db.execute("INSERT INTO reservations (request_id, characters, period_end_unix, "
                   "created_ms) VALUES ('r', 40, ?, 0)", (next_month_unix(time.time()),))

    store = Store(tmp_path, character_limit=10_000)
    try:
        assert store.refund_abandoned_reservations() == (1, 40)
        assert store.account()["character_count"] == CHARACTER_COUNT - 40
        assert store.count_history() == len(TAKES)
    finally:
        store.close()
    assert user_version(database) == LATEST

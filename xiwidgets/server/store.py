"""Persistent state of the local server: SQLite (WAL) plus audio files in the data directory.

Layout of ``data_dir``::

    xiwidgets.sqlite3      voices, samples, settings overrides, history, api keys, usage, account,
                           reservations of takes in flight; its schema version is
                           ``PRAGMA user_version``, brought up to date at start (``MIGRATIONS``)
    audio/<history_id>.mp3 one file per history item
    samples/<voice_id>/... uploaded samples of cloned voices
    previews/<voice_id>-<tag>.mp3 cached voice previews

One connection is shared by the event loop and the synthesis threads, serialized by a lock:
writes are tiny, and one writer is what SQLite wants anyway. Files are written to a temporary
name and renamed, so a crash never leaves a half-written file under a final name.
"""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import shutil
import sqlite3
import string
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import IO, Any

from xiwidgets.server.files import atomic_file, write_atomically

logger = logging.getLogger(__name__)

DATABASE_NAME = "xiwidgets.sqlite3"
_ID_ALPHABET = string.ascii_letters + string.digits
# Well under SQLite's limit on bound parameters per statement.
_IDS_PER_QUERY = 500

# The schema every data directory had before it carried a version (``PRAGMA user_version`` 0,
# xiwidgets up to commit c221a88). Frozen: it is created when missing (a fresh data directory)
# and is a no-op on an existing one; every later change is a migration below.
BASELINE_SCHEMA: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS voices (
        voice_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        category TEXT NOT NULL,
        description TEXT,
        labels TEXT NOT NULL DEFAULT '{}',
        profile TEXT NOT NULL DEFAULT '{}',
        created_at_unix INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS voice_settings (
        voice_id TEXT PRIMARY KEY,
        settings TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS samples (
        sample_id TEXT PRIMARY KEY,
        voice_id TEXT NOT NULL REFERENCES voices(voice_id) ON DELETE CASCADE,
        file_name TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        hash TEXT NOT NULL,
        duration_secs REAL,
        path TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        history_item_id TEXT UNIQUE NOT NULL,
        request_id TEXT,
        voice_id TEXT,
        voice_name TEXT,
        voice_category TEXT,
        model_id TEXT,
        text TEXT,
        date_unix INTEGER NOT NULL,
        character_count_change_from INTEGER NOT NULL,
        character_count_change_to INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        output_format TEXT,
        settings TEXT,
        alignments TEXT,
        audio_file TEXT NOT NULL
    )
    """,
    """
    CREATE INDEX IF NOT EXISTS history_voice ON history(voice_id)
    """,
    """
    CREATE TABLE IF NOT EXISTS api_keys (
        key_hash TEXT PRIMARY KEY,
        created_at_unix INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS usage_events (
        time_ms INTEGER NOT NULL,
        voice_id TEXT,
        model_id TEXT,
        characters INTEGER NOT NULL
    )
    """,
    """
    CREATE INDEX IF NOT EXISTS usage_time ON usage_events(time_ms)
    """,
    """
    CREATE TABLE IF NOT EXISTS account (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        user_id TEXT NOT NULL,
        created_at_unix INTEGER NOT NULL,
        character_count INTEGER NOT NULL,
        character_limit INTEGER NOT NULL,
        next_reset_unix INTEGER NOT NULL
    )
    """,
)


@dataclass(frozen=True)
class Migration:
    """One step of the schema: the statements that take version ``n - 1`` to ``n``.

    Statements run in one transaction with the version bump, so a crash mid-way leaves the
    previous version, whole; they must not commit by themselves (no ``VACUUM``).
    """

    description: str
    statements: tuple[str, ...]


# In order: migration ``n`` (1-based) takes the schema to ``user_version`` n. Append only.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "reservations of takes in flight, refunded at start-up if a crash ends them",
        # IF NOT EXISTS: data directories used by main between the hardening and versioning
        # already have this table at version 0.
        (
            """
            CREATE TABLE IF NOT EXISTS reservations (
                reservation_id INTEGER PRIMARY KEY AUTOINCREMENT,
                request_id TEXT,
                characters INTEGER NOT NULL,
                period_end_unix INTEGER NOT NULL,
                created_ms INTEGER NOT NULL
            )
            """,
        ),
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaVersionError(RuntimeError):
    """The data directory's schema is newer than this code knows: it is left untouched."""


def schema_version(db: sqlite3.Connection) -> int:
    """The database's ``PRAGMA user_version``: how many migrations it has had."""
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    return version


def check_schema_version(data_dir: Path) -> None:
    """Refuse a data directory a newer xiwidgets wrote, before anything opens it for writing.

    A read-only look; a data directory without a database passes.

    Raises
    ------
    SchemaVersionError
        When its schema version is newer than ``MIGRATIONS`` knows.
    """
    database = Path(data_dir) / DATABASE_NAME
    if not database.is_file():
        return
    with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as db:
        found = schema_version(db)
    _refuse_newer(found, SCHEMA_VERSION, f"The data directory {data_dir}")


def _refuse_newer(found: int, known: int, where: str) -> None:
    if found > known:
        raise SchemaVersionError(
            f"{where} has schema version {found}, but this xiwidgets knows versions up to "
            f"{known}: a newer xiwidgets wrote it. Upgrade xiwidgets (or use another data "
            "directory); it was left unchanged."
        )


def migrate(
    db: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS, where: str = "database"
) -> list[int]:
    """Bring a database (in autocommit mode) to the latest schema version.

    Version 0 is the baseline: created when missing, so a fresh database runs the same steps as
    an old one. Each migration commits with its version bump, and the version is read again
    inside its transaction, so a crash or a second server starting at once cannot apply a
    step twice.

    Returns
    -------
    list of int
        The versions this call migrated to (none when the database was up to date).

    Raises
    ------
    SchemaVersionError
        When the database has a version newer than ``len(migrations)``; nothing is changed.
    """
    found = schema_version(db)
    _refuse_newer(found, len(migrations), where)
    applied = []
    for version in range(found + 1, len(migrations) + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            current = schema_version(db)
            if current < version:
                if current == 0:
                    for statement in BASELINE_SCHEMA:
                        db.execute(statement)
                for statement in migrations[version - 1].statements:
                    db.execute(statement)
                # PRAGMA takes no bound parameters; the version is an int from range().
                db.execute(f"PRAGMA user_version = {version:d}")
                applied.append(version)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return applied


def new_id(length: int = 20) -> str:
    """Return a random alphanumeric id like the hosted API's (20 characters)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def hash_api_key(key: str) -> str:
    """SHA-256 of a key: the server keeps no key in clear text."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def next_month_unix(now: float) -> int:
    """Start of the next calendar month (UTC) after ``now``, in unix seconds."""
    moment = time.gmtime(now)
    if moment.tm_mon == 12:
        return calendar.timegm((moment.tm_year + 1, 1, 1, 0, 0, 0))
    return calendar.timegm((moment.tm_year, moment.tm_mon + 1, 1, 0, 0, 0))


@dataclass(frozen=True)
class Reservation:
    """Characters taken from the quota for one take, before synthesis starts.

    Each has a row in ``reservations`` until the take is settled (billed) or refunded, so the
    characters of takes a crash interrupted can be given back at the next start.
    """

    reservation_id: int
    cost: int
    count_from: int
    count_to: int
    period_end_unix: int


@dataclass(frozen=True)
class Usage:
    """What a settled take adds to ``/v1/usage/character-stats``."""

    voice_id: str
    model_id: str
    characters: int


class QuotaExceededError(Exception):
    """The request would pass the character limit; nothing was charged."""

    def __init__(self, needed: int, left: int) -> None:
        super().__init__(f"needed {needed}, left {left}")
        self.needed = needed
        self.left = left


class VoiceLimitError(Exception):
    """The store already holds as many voices as allowed; nothing was added."""


class SampleLimitError(Exception):
    """The new samples would give a voice more samples than allowed; nothing was added."""

    def __init__(self, held: int, limit: int) -> None:
        super().__init__(f"held {held}, limit {limit}")
        self.held = held
        self.limit = limit


@dataclass(frozen=True)
class StoredSample:
    """A sample file written to the data directory, waiting for its row (see ``add_voice``)."""

    sample_id: str
    file_name: str
    mime_type: str
    size_bytes: int
    hash: str
    duration_secs: float | None
    path: Path


# Marks a field stored as JSON text and read back parsed.
_JSON_COLUMN = {"json": True}


@dataclass(frozen=True)
class HistoryRecord:
    """One take of the history: a row of the ``history`` table, its JSON columns parsed.

    The fields are the table's columns (but ``seq``, its insertion order): the store reads and
    writes every field by name, so a new column is a field here and a migration that adds it.
    ``audio_file`` is named by the store when the take is stored.
    """

    history_item_id: str
    request_id: str | None
    voice_id: str | None
    voice_name: str | None
    voice_category: str | None
    model_id: str | None
    text: str | None
    date_unix: int
    character_count_change_from: int
    character_count_change_to: int
    content_type: str
    output_format: str | None
    settings: dict[str, Any] | None = field(metadata=_JSON_COLUMN)
    alignments: dict[str, Any] | None = field(metadata=_JSON_COLUMN)
    audio_file: str = ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> HistoryRecord:
        """The record of a row selected with ``HISTORY_COLUMNS``."""
        values = {
            column.name: (
                _from_json(row[column.name]) if column.metadata.get("json") else row[column.name]
            )
            for column in fields(cls)
        }
        return cls(**values)

    def to_row(self) -> dict[str, Any]:
        """``{column: value}`` to insert, the JSON columns as text."""
        return {
            column.name: _to_json(getattr(self, column.name))
            if column.metadata.get("json")
            else getattr(self, column.name)
            for column in fields(self)
        }


HISTORY_COLUMNS = ", ".join(column.name for column in fields(HistoryRecord))


def _from_json(text: str | None) -> Any:
    return json.loads(text) if text else None


def _to_json(value: Any) -> str | None:
    return json.dumps(value) if value is not None else None


def _sample_suffix(file_name: str) -> str:
    """The extension a stored sample keeps: ``.`` and 1-8 ASCII letters or digits, or none.

    Whatever else a client put in the name (NUL, slashes, dots, non-ASCII) never reaches a path.
    """
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = base.rpartition(".")
    extension = extension.lower()
    if dot and stem and extension.isascii() and extension.isalnum() and len(extension) <= 8:
        return f".{extension}"
    return ""


class Store:
    """All persistent state of one server.

    Parameters
    ----------
    data_dir : pathlib.Path
        Created when missing.
    character_limit : int
        The account's limit for this run (the used count persists across runs).
    api_keys : iterable of str
        Keys accepted by this run; only their hashes are stored.

    Raises
    ------
    SchemaVersionError
        When the data directory was written by a newer schema than this code knows.
    """

    def __init__(self, data_dir: Path, character_limit: int, api_keys: Iterable[str] = ()) -> None:
        self.data_dir = Path(data_dir)
        self.audio_dir = self.data_dir / "audio"
        self.samples_dir = self.data_dir / "samples"
        self.previews_dir = self.data_dir / "previews"
        for directory in (self.audio_dir, self.samples_dir, self.previews_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.data_dir / DATABASE_NAME, check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        # Migrated before any other setting touches the file (a newer one is left as it is),
        # and with foreign keys off, as SQLite's recipe for rebuilding a table asks.
        fresh = self._db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is None
        try:
            applied = migrate(self._db, where=f"The data directory {self.data_dir}")
        except BaseException:
            self._db.close()
            raise
        if applied and not fresh:
            logger.warning(
                "upgraded the data directory %s to schema version %d (migrations %s)",
                self.data_dir,
                applied[-1],
                ", ".join(map(str, applied)),
            )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._init_account(character_limit)
        self._replace_api_keys(api_keys)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    # -- helpers -------------------------------------------------------------------------

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, tuple(params)).rowcount

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Statements that commit together or not at all (and no other writer in between)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- account and quota ---------------------------------------------------------------

    def _init_account(self, character_limit: int) -> None:
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO account VALUES (1, ?, ?, 0, ?, ?)",
                (new_id(28), int(now), character_limit, next_month_unix(now)),
            )
            self._db.execute("UPDATE account SET character_limit = ?", (character_limit,))

    def account(self) -> dict[str, Any]:
        """The account row, after rolling the counter over if the period has ended."""
        self._roll_over_period()
        return dict(self._query("SELECT * FROM account WHERE id = 1")[0])

    def _roll_over_period(self) -> None:
        now = time.time()
        self._execute(
            "UPDATE account SET character_count = 0, next_reset_unix = ? "
            "WHERE id = 1 AND next_reset_unix <= ?",
            (next_month_unix(now), int(now)),
        )

    def reserve_characters(self, cost: int, request_id: str | None = None) -> Reservation:
        """Take ``cost`` characters from the quota and record the reservation, or refuse.

        The counter's increment and the reservation row commit in one transaction.

        Raises
        ------
        QuotaExceededError
            When the request would pass the limit; the counter is unchanged.
        """
        self._roll_over_period()
        with self._transaction() as db:
            updated = db.execute(
                "UPDATE account SET character_count = character_count + ? "
                "WHERE id = 1 AND character_count + ? <= character_limit "
                "RETURNING character_count, next_reset_unix",
                (cost, cost),
            ).fetchone()
            if updated is None:
                row = db.execute("SELECT character_count, character_limit FROM account").fetchone()
                left = max(0, row["character_limit"] - row["character_count"])
                raise QuotaExceededError(cost, left)
            reservation_id: int = db.execute(
                "INSERT INTO reservations (request_id, characters, period_end_unix, created_ms) "
                "VALUES (?, ?, ?, ?) RETURNING reservation_id",
                (request_id, cost, updated["next_reset_unix"], int(time.time() * 1000)),
            ).fetchone()[0]
        count_to = updated["character_count"]
        return Reservation(
            reservation_id=reservation_id,
            cost=cost,
            count_from=count_to - cost,
            count_to=count_to,
            period_end_unix=updated["next_reset_unix"],
        )

    def refund_characters(self, reservation: Reservation) -> None:
        """Give back the characters of a take that will not be delivered.

        Refunding twice, or refunding a settled take, changes nothing; characters reserved in
        a period that has since ended are not taken off the new period's count.
        """
        self._roll_over_period()
        with self._transaction() as db:
            held = db.execute(
                "DELETE FROM reservations WHERE reservation_id = ?",
                (reservation.reservation_id,),
            ).rowcount
            if held:
                db.execute(
                    "UPDATE account SET character_count = MAX(0, character_count - ?) "
                    "WHERE id = 1 AND next_reset_unix = ?",
                    (reservation.cost, reservation.period_end_unix),
                )

    def refund_abandoned_reservations(self) -> tuple[int, int]:
        """Give back every reservation still held: takes a killed server never finished.

        Only safe while no take is in flight (at start-up, before serving).

        Returns
        -------
        tuple of int
            ``(reservations, characters)`` given back (characters of the current period).
        """
        self._roll_over_period()
        with self._transaction() as db:
            row = db.execute(
                "SELECT COUNT(*) AS n, COALESCE(SUM(characters), 0) AS characters "
                "FROM reservations WHERE period_end_unix = "
                "(SELECT next_reset_unix FROM account WHERE id = 1)"
            ).fetchone()
            db.execute(
                "UPDATE account SET character_count = MAX(0, character_count - ?) WHERE id = 1",
                (row["characters"],),
            )
            count = db.execute("DELETE FROM reservations").rowcount
        return count, row["characters"]

    def settle_take(
        self,
        reservation: Reservation,
        usage: Usage,
        history_item: HistoryRecord | None = None,
        audio: bytes = b"",
        extension: str = "mp3",
    ) -> None:
        """Bill a finished take, storing it when it is logged.

        Its usage event, its history row (with ``history_item``) and the end of its
        reservation commit in one transaction, after the audio file is written; a crash
        between the two leaves an orphan file, removed at the next start.

        Raises
        ------
        RuntimeError
            When the reservation is no longer held (it was refunded); nothing is stored.
        """
        file_name = None
        if history_item is not None:
            file_name = f"{history_item.history_item_id}.{extension}"
            write_atomically(self.audio_dir / file_name, audio)
        try:
            with self._transaction() as db:
                held = db.execute(
                    "DELETE FROM reservations WHERE reservation_id = ?",
                    (reservation.reservation_id,),
                ).rowcount
                if not held:
                    raise RuntimeError(
                        f"reservation {reservation.reservation_id} was refunded before the "
                        "take was settled"
                    )
                db.execute(
                    "INSERT INTO usage_events VALUES (?, ?, ?, ?)",
                    (int(time.time() * 1000), usage.voice_id, usage.model_id, usage.characters),
                )
                if history_item is not None and file_name is not None:
                    self._insert_history_row(db, history_item, file_name)
        except BaseException:
            if file_name is not None:
                (self.audio_dir / file_name).unlink(missing_ok=True)
            raise

    def usage_events(self, start_ms: int, end_ms: int) -> list[sqlite3.Row]:
        """Usage events with ``start_ms <= time_ms < end_ms``, oldest first."""
        return self._query(
            "SELECT * FROM usage_events WHERE time_ms >= ? AND time_ms < ? ORDER BY time_ms",
            (start_ms, end_ms),
        )

    # -- api keys -----------------------------------------------------------------------

    def _replace_api_keys(self, keys: Iterable[str]) -> None:
        now = int(time.time())
        # Checked against this run's own hashes, not the table: another server on the same data
        # directory (a second notebook's embedded server, with its own key) rewrites the table.
        self._key_hashes = tuple(hash_api_key(key) for key in keys)
        with self._lock:
            self._db.execute("DELETE FROM api_keys")
            self._db.executemany(
                "INSERT OR IGNORE INTO api_keys VALUES (?, ?)",
                [(key_hash, now) for key_hash in self._key_hashes],
            )

    def is_valid_api_key(self, key: str | None) -> bool:
        """Compare the key's hash with this run's key hashes in constant time."""
        if not key:
            return False
        candidate = hash_api_key(key)
        matches = [hmac.compare_digest(candidate, known) for known in self._key_hashes]
        return any(matches)

    # -- voices ---------------------------------------------------------------------------

    def add_voice(
        self,
        voice_id: str,
        name: str,
        description: str | None,
        labels: dict[str, str],
        profile: dict[str, Any],
        samples: Iterable[StoredSample] = (),
        voice_limit: int | None = None,
        category: str = "cloned",
    ) -> None:
        """Insert a voice and the rows of its written sample files, all or nothing.

        The limit is checked in the same transaction as the insert, so concurrent adds cannot
        pass it. On any failure the sample files are deleted too.

        Raises
        ------
        VoiceLimitError
            The store already holds ``voice_limit`` voices.
        """
        samples = list(samples)
        try:
            with self._transaction() as db:
                added = db.execute(
                    "INSERT INTO voices SELECT ?, ?, ?, ?, ?, ?, ? "
                    "WHERE ? IS NULL OR (SELECT COUNT(*) FROM voices) < ?",
                    (
                        voice_id,
                        name,
                        category,
                        description,
                        json.dumps(labels),
                        json.dumps(profile),
                        int(time.time()),
                        voice_limit,
                        voice_limit,
                    ),
                ).rowcount
                if not added:
                    raise VoiceLimitError
                self._insert_samples(db, voice_id, samples)
        except BaseException:
            self.discard_samples(samples)
            raise

    def update_voice(
        self,
        voice_id: str,
        name: str,
        description: str | None,
        labels: dict[str, str] | None,
        profile: dict[str, Any] | None = None,
        new_samples: Iterable[StoredSample] = (),
        sample_limit: int | None = None,
    ) -> None:
        """Change a stored voice's name, description, labels and (optionally) profile, and add
        the rows of new written sample files, all or nothing.

        On any failure the new sample files are deleted.

        Raises
        ------
        KeyError
            The voice does not exist (any more).
        SampleLimitError
            The voice would hold more than ``sample_limit`` samples.
        """
        new_samples = list(new_samples)
        try:
            with self._transaction() as db:
                exists = db.execute("SELECT 1 FROM voices WHERE voice_id = ?", (voice_id,))
                if exists.fetchone() is None:
                    raise KeyError(voice_id)
                if new_samples and sample_limit is not None:
                    held = db.execute(
                        "SELECT COUNT(*) FROM samples WHERE voice_id = ?", (voice_id,)
                    ).fetchone()[0]
                    if held + len(new_samples) > sample_limit:
                        raise SampleLimitError(held, sample_limit)
                db.execute(
                    "UPDATE voices SET name = ?, description = ? WHERE voice_id = ?",
                    (name, description, voice_id),
                )
                if labels is not None:
                    db.execute(
                        "UPDATE voices SET labels = ? WHERE voice_id = ?",
                        (json.dumps(labels), voice_id),
                    )
                if profile is not None:
                    db.execute(
                        "UPDATE voices SET profile = ? WHERE voice_id = ?",
                        (json.dumps(profile), voice_id),
                    )
                self._insert_samples(db, voice_id, new_samples)
        except BaseException:
            self.discard_samples(new_samples)
            raise

    def get_voice(self, voice_id: str) -> dict[str, Any] | None:
        """A stored (non-premade) voice with its samples, or ``None``."""
        rows = self._query("SELECT * FROM voices WHERE voice_id = ?", (voice_id,))
        return self._voice_dict(rows[0]) if rows else None

    def list_voices(self) -> list[dict[str, Any]]:
        """All stored voices, oldest first."""
        rows = self._query("SELECT * FROM voices ORDER BY created_at_unix, rowid")
        return [self._voice_dict(row) for row in rows]

    def count_voices(self) -> int:
        """How many stored voices there are."""
        count: int = self._query("SELECT COUNT(*) AS n FROM voices")[0]["n"]
        return count

    def _voice_dict(self, row: sqlite3.Row) -> dict[str, Any]:
        voice = dict(row)
        voice["labels"] = json.loads(voice["labels"])
        voice["profile"] = json.loads(voice["profile"])
        voice["samples"] = [
            dict(sample)
            for sample in self._query(
                "SELECT * FROM samples WHERE voice_id = ? ORDER BY rowid", (row["voice_id"],)
            )
        ]
        return voice

    def delete_voice(self, voice_id: str) -> bool:
        """Delete a stored voice, its samples, settings and cached previews."""
        with self._lock:
            deleted = self._db.execute(
                "DELETE FROM voices WHERE voice_id = ?", (voice_id,)
            ).rowcount
            self._db.execute("DELETE FROM voice_settings WHERE voice_id = ?", (voice_id,))
        if deleted:
            shutil.rmtree(self.samples_dir / voice_id, ignore_errors=True)
            self.drop_previews(voice_id)
        return bool(deleted)

    def write_sample(
        self,
        voice_id: str,
        file_name: str,
        mime_type: str,
        source: IO[bytes],
        duration_secs: float | None,
    ) -> StoredSample:
        """Copy one uploaded sample (from its start) into the voice's folder; no row yet.

        The file is copied in pieces and hashed on the way, never held in memory whole. Pass
        the result to ``add_voice`` or ``update_voice``, or to ``discard_samples``.
        """
        sample_id = new_id()
        path = self.samples_dir / voice_id / f"{sample_id}{_sample_suffix(file_name)}"
        digest = hashlib.md5()
        size = 0
        source.seek(0)
        with atomic_file(path) as handle:
            while piece := source.read(1 << 20):
                digest.update(piece)
                size += len(piece)
                handle.write(piece)
        return StoredSample(
            sample_id, file_name, mime_type, size, digest.hexdigest(), duration_secs, path
        )

    def discard_samples(self, samples: Iterable[StoredSample]) -> None:
        """Delete written sample files whose rows were never committed."""
        for sample in samples:
            sample.path.unlink(missing_ok=True)

    def _insert_samples(
        self, db: sqlite3.Connection, voice_id: str, samples: list[StoredSample]
    ) -> None:
        db.executemany(
            "INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    sample.sample_id,
                    voice_id,
                    sample.file_name,
                    sample.mime_type,
                    sample.size_bytes,
                    sample.hash,
                    sample.duration_secs,
                    str(sample.path.relative_to(self.data_dir)),
                )
                for sample in samples
            ],
        )

    def remove_orphan_samples(self) -> int:
        """Delete sample files no row points at (left by a crash before their voice was
        committed) and the folders of voices that no longer exist; return the files removed.
        """
        referenced = {row["path"] for row in self._query("SELECT path FROM samples")}
        removed = 0
        for folder in self.samples_dir.iterdir():
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if str(path.relative_to(self.data_dir)) not in referenced:
                    path.unlink(missing_ok=True)
                    removed += 1
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        return removed

    def sample_path(self, sample: dict[str, Any]) -> Path:
        """Absolute path of a stored sample."""
        return self.data_dir / str(sample["path"])

    def get_voice_settings(self, voice_id: str) -> dict[str, Any] | None:
        """The stored settings override of a voice, or ``None``."""
        rows = self._query("SELECT settings FROM voice_settings WHERE voice_id = ?", (voice_id,))
        return json.loads(rows[0]["settings"]) if rows else None

    def set_voice_settings(self, voice_id: str, settings: dict[str, Any]) -> None:
        """Store a voice's settings (premade voices too)."""
        self._execute(
            "INSERT INTO voice_settings VALUES (?, ?) "
            "ON CONFLICT(voice_id) DO UPDATE SET settings = excluded.settings",
            (voice_id, json.dumps(settings)),
        )

    def preview_path(self, voice_id: str, tag: str) -> Path:
        """Where the cached preview of a voice (for one version ``tag`` of it) lives."""
        return self.previews_dir / f"{voice_id}-{tag}.mp3"

    def drop_previews(self, voice_id: str) -> None:
        """Forget every cached preview of a voice (after it was edited or deleted)."""
        for path in self.previews_dir.glob(f"{voice_id}-*.mp3"):
            path.unlink(missing_ok=True)

    # -- history -------------------------------------------------------------------------

    def add_history_item(self, item: HistoryRecord, audio: bytes, extension: str) -> None:
        """Write a take's audio file, then commit its row.

        ``item.audio_file`` is replaced by the file's name; the file is written first so that a
        committed row always has its audio.
        """
        file_name = f"{item.history_item_id}.{extension}"
        write_atomically(self.audio_dir / file_name, audio)
        try:
            with self._transaction() as db:
                self._insert_history_row(db, item, file_name)
        except Exception:
            (self.audio_dir / file_name).unlink(missing_ok=True)
            raise

    @staticmethod
    def _insert_history_row(db: sqlite3.Connection, item: HistoryRecord, file_name: str) -> None:
        columns = replace(item, audio_file=file_name).to_row()
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        db.execute(f"INSERT INTO history ({names}) VALUES ({marks})", tuple(columns.values()))

    def get_history_item(self, history_item_id: str) -> HistoryRecord | None:
        """One take of the history, or ``None``."""
        rows = self._query(
            f"SELECT {HISTORY_COLUMNS} FROM history WHERE history_item_id = ?", (history_item_id,)
        )
        return HistoryRecord.from_row(rows[0]) if rows else None

    def list_history(
        self,
        page_size: int,
        start_after: str | None = None,
        voice_id: str | None = None,
        search: str | None = None,
        model_id: str | None = None,
        date_before_unix: int | None = None,
        date_after_unix: int | None = None,
    ) -> tuple[list[HistoryRecord], bool]:
        """A page of history, newest first, and whether more items follow.

        Raises
        ------
        KeyError
            When ``start_after`` is not a history item id.
        """
        clauses, params = [], []
        if start_after:
            anchor = self._query(
                "SELECT seq FROM history WHERE history_item_id = ?", (start_after,)
            )
            if not anchor:
                raise KeyError(start_after)
            clauses.append("seq < ?")
            params.append(anchor[0]["seq"])
        if voice_id:
            clauses.append("voice_id = ?")
            params.append(voice_id)
        if model_id:
            clauses.append("model_id = ?")
            params.append(model_id)
        if search:
            clauses.append("(text LIKE ? ESCAPE '\\' OR voice_name LIKE ? ESCAPE '\\')")
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params += [pattern + "%", pattern + "%"]
        if date_before_unix is not None:
            clauses.append("date_unix < ?")
            params.append(date_before_unix)
        if date_after_unix is not None:
            clauses.append("date_unix >= ?")
            params.append(date_after_unix)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._query(
            f"SELECT {HISTORY_COLUMNS} FROM history {where} ORDER BY seq DESC LIMIT ?",
            [*params, page_size + 1],
        )
        items = [HistoryRecord.from_row(row) for row in rows[:page_size]]
        return items, len(rows) > page_size

    def history_audio_files(self, history_item_ids: list[str]) -> dict[str, str]:
        """``{history_item_id: audio file name}`` of those ids that exist.

        Reads only these two columns: a download of many items does not load their texts and
        alignments.
        """
        found: dict[str, str] = {}
        for start in range(0, len(history_item_ids), _IDS_PER_QUERY):
            batch = history_item_ids[start : start + _IDS_PER_QUERY]
            marks = ", ".join("?" for _ in batch)
            rows = self._query(
                f"SELECT history_item_id, audio_file FROM history "
                f"WHERE history_item_id IN ({marks})",
                batch,
            )
            found.update((row["history_item_id"], row["audio_file"]) for row in rows)
        return found

    def count_history(self) -> int:
        """How many history items there are."""
        count: int = self._query("SELECT COUNT(*) AS n FROM history")[0]["n"]
        return count

    def history_audio_path(self, item: HistoryRecord) -> Path:
        """Absolute path of a history item's audio file."""
        return self.audio_dir / item.audio_file

    def delete_history_item(self, history_item_id: str) -> bool:
        """Delete a history row and its audio file."""
        item = self.get_history_item(history_item_id)
        if item is None:
            return False
        self._execute("DELETE FROM history WHERE history_item_id = ?", (history_item_id,))
        self.history_audio_path(item).unlink(missing_ok=True)
        return True

    # -- start-up repair -----------------------------------------------------------------

    def remove_orphans(self) -> tuple[int, int]:
        """Delete audio files no row points at, and rows whose audio file is missing.

        Returns
        -------
        tuple of int
            ``(files_removed, rows_removed)``.
        """
        referenced = {row["audio_file"] for row in self._query("SELECT audio_file FROM history")}
        files_removed = 0
        for path in self.audio_dir.iterdir():
            if path.name not in referenced:
                path.unlink(missing_ok=True)
                files_removed += 1
        missing = [name for name in referenced if not (self.audio_dir / name).exists()]
        rows_removed = 0
        for name in missing:
            rows_removed += self._execute("DELETE FROM history WHERE audio_file = ?", (name,))
        for path in self.previews_dir.glob(".*.tmp"):
            path.unlink(missing_ok=True)
        return files_removed, rows_removed

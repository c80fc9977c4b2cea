"""Opening the till's SQLite database and migrating its schema."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from peewee import SqliteDatabase

from posloyalty.storage import models

logger = logging.getLogger(__name__)

# NOTE: synchronous=FULL makes every commit durable in WAL mode, so a sale that
# was confirmed on screen survives a power cut; NORMAL could lose the last ones.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 10_000,  # ms: a sale waits for a sync batch to commit
    # 2 MiB of page cache per connection (SQLite's default size), so the
    # process's memory does not grow with the number of members.
    "cache_size": -2_000,
}


def _migration_1(db: SqliteDatabase) -> None:
    db.create_tables(models.ALL_MODELS)
    # A member has at most one card that is not blocked.
    db.execute_sql(
        "CREATE UNIQUE INDEX card_one_active_per_member ON card (member_id)"
        " WHERE blocked_at IS NULL"
    )


def _migration_3(db: SqliteDatabase) -> None:
    from posloyalty.storage.staff import create_staff_tables

    create_staff_tables(db)


def _migration_4(db: SqliteDatabase) -> None:
    from posloyalty.storage.sync_state import create_sync_tables

    create_sync_tables(db)


def _migration_5(db: SqliteDatabase) -> None:
    from posloyalty.storage.programme import create_programme_tables

    create_programme_tables(db)


def _migration_7(db: SqliteDatabase) -> None:
    from posloyalty.storage.profile_sync import create_profile_sync

    create_profile_sync(db)


# Each migration runs once, in order, inside its own transaction. Append new
# ones at the end and never edit one that has shipped.
MIGRATIONS: list[tuple[int, Callable[[SqliteDatabase], None]]] = [
    (1, _migration_1),
    (3, _migration_3),
    (4, _migration_4),
    (5, _migration_5),
    (7, _migration_7),
]


def open_database(path: Path) -> SqliteDatabase:
    """Open (creating if needed) the SQLite file at ``path`` and migrate it.

    Every write transaction starts with ``BEGIN IMMEDIATE``, so a writer takes
    the lock up front and waits for the busy timeout instead of failing with
    "database is locked" when it would have to upgrade a read lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(
        str(path),
        pragmas=SQLITE_PRAGMAS,
        lock_type="IMMEDIATE",
        timeout=10,
    )
    models.database_proxy.initialize(db)
    db.connect(reuse_if_open=True)
    migrate(db)
    return db


def migrate(db: SqliteDatabase) -> None:
    """Apply every migration newer than the database's schema version."""
    with db.atomic():
        db.create_tables([models.SchemaVersion])
        applied = {row.version for row in models.SchemaVersion.select()}
    for version, step in MIGRATIONS:
        if version in applied:
            continue
        logger.info("applying schema migration %d to %s", version, db.database)
        with db.atomic():
            step(db)
            models.SchemaVersion.create(version=version, applied_at=datetime.now(UTC))

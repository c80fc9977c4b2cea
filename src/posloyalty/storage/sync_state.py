"""The till's sync bookkeeping: cursor, last sync, failures; one text value per key."""

from __future__ import annotations

from peewee import Database, SqliteDatabase


def create_sync_tables(db: SqliteDatabase) -> None:
    """Create ``sync_state`` and record which till last edited each member.

    ``member.updated_by`` is the head office's id of the till whose edit the
    profile is; NULL means this till. The later ``updated_at`` wins when tills
    sync, and this id breaks ties.
    """
    db.execute_sql(
        "CREATE TABLE sync_state (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)"
    )
    db.execute_sql("ALTER TABLE member ADD COLUMN updated_by INTEGER")


def read_state(db: Database) -> dict[str, str]:
    """Return every sync state value, by key."""
    return dict(db.execute_sql("SELECT key, value FROM sync_state").fetchall())


def write_state(db: Database, values: dict[str, str | None]) -> None:
    """Set sync state values inside the caller's transaction; None removes a key."""
    for key, value in values.items():
        if value is None:
            db.execute_sql("DELETE FROM sync_state WHERE key = ?", (key,))
        else:
            db.execute_sql(
                "INSERT INTO sync_state (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

"""Queueing member programme details (``member_profile``) for the head office.

Triggers queue a profile in the outbox whenever a row is written, so every
service that edits a profile (birthday, referrer, leaderboard consent,
household, a paid referral) is sent without knowing about sync. A profile
pulled from the head office is written by the sync, which then removes the
item the trigger queued unless this till's own edit is still waiting.
"""

from __future__ import annotations

from peewee import SqliteDatabase

# Stored UTC text, as UTCDateTimeField writes it: microseconds from milliseconds.
_NOW_TEXT = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"


def create_profile_sync(db: SqliteDatabase) -> None:
    """Add ``member_profile.updated_by`` and the outbox triggers (schema migration 7).

    ``updated_by`` is the head office's id of the till whose edit the profile
    is; NULL means this till, as for ``member.updated_by``. Profiles that exist
    already are queued once.
    """
    db.execute_sql("ALTER TABLE member_profile ADD COLUMN updated_by INTEGER")
    for event in ("INSERT", "UPDATE"):
        db.execute_sql(
            f"CREATE TRIGGER member_profile_queue_{event.lower()} AFTER {event}"
            " ON member_profile BEGIN INSERT OR IGNORE INTO outbox_item"
            " (kind, object_id, queued_at) VALUES"
            f" ('profile', NEW.member_id, {_NOW_TEXT}); END"
        )
    db.execute_sql(
        "INSERT OR IGNORE INTO outbox_item (kind, object_id, queued_at)"
        f" SELECT 'profile', member_id, {_NOW_TEXT} FROM member_profile"
    )

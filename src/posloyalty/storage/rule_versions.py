"""Rule version numbers at the till: its own ones, and those from the head office."""

from __future__ import annotations

from peewee import Database

from posloyalty.domain.rule_versions import HEAD_OFFICE_FIRST_VERSION


def next_local_version(db: Database) -> int:
    """Return the number for a rule version made at this till.

    Local numbers stay below ``HEAD_OFFICE_FIRST_VERSION``, so a till that holds
    head office versions keeps numbering its own after its last own one.
    """
    row = db.execute_sql(
        "SELECT MAX(version) FROM rule_version WHERE version < ?",
        (HEAD_OFFICE_FIRST_VERSION,),
    ).fetchone()
    return int(row[0] or 0) + 1


def last_head_office_version(db: Database) -> int:
    """Return the highest head office rule version this till holds, or 0."""
    row = db.execute_sql(
        "SELECT MAX(version) FROM rule_version WHERE version >= ?",
        (HEAD_OFFICE_FIRST_VERSION,),
    ).fetchone()
    return int(row[0] or 0)

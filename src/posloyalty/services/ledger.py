"""Appending to the ledger and the audit trail, and checking both.

NOTE: these functions must run inside the caller's transaction, so an entry, the
cached balance, the audit row and the outbox item commit together or not at all.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from posloyalty.domain.chain import entry_hash, ledger_entry_fields
from posloyalty.domain.points import MAX_BALANCE_POINTS, MAX_ENTRY_POINTS
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError
from posloyalty.storage import models

_LAST_ENTRY_HASH_SQL = (
    "SELECT chain_hash FROM ledger_entry WHERE store = ? AND till = ?"
    " ORDER BY rowid DESC LIMIT 1"
)
_ADD_TO_BALANCE_SQL = (
    "UPDATE member SET balance = balance + ? WHERE id = ? RETURNING balance"
)
_INSERT_ENTRY_SQL = (
    "INSERT INTO ledger_entry (id, member_id, kind, points, sale_id, store, till,"
    " staff, reason, reverses_id, rule_version, created_at, prev_hash, chain_hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_QUEUE_OUTBOX_SQL = (
    "INSERT OR IGNORE INTO outbox_item (kind, object_id, queued_at) VALUES (?, ?, ?)"
)

ENTRY_KINDS = ("earn", "redeem", "adjust", "reverse", "expire", "bonus")


def append_entry(
    ctx: TillContext,
    member_id: str,
    kind: str,
    points: int,
    *,
    sale_id: str | None = None,
    staff: str | None = None,
    reason: str | None = None,
    reverses: str | None = None,
    rule_version: int | None = None,
) -> str:
    """Write one ledger entry, add its points to the cached balance, queue it for sync.

    Returns:
        The new entry's UUID.

    Raises:
        InvalidInputError: ``points`` is beyond ``MAX_ENTRY_POINTS`` either way,
            or the balance would pass ``MAX_BALANCE_POINTS``; the caller's
            transaction then rolls back.
    """
    if kind not in ENTRY_KINDS:
        raise ValueError(f"unknown ledger entry kind {kind!r}")
    if abs(points) > MAX_ENTRY_POINTS:
        raise InvalidInputError(
            f"invalid points {points:+d}: one ledger entry is at most"
            f" {MAX_ENTRY_POINTS} points either way; check the number"
        )
    db = ctx.db
    store, till = ctx.settings.store, ctx.settings.till
    entry_id = str(uuid.uuid4())
    created_at = models.LedgerEntry.created_at.db_value(ctx.now())

    row = db.execute_sql(_LAST_ENTRY_HASH_SQL, (store, till)).fetchone()
    prev_hash = row[0] if row else None
    fields = ledger_entry_fields(
        entry_id,
        member_id,
        kind,
        points,
        sale_id,
        store,
        till,
        staff,
        reason,
        reverses,
        created_at,
    )
    chain_hash = entry_hash(prev_hash, fields)

    db.execute_sql(
        _INSERT_ENTRY_SQL,
        (
            entry_id,
            member_id,
            kind,
            points,
            sale_id,
            store,
            till,
            staff,
            reason,
            reverses,
            rule_version,
            created_at,
            prev_hash,
            chain_hash,
        ),
    )
    balance_row = db.execute_sql(_ADD_TO_BALANCE_SQL, (points, member_id)).fetchone()
    if balance_row is not None and abs(balance_row[0]) > MAX_BALANCE_POINTS:
        raise InvalidInputError(
            f"invalid points {points:+d}: the balance of member {member_id} would be"
            f" {balance_row[0]}, beyond the limit of {MAX_BALANCE_POINTS} points"
        )
    db.execute_sql(_QUEUE_OUTBOX_SQL, ("entry", entry_id, created_at))
    return entry_id


def queue_for_sync(ctx: TillContext, kind: str, object_id: str) -> None:
    """Queue a sale or member for the head office, inside the caller's transaction."""
    created_at = models.OutboxItem.queued_at.db_value(ctx.now())
    ctx.db.execute_sql(_QUEUE_OUTBOX_SQL, (kind, object_id, created_at))


def append_audit(
    ctx: TillContext,
    action: str,
    *,
    staff: str | None = None,
    member_id: str | None = None,
    sale_id: str | None = None,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Write one chained audit row. Never pass a PIN, token or card secret in it."""
    db = ctx.db
    store, till = ctx.settings.store, ctx.settings.till
    created_at = models.AuditEntry.created_at.db_value(ctx.now())
    details_json = json.dumps(details, sort_keys=True) if details else None
    row = db.execute_sql(
        "SELECT chain_hash FROM audit_entry ORDER BY id DESC LIMIT 1"
    ).fetchone()
    prev_hash = row[0] if row else None
    fields = [
        created_at,
        store,
        till,
        staff or "",
        action,
        member_id or "",
        sale_id or "",
        reason or "",
        details_json or "",
    ]
    db.execute_sql(
        "INSERT INTO audit_entry (created_at, store, till, staff, action, member_id,"
        " sale_id, reason, details, prev_hash, chain_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            *fields[:3],
            staff,
            action,
            member_id,
            sale_id,
            reason,
            details_json,
            prev_hash,
            entry_hash(prev_hash, fields),
        ),
    )


@dataclass
class VerifyReport:
    """What ``verify`` found: members whose cached balance is wrong, broken chains."""

    balance_mismatches: list[tuple[str, int, int]] = field(default_factory=list)
    broken_ledger_chains: list[str] = field(default_factory=list)
    broken_audit_row: int | None = None

    @property
    def ok(self) -> bool:
        return not (
            self.balance_mismatches
            or self.broken_ledger_chains
            or self.broken_audit_row is not None
        )


def verify(ctx: TillContext) -> VerifyReport:
    """Check cached balances against the ledger and every hash chain.

    Returns:
        Mismatches as (member id, cached balance, ledger sum); for each till whose
        chain breaks, a line naming the first entry that breaks it; and the id of
        the first audit row that breaks the audit chain.
    """
    report = VerifyReport()
    db = ctx.db
    with db.atomic("DEFERRED"):
        rows = db.execute_sql(
            "SELECT m.id, m.balance, COALESCE(SUM(e.points), 0) FROM member m"
            " LEFT JOIN ledger_entry e ON e.member_id = m.id"
            " GROUP BY m.id HAVING m.balance != COALESCE(SUM(e.points), 0)"
        ).fetchall()
        report.balance_mismatches = [(r[0], r[1], r[2]) for r in rows]
        report.broken_ledger_chains = _check_ledger_chains(ctx)
        report.broken_audit_row = _check_audit_chain(ctx)
    return report


def _check_ledger_chains(ctx: TillContext) -> list[str]:
    last_hash: dict[tuple[str, str], str | None] = {}
    broken: dict[tuple[str, str], str] = {}
    cursor = ctx.db.execute_sql(
        "SELECT id, member_id, kind, points, sale_id, store, till, staff, reason,"
        " reverses_id, created_at, prev_hash, chain_hash FROM ledger_entry"
        " ORDER BY rowid"
    )
    for row in cursor:
        (entry_id, member_id, kind, points, sale_id, store, till, staff, reason,
         reverses, created_at, prev_hash, chain_hash) = row  # fmt: skip
        key = (store, till)
        if key in broken:
            continue
        fields = ledger_entry_fields(
            entry_id,
            member_id,
            kind,
            points,
            sale_id,
            store,
            till,
            staff,
            reason,
            reverses,
            created_at,
        )
        expected_prev = last_hash.get(key)
        if prev_hash != expected_prev or chain_hash != entry_hash(prev_hash, fields):
            broken[key] = f"ledger chain of {store} / {till} breaks at entry {entry_id}"
            continue
        last_hash[key] = chain_hash
    return list(broken.values())


def _check_audit_chain(ctx: TillContext) -> int | None:
    prev: str | None = None
    cursor = ctx.db.execute_sql(
        "SELECT id, created_at, store, till, staff, action, member_id, sale_id,"
        " reason, details, prev_hash, chain_hash FROM audit_entry ORDER BY id"
    )
    for row in cursor:
        row_id, created_at, store, till, staff, action, member_id, sale_id = row[:8]
        reason, details, prev_hash, chain_hash = row[8:]
        fields = [
            created_at,
            store,
            till,
            staff or "",
            action,
            member_id or "",
            sale_id or "",
            reason or "",
            details or "",
        ]
        if prev_hash != prev or chain_hash != entry_hash(prev_hash, fields):
            return int(row_id)
        prev = chain_hash
    return None


def parse_time(value: str) -> datetime:
    """Read a stored UTC time column back as an aware datetime."""
    result = models.LedgerEntry.created_at.python_value(value)
    assert result is not None
    return result

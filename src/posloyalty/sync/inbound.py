"""Storing one pulled page at the till: members, cards, sales, then entries.

A page is stored in one transaction together with the new cursor, so a crash
either keeps the whole page and its cursor or neither, and the cached balances
always equal the sum of the ledger.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from posloyalty.services.context import TillContext
from posloyalty.storage.sync_state import write_state
from posloyalty.sync.protocol import (
    ENTRY_COLUMNS,
    MEMBER_FIELDS,
    PROFILE_FIELDS,
    SALE_COLUMNS,
)

logger = logging.getLogger(__name__)

_E = {name: i for i, name in enumerate(ENTRY_COLUMNS)}

_INSERT_MEMBER = (
    "INSERT INTO member (id, external_id, phone, name, name_key, email,"
    " consent_email, consent_sms, is_demo, balance, created_at, updated_at,"
    " updated_by, erased_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)"
)
_UPDATE_MEMBER = (
    "UPDATE member SET external_id = ?, phone = ?, name = ?, name_key = ?,"
    " email = ?, consent_email = ?, consent_sms = ?, is_demo = ?, updated_at = ?,"
    " updated_by = ?, erased_at = ? WHERE id = ?"
)
_INSERT_SALE = (
    "INSERT OR IGNORE INTO sale ("
    + ", ".join(SALE_COLUMNS)
    + ") VALUES ("
    + ", ".join("?" for _ in SALE_COLUMNS)
    + ")"
)
_INSERT_ENTRY = (
    "INSERT INTO ledger_entry ("
    + ", ".join(ENTRY_COLUMNS)
    + ") VALUES ("
    + ", ".join("?" for _ in ENTRY_COLUMNS)
    + ")"
)


class InboundError(Exception):
    """A pulled page cannot be stored; nothing of it was kept."""


@dataclass
class InboundResult:
    """What one pulled page changed at the till."""

    entries: int = 0
    sales: int = 0
    members_added: int = 0
    members_updated: int = 0
    profiles_updated: int = 0


def _is_newer(remote: dict, local_updated_at: str, local_by: int) -> bool:
    """Tell whether a pulled profile wins: later time, then the higher till id."""
    remote_by = remote.get("updated_by")
    remote_key = (remote["updated_at"], -1 if remote_by is None else remote_by)
    return remote_key > (local_updated_at, local_by)


def _profile_values(record: dict) -> tuple:
    """Return a pulled member's profile columns, in the order both statements use."""
    return (
        record["external_id"],
        record["phone"],
        record["name"] or "",
        record["name_key"] or "",
        record["email"],
        bool(record["consent_email"]),
        bool(record["consent_sms"]),
        bool(record["is_demo"]),
    )


def _store_members(
    ctx: TillContext, members: list[dict], own_till_id: int, result: InboundResult
) -> None:
    db = ctx.db
    for member in members:
        values = [member.get(name) for name in MEMBER_FIELDS]
        record = dict(zip(MEMBER_FIELDS, values, strict=True))
        local = db.execute_sql(
            "SELECT m.updated_at, m.updated_by, EXISTS (SELECT 1 FROM outbox_item o"
            " WHERE o.kind = 'member' AND o.object_id = m.id) FROM member m"
            " WHERE m.id = ?",
            (record["id"],),
        ).fetchone()
        if local is None:
            db.execute_sql(
                _INSERT_MEMBER,
                (
                    record["id"],
                    *_profile_values(record),
                    record["created_at"],
                    record["updated_at"],
                    record["updated_by"],
                    record["erased_at"],
                ),
            )
            result.members_added += 1
            continue
        local_updated_at, local_by, is_queued = local
        # A profile edited here and not yet sent is this till's edit.
        by = own_till_id if is_queued or local_by is None else local_by
        if not _is_newer(record, local_updated_at, by):
            continue
        db.execute_sql(
            _UPDATE_MEMBER,
            (
                *_profile_values(record),
                record["updated_at"],
                record["updated_by"],
                record["erased_at"],
                record["id"],
            ),
        )
        result.members_updated += 1


_PROFILE_COLUMNS = ", ".join(PROFILE_FIELDS)
_UPSERT_PROFILE = (
    f"INSERT INTO member_profile ({_PROFILE_COLUMNS}) VALUES"
    f" ({', '.join('?' for _ in PROFILE_FIELDS)}) ON CONFLICT (member_id) DO UPDATE"
    " SET " + ", ".join(f"{c} = excluded.{c}" for c in PROFILE_FIELDS[1:])
)


def _store_profiles(
    ctx: TillContext, profiles: list[dict], own_till_id: int, result: InboundResult
) -> None:
    """Store pulled member profiles that win over this till's; see ``_is_newer``.

    A referral paid at either till stays paid. The outbox item that the table's
    trigger queues for a pulled profile is removed, unless this till's own
    edit is still waiting and won.
    """
    db = ctx.db
    for profile in profiles:
        record = {name: profile.get(name) for name in PROFILE_FIELDS}
        member_id = record["member_id"]
        local = db.execute_sql(
            "SELECT p.updated_at, p.updated_by, p.referral_paid, EXISTS (SELECT 1"
            " FROM outbox_item o WHERE o.kind = 'profile' AND o.object_id ="
            " p.member_id) FROM member_profile p WHERE p.member_id = ?",
            (member_id,),
        ).fetchone()
        if local is None:
            is_newer, is_queued, local_paid = True, False, False
        else:
            local_updated_at, local_by, local_paid, is_queued = local
            # A profile edited here and not yet sent is this till's edit.
            by = own_till_id if is_queued or local_by is None else local_by
            is_newer = _is_newer(record, local_updated_at, by)
        paid = bool(record["referral_paid"]) or bool(local_paid)
        if is_newer:
            record["referral_paid"] = paid
            record["leaderboard_opt_in"] = bool(record["leaderboard_opt_in"])
            db.execute_sql(
                _UPSERT_PROFILE, tuple(record[name] for name in PROFILE_FIELDS)
            )
            result.profiles_updated += 1
        elif paid and not local_paid:
            db.execute_sql(
                "UPDATE member_profile SET referral_paid = 1 WHERE member_id = ?",
                (member_id,),
            )
        else:
            continue
        if is_newer or not is_queued:
            db.execute_sql(
                "DELETE FROM outbox_item WHERE kind = 'profile' AND object_id = ?",
                (member_id,),
            )


def _store_cards(ctx: TillContext, cards: list[dict]) -> None:
    db = ctx.db
    # Blocks first, so a replacement card never meets an old card still active.
    for card in cards:
        if card.get("blocked_at"):
            db.execute_sql(
                "UPDATE card SET blocked_at = ? WHERE number = ? AND blocked_at IS NULL",
                (card["blocked_at"], card["number"]),
            )
    for card in cards:
        cursor = db.execute_sql(
            "INSERT OR IGNORE INTO card (number, member_id, issued_at, blocked_at)"
            " VALUES (?, ?, ?, ?)",
            (
                card["number"],
                card["member_id"],
                card["issued_at"],
                card.get("blocked_at"),
            ),
        )
        if (
            cursor.rowcount == 0
            and not db.execute_sql(
                "SELECT 1 FROM card WHERE number = ?", (card["number"],)
            ).fetchone()
        ):
            # TODO(sync): two tills gave one member active cards at the same
            # time; the later card is not stored here until the other is blocked.
            logger.warning(
                "card ending %s of member %s not stored: the member has another"
                " active card at this till",
                card["number"][-4:],
                card["member_id"],
            )


def _store_sales(ctx: TillContext, sales: list[list]) -> int:
    db = ctx.db
    stored = 0
    for row in sales:
        cursor = db.execute_sql(_INSERT_SALE, tuple(row))
        if cursor.rowcount:
            stored += 1
            continue
        if not db.execute_sql("SELECT 1 FROM sale WHERE id = ?", (row[0],)).fetchone():
            raise InboundError(
                f"sale {row[0]} from {row[8]} / {row[9]} has the same invoice"
                f" {row[2]!r} of {row[1]!r} as a sale recorded at this till: the"
                " journal was imported at two tills, so remove one import at head"
                " office before syncing again"
            )
    return stored


def _store_entries(ctx: TillContext, entries: list[list]) -> int:
    db = ctx.db
    ids = [row[0] for row in entries]
    existing = {
        r[0]
        for r in db.execute_sql(
            "SELECT id FROM ledger_entry WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        )
    }
    totals: dict[str, int] = {}
    fresh = []
    for row in entries:
        if row[0] in existing:
            continue
        existing.add(row[0])
        fresh.append(tuple(row))
        member_id = row[_E["member_id"]]
        totals[member_id] = totals.get(member_id, 0) + row[_E["points"]]
    if fresh:
        db.cursor().executemany(_INSERT_ENTRY, fresh)
        db.cursor().executemany(
            "UPDATE member SET balance = balance + ? WHERE id = ?",
            [(total, member_id) for member_id, total in totals.items()],
        )
    return len(fresh)


def store_page(ctx: TillContext, page: dict, own_till_id: int) -> InboundResult:
    """Store a pulled page and its cursor in one transaction.

    Entries keep their own ids, till names and chain hashes; an entry the till
    holds already is skipped, and the cached balances change by the new ones.

    Raises:
        InboundError: a sale clashes with one recorded here; nothing is stored.
    """
    result = InboundResult()
    with ctx.db.atomic():
        _store_members(ctx, page.get("members") or [], own_till_id, result)
        _store_profiles(ctx, page.get("profiles") or [], own_till_id, result)
        _store_cards(ctx, page.get("cards") or [])
        result.sales = _store_sales(ctx, page.get("sales") or [])
        result.entries = _store_entries(ctx, page.get("entries") or [])
        write_state(ctx.db, {"pull_cursor": str(int(page["cursor"]))})
    return result

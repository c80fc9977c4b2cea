"""A demo programme of invented members, so a new till shows something at once.

Demo members carry ``is_demo=True``. ``remove_demo`` deletes them with their
cards, sales, ledger entries, print jobs and queued sync items in one
transaction. Audit rows about them stay, because the audit chain must not
break, and the removal itself is audited.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from posloyalty.services.context import TillContext
from posloyalty.services.errors import RejectedError
from posloyalty.services.ledger import append_audit
from posloyalty.services.members import NewMember, insert_member, validate_new_member
from posloyalty.services.sales import SaleRequest, record_sale

logger = logging.getLogger(__name__)

DEFAULT_MEMBER_COUNT = 300

_FIRST_NAMES = (
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy",
    "Leo", "Freya", "Oscar", "Lily", "Harry", "Rosie", "Jack", "Sofia", "Finley",
    "Grace", "Theo", "Zara", "Jürgen", "Şule", "Chloé", "Ewan", "Niamh", "Tomasz",
    "Priya", "Kwame", "Aoife",
)  # fmt: skip
_LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas",
    "Patel", "Khan", "Walker", "Wright", "Robinson", "Thompson", "Hughes", "Weiß",
    "Işıkgöz", "Murphy", "Kowalski", "Mensah", "O'Brien", "Davies", "Clarke",
    "Lewis", "Hall",
)  # fmt: skip

# Ofcom keeps +44 7700 900000 to 900999 for drama, so no real person has these.
_DEMO_PHONE_PREFIX = "+447700900"

_MEMBER_ROWS_SQL = "SELECT id FROM member WHERE is_demo = 1"
_COUNT_MEMBERS_SQL = "SELECT COUNT(*) FROM member"


@dataclass(frozen=True)
class DemoSummary:
    """What adding or removing the demo programme changed."""

    members: int
    sales: int
    entries: int


def has_members(ctx: TillContext) -> bool:
    """Tell whether the till has any member, demo or real."""
    return bool(ctx.db.execute_sql(_COUNT_MEMBERS_SQL).fetchone()[0])


def add_demo_members(
    ctx: TillContext, count: int = DEFAULT_MEMBER_COUNT, seed: int = 7
) -> DemoSummary:
    """Fill an empty till with invented members and a few past sales; one transaction.

    Every fifteenth member shares the phone of the member before, as a
    household does. Phones come from the +44 7700 900xxx range, which is
    reserved for drama and reads the same at a till in any region.

    Args:
        count: members to invent, 1 to 1000 (the size of the phone range).
        seed: seed of the random names and sales, so two runs add the same data.

    Raises:
        RejectedError: the till already has members; nothing is added.
        ValueError: ``count`` is outside 1 to 1000.
    """
    if not 1 <= count <= 1000:
        raise ValueError(f"invalid demo member count {count}: use 1 to 1000")
    rng = random.Random(seed)
    now = ctx.now()
    sales = entries = 0
    with ctx.db.atomic():
        if has_members(ctx):
            raise RejectedError(
                "the till already has members, so no demo members were added: use"
                " an empty data folder for the demo"
            )
        phone_number = 0
        for index in range(count):
            if index % 15 != 14:
                phone_number = index
            name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
            new = NewMember(
                name=name,
                phone=f"{_DEMO_PHONE_PREFIX}{phone_number:03d}",
                email=f"demo{index:03d}@example.com",
                consent_email=rng.random() < 0.5,
                consent_sms=rng.random() < 0.3,
                is_demo=True,
            )
            member = insert_member(ctx, validate_new_member(ctx, new))
            append_audit(ctx, "enrol", member_id=member.id, reason="demo")
            for _visit in range(rng.randrange(0, 4)):
                amount = rng.randrange(150, 8000)
                days_ago = rng.randrange(1, 90)
                result = record_sale(
                    ctx,
                    SaleRequest(
                        member.id,
                        amount,
                        occurred_at=now - timedelta(days=days_ago),
                    ),
                )
                sales += 1
                entries += 1 if result.points_earned else 0
    logger.info("added %d demo members with %d sales", count, sales)
    return DemoSummary(count, sales, entries)


def _demo_ids(ctx: TillContext, sql: str, params: tuple = ()) -> list[str]:
    return [row[0] for row in ctx.db.execute_sql(sql, params)]


def _check_chains_allow_removal(ctx: TillContext) -> None:
    # Entries are chained per store and till in rowid order. Removing demo
    # entries is safe only when no entry of a real member follows them in the
    # same chain, because that entry's prev_hash names a removed one.
    row = ctx.db.execute_sql(
        "SELECT later.store, later.till FROM ledger_entry later"
        " JOIN member m ON m.id = later.member_id AND m.is_demo = 0"
        " WHERE later.rowid > (SELECT MIN(d.rowid) FROM ledger_entry d"
        "  JOIN member dm ON dm.id = d.member_id AND dm.is_demo = 1"
        "  WHERE d.store = later.store AND d.till = later.till)"
        " LIMIT 1"
    ).fetchone()
    if row is not None:
        raise RejectedError(
            f"demo members cannot be removed: real members' points were recorded"
            f" after theirs in the ledger of {row[0]} / {row[1]}, and removing"
            " entries from that hash chain would break it. Keep the demo members,"
            " or start the real programme in a new data folder"
        )


def remove_demo(ctx: TillContext, staff: str | None = None) -> DemoSummary:
    """Delete every demo member and everything recorded for them; one transaction.

    Raises:
        RejectedError: a real member's ledger entry follows a demo entry in the
            same till's hash chain; nothing is removed.
    """
    with ctx.db.atomic():
        member_ids = _demo_ids(ctx, _MEMBER_ROWS_SQL)
        if not member_ids:
            return DemoSummary(0, 0, 0)
        _check_chains_allow_removal(ctx)
        demo_members = "(SELECT id FROM member WHERE is_demo = 1)"
        demo_sales = f"(SELECT id FROM sale WHERE member_id IN {demo_members})"
        demo_entries = (
            f"(SELECT id FROM ledger_entry WHERE member_id IN {demo_members})"
        )
        sales = ctx.db.execute_sql(
            f"SELECT COUNT(*) FROM sale WHERE member_id IN {demo_members}"
        ).fetchone()[0]
        entries = ctx.db.execute_sql(
            f"SELECT COUNT(*) FROM ledger_entry WHERE member_id IN {demo_members}"
        ).fetchone()[0]
        statements = (
            f"DELETE FROM outbox_item WHERE (kind = 'entry' AND object_id IN"
            f" {demo_entries}) OR (kind = 'sale' AND object_id IN {demo_sales})"
            f" OR (kind = 'member' AND object_id IN {demo_members})",
            f"DELETE FROM print_job WHERE member_id IN {demo_members}"
            f" OR sale_id IN {demo_sales}",
            f"DELETE FROM ledger_entry WHERE member_id IN {demo_members}",
            f"DELETE FROM sale WHERE member_id IN {demo_members}",
            f"DELETE FROM card WHERE member_id IN {demo_members}",
            "DELETE FROM member WHERE is_demo = 1",
        )
        for statement in statements:
            ctx.db.execute_sql(statement)
        append_audit(
            ctx,
            "demo_removed",
            staff=staff,
            details={"members": len(member_ids), "sales": sales, "entries": entries},
        )
    logger.info(
        "removed %d demo members, %d sales, %d ledger entries",
        len(member_ids),
        sales,
        entries,
    )
    return DemoSummary(len(member_ids), sales, entries)

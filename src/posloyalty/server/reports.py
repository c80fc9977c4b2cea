"""Head-office reports: balances export, members below zero, and the ledger check."""

from __future__ import annotations

import csv
import logging
from typing import TextIO

from posloyalty.domain.chain import entry_hash, ledger_entry_fields
from posloyalty.server import models

logger = logging.getLogger(__name__)

# The same columns as the till's ``posloyalty export balances``.
BALANCE_COLUMNS = [
    "member_id",
    "external_id",
    "card_number",
    "phone",
    "name",
    "balance",
]


def write_balances_csv(out: TextIO) -> int:
    """Write one row per member with the header ``BALANCE_COLUMNS``; returns the count."""
    db = models.server_proxy.obj
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BALANCE_COLUMNS)
    count = 0
    with db.atomic():
        # The newest card not blocked, as the till shows it.
        cursor = db.execute_sql(
            "SELECT m.id, m.external_id, (SELECT c.number FROM card c"
            " WHERE c.member_id = m.id AND c.blocked_at IS NULL"
            " ORDER BY c.issued_at DESC LIMIT 1), m.phone, m.name, m.balance"
            " FROM member m ORDER BY m.created_at, m.id"
        )
        for row in cursor:
            writer.writerow(["" if value is None else value for value in row])
            count += 1
    return count


def members_below_zero() -> list[tuple]:
    """List members whose balance, and household wallet if any, is below zero.

    Two offline tills may both accept redemptions of the same points, because the
    sales happened; the head office then holds a negative balance for a manager
    to review.

    Returns:
        Rows of (member id, external id, name, phone, balance in whole points).
    """
    db = models.server_proxy.obj
    # A member of a household spends from the shared wallet, so a member below
    # zero is listed only when the wallet (the members' sum) is below zero too.
    return list(
        db.execute_sql(
            "SELECT m.id, m.external_id, m.name, m.phone, m.balance FROM member m"
            " LEFT JOIN member_profile p ON p.member_id = m.id"
            " WHERE m.balance < 0 AND (p.household_id IS NULL OR"
            " (SELECT SUM(w.balance) FROM member w JOIN member_profile wp"
            " ON wp.member_id = w.id WHERE wp.household_id = p.household_id) < 0)"
            " ORDER BY m.balance, m.id"
        )
    )


def verify() -> list[str]:
    """Check cached balances, every till's hash chain and what entries refer to.

    Returns:
        One line per problem found; empty when the ledger is intact.
    """
    db = models.server_proxy.obj
    problems: list[str] = []
    with db.atomic():
        for member_id, cached, total in db.execute_sql(
            "SELECT m.id, m.balance, COALESCE(SUM(e.points), 0) FROM member m"
            " LEFT JOIN ledger_entry e ON e.member_id = m.id"
            " GROUP BY m.id, m.balance HAVING m.balance <> COALESCE(SUM(e.points), 0)"
        ):
            problems.append(
                f"member {member_id}: cached balance {cached}, ledger sum {total}"
            )
        for (entry_id,) in db.execute_sql(
            "SELECT e.id FROM ledger_entry e LEFT JOIN member m ON m.id = e.member_id"
            " WHERE m.id IS NULL"
        ):
            problems.append(f"entry {entry_id} names a member the server lacks")

        last: dict[tuple[str, str], str | None] = {}
        broken: set[tuple[str, str]] = set()
        cursor = db.execute_sql(
            "SELECT id, member_id, kind, points, sale_id, store, till, staff, reason,"
            " reverses_id, created_at, prev_hash, chain_hash FROM ledger_entry"
            " ORDER BY seq"
        )
        for row in cursor:
            (entry_id, member_id, kind, points, sale_id, store, till, staff, reason,
             reverses, created_at, prev_hash, chain_hash) = row  # fmt: skip
            key = (store, till)
            if key in broken:
                continue
            fields = ledger_entry_fields(
                entry_id, member_id, kind, points, sale_id, store, till, staff,
                reason, reverses, created_at,
            )  # fmt: skip
            if prev_hash != last.get(key) or chain_hash != entry_hash(
                prev_hash, fields
            ):
                broken.add(key)
                problems.append(
                    f"ledger chain of {store} / {till} breaks at entry {entry_id}"
                )
                continue
            last[key] = chain_hash
    if problems:
        logger.warning("verify found %d problems", len(problems))
    return problems

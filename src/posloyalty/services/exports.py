"""Exporting member balances as CSV."""

from __future__ import annotations

import csv
from typing import TextIO

from posloyalty.services.context import TillContext

BALANCE_COLUMNS = [
    "member_id",
    "external_id",
    "card_number",
    "phone",
    "name",
    "balance",
]


def write_balances_csv(ctx: TillContext, out: TextIO) -> int:
    """Write one row per member with the header ``BALANCE_COLUMNS``; returns the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BALANCE_COLUMNS)
    count = 0
    with ctx.db.atomic("DEFERRED"):
        cursor = ctx.db.execute_sql(
            "SELECT m.id, m.external_id, c.number, m.phone, m.name, m.balance"
            " FROM member m LEFT JOIN card c ON c.member_id = m.id"
            " AND c.blocked_at IS NULL ORDER BY m.created_at, m.id"
        )
        for row in cursor:
            writer.writerow(["" if value is None else value for value in row])
            count += 1
    return count

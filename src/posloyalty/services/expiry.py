"""The daily expiry job: points older than the programme allows become ``expire`` entries.

Running it again for the same date expires nothing more, because each
``expire`` entry uses up exactly the oldest lots it expired (see
``domain.expiry``). A household wallet is replayed as one ledger, so points
that one card spent are not expired again on the card that earned them; each
``expire`` entry belongs to the member whose points expire.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from posloyalty.domain.expiry import expiry_date
from posloyalty.services.context import TillContext
from posloyalty.services.ledger import append_audit, append_entry
from posloyalty.services.loyalty import wallet_lots
from posloyalty.services.programme import current_rules

logger = logging.getLogger(__name__)

_HOLDERS_SQL = (
    "SELECT m.id, p.household_id FROM member m"
    " LEFT JOIN member_profile p ON p.member_id = m.id"
    " WHERE m.balance > 0 OR p.household_id IS NOT NULL ORDER BY m.id"
)


@dataclass(frozen=True)
class ExpiryReport:
    """What one run expired: the local date, the members touched and the points."""

    day: date
    months: int
    members: int
    points: int


def run_expiry(ctx: TillContext, day: date | None = None) -> ExpiryReport:
    """Expire, oldest first, the points whose expiry date is ``day`` or earlier.

    Args:
        day: the local calendar date in the shop's time zone; today when omitted.

    Returns:
        The totals; nothing is written when the programme has no expiry.
    """
    rules = current_rules(ctx)
    months = rules.programme.expiry_months
    zone = ctx.settings.timezone
    if day is None:
        day = ctx.now().astimezone(zone).date()
    if months <= 0:
        return ExpiryReport(day, 0, 0, 0)

    touched = total = 0
    with ctx.db.atomic():
        for member_ids in _wallets_to_check(ctx):
            lots, owners = wallet_lots(ctx, member_ids)
            due_by_member: dict[str, int] = {}
            for lot in lots:
                if expiry_date(lot, months, zone) <= day:
                    owner = owners[lot.entry_id]
                    due_by_member[owner] = due_by_member.get(owner, 0) + lot.remaining
            for member_id in sorted(due_by_member):
                due = due_by_member[member_id]
                append_entry(
                    ctx,
                    member_id,
                    "expire",
                    -due,
                    reason=f"expired on {day.isoformat()} after {months} months",
                    rule_version=rules.version,
                )
                touched += 1
                total += due
        if total:
            append_audit(
                ctx,
                "expire",
                details={"day": day.isoformat(), "members": touched, "points": total},
            )
    logger.info("expiry for %s: %d points of %d members", day, total, touched)
    return ExpiryReport(day, months, touched, total)


def _wallets_to_check(ctx: TillContext) -> list[tuple[str, ...]]:
    """List the wallets that may hold points: members above 0, and households."""
    rows = ctx.db.execute_sql(_HOLDERS_SQL).fetchall()
    households: dict[str, list[str]] = {}
    wallets: list[tuple[str, ...]] = []
    for member_id, household_id in rows:
        if household_id is None:
            wallets.append((member_id,))
        else:
            households.setdefault(household_id, []).append(member_id)
    wallets.extend(tuple(ids) for ids in households.values())
    return wallets

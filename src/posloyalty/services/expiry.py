"""The daily expiry job: points older than the programme allows become ``expire`` entries.

Running it again for the same date expires nothing more, because each
``expire`` entry uses up exactly the oldest lots it expired (see
``domain.expiry``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from posloyalty.domain.expiry import points_due
from posloyalty.services.context import TillContext
from posloyalty.services.ledger import append_audit, append_entry
from posloyalty.services.loyalty import member_lots
from posloyalty.services.programme import current_rules

logger = logging.getLogger(__name__)


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
        holders = ctx.db.execute_sql(
            "SELECT id, balance FROM member WHERE balance > 0 ORDER BY id"
        ).fetchall()
        for member_id, balance in holders:
            due = min(
                points_due(member_lots(ctx, member_id), months, zone, day), balance
            )
            if due <= 0:
                continue
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

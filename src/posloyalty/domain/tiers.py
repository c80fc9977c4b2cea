"""Tiers derived from a member's qualifying history over a rolling period.

NOTE: a tier is never stored. It is computed from qualifying events (points
earned, or money spent) read from the ledger, so replaying the same ledger
always gives the same tier. A reversal counts at the time of the entry it
reverses, so reversing a sale gives the tier back as if the sale never was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from posloyalty.domain.periods import add_months
from posloyalty.domain.programme import TierLevel, TierPolicy


@dataclass(frozen=True)
class QualifyingEvent:
    """Points earned (or minor units spent) at one time, net of later reversals."""

    at: datetime
    amount: int


@dataclass(frozen=True)
class TierStatus:
    """A member's tier now and the way to the next one.

    Attributes:
        tier: the tier held, including one kept during the grace period.
        qualifying: points (or minor units) in the rolling window now.
        qualified_tier: the tier the rolling window alone gives.
        next_tier: the tier above the one held, or ``None`` at the top.
        to_next: what is still missing for ``next_tier``.
        grace_until: when a tier kept by grace ends, else ``None``.
    """

    tier: TierLevel | None
    qualifying: int
    qualified_tier: TierLevel | None
    next_tier: TierLevel | None
    to_next: int
    grace_until: datetime | None = None


def window_start(now: datetime, months: int) -> datetime:
    """Return the start (exclusive) of the rolling window that ends at ``now``."""
    day = add_months(now.date(), -months)
    return datetime.combine(day, now.timetz())


def qualifying_total(
    events: Sequence[QualifyingEvent], months: int, now: datetime
) -> int:
    """Sum the events after the window start and up to ``now``."""
    start = window_start(now, months)
    return sum(event.amount for event in events if start < event.at <= now)


def tier_for(levels: Sequence[TierLevel], amount: int) -> TierLevel | None:
    """Return the highest tier whose threshold ``amount`` reaches, or ``None``."""
    reached = None
    for level in levels:
        if amount >= level.threshold:
            reached = level
    return reached


def _rank(levels: Sequence[TierLevel], level: TierLevel | None) -> int:
    return -1 if level is None else list(levels).index(level)


def tier_status(
    policy: TierPolicy, events: Sequence[QualifyingEvent], now: datetime
) -> TierStatus:
    """Compute the tier at ``now`` from the qualifying events.

    A member keeps the highest tier they qualified for at any moment in the
    last ``grace_days`` days. The window total only rises when an event enters
    it, so the moments checked are the start of the grace period and every
    event inside it.
    """
    levels = policy.levels
    months = policy.period_months
    qualifying = qualifying_total(events, months, now)
    qualified = tier_for(levels, qualifying)
    held = qualified
    grace_until = None
    if policy.grace_days and levels:
        since = now - timedelta(days=policy.grace_days)
        moments = [since] + [e.at for e in events if since < e.at <= now]
        reached = [
            (moment, tier_for(levels, qualifying_total(events, months, moment)))
            for moment in moments
        ]
        for _moment, level in reached:
            if _rank(levels, level) > _rank(levels, held):
                held = level
        if held is not None and held != qualified:
            last = max(
                m for m, level in reached if _rank(levels, level) >= _rank(levels, held)
            )
            lost = _lost_at(events, months, last, now, held)
            grace_until = lost + timedelta(days=policy.grace_days)
    rank = _rank(levels, held)
    next_tier = levels[rank + 1] if rank + 1 < len(levels) else None
    to_next = max(next_tier.threshold - qualifying, 0) if next_tier else 0
    return TierStatus(held, qualifying, qualified, next_tier, to_next, grace_until)


def _lost_at(
    events: Sequence[QualifyingEvent],
    months: int,
    since: datetime,
    now: datetime,
    level: TierLevel,
) -> datetime:
    """Find when the window total first fell below ``level`` after ``since``."""
    leaving = sorted(
        leave
        for leave in (
            datetime.combine(add_months(e.at.date(), months), e.at.timetz())
            for e in events
        )
        if since < leave <= now
    )
    for moment in leaving:
        if qualifying_total(events, months, moment) < level.threshold:
            return moment
    return now

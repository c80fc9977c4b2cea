"""Expiry of points, oldest first, from a member's ledger movements.

Every positive entry opens a lot dated by its entry. Negative entries use up
lots: a reversal first uses the lot of the entry it reverses, and everything
else (and the rest) uses the oldest lots first. A negative balance is carried
as debt that later lots pay first, so the open lots always sum to the balance
when it is positive, and to 0 otherwise. Points of a lot expire on the local
calendar date ``expiry_months`` after the lot's entry.

NOTE: an ``expire`` entry uses up the oldest lots, which are exactly the lots
it expired, so running the expiry job again for the same date expires nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from posloyalty.domain.periods import add_months


@dataclass(frozen=True)
class Movement:
    """One ledger entry as expiry sees it."""

    entry_id: str
    at: datetime
    points: int
    reverses: str | None = None


@dataclass
class Lot:
    """Points from one positive entry and how many of them are left."""

    entry_id: str
    at: datetime
    points: int
    remaining: int


def open_lots(movements: Iterable[Movement]) -> list[Lot]:
    """Replay movements (in ledger order) and return the lots with points left."""
    lots: list[Lot] = []
    by_id: dict[str, Lot] = {}
    debt = 0
    for movement in movements:
        if movement.points > 0:
            lot = Lot(movement.entry_id, movement.at, movement.points, movement.points)
            paid = min(debt, lot.remaining)
            lot.remaining -= paid
            debt -= paid
            lots.append(lot)
            by_id[lot.entry_id] = lot
            continue
        need = -movement.points
        target = by_id.get(movement.reverses or "")
        if target is not None:
            taken = min(need, target.remaining)
            target.remaining -= taken
            need -= taken
        for lot in lots:
            if not need:
                break
            taken = min(need, lot.remaining)
            lot.remaining -= taken
            need -= taken
        debt += need
        lots = [lot for lot in lots if lot.remaining > 0]
    return [lot for lot in lots if lot.remaining > 0]


def expiry_date(lot: Lot, months: int, zone: tzinfo) -> date:
    """Return the local calendar date on which a lot's points expire."""
    return add_months(lot.at.astimezone(zone).date(), months)


def points_due(lots: Iterable[Lot], months: int, zone: tzinfo, today: date) -> int:
    """Return the points whose expiry date is ``today`` or earlier (0 if none)."""
    if months <= 0:
        return 0
    return sum(lot.remaining for lot in lots if expiry_date(lot, months, zone) <= today)


def expiring_between(
    lots: Iterable[Lot], months: int, zone: tzinfo, after: date, until: date
) -> list[tuple[date, int]]:
    """Group the points expiring after ``after`` up to ``until`` by expiry date."""
    if months <= 0:
        return []
    totals: dict[date, int] = {}
    for lot in lots:
        day = expiry_date(lot, months, zone)
        if after < day <= until:
            totals[day] = totals.get(day, 0) + lot.remaining
    return sorted(totals.items())

"""Calendar periods in the shop's time zone: months added, periods bounded and named."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """Add calendar months, keeping the day or the month's last day if shorter.

    31 January plus one month is 28 (or 29) February.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def period_bounds(day: date, period: str) -> tuple[date, date]:
    """Return the first day of the period containing ``day`` and the day after it.

    Args:
        day: a local calendar date.
        period: ``day``, ``week`` (Monday to Sunday), ``month`` or ``year``.

    Raises:
        ValueError: ``period`` is none of these.
    """
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        return start, add_months(start, 1)
    if period == "year":
        return date(day.year, 1, 1), date(day.year + 1, 1, 1)
    raise ValueError(f"unknown period {period!r}")


def period_key(day: date, period: str) -> str:
    """Name the period containing ``day``: ``2025-03-29``, ``2025-W13``, ``2025-03``."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "year":
        return str(day.year)
    raise ValueError(f"unknown period {period!r}")

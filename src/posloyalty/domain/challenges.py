"""Challenge progress from a member's visits in one calendar period."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from posloyalty.domain.programme import Challenge


@dataclass(frozen=True)
class Visit:
    """A sale as challenges count it: local date, amount net of returns, products."""

    sale_id: str
    day: date
    amount_minor: int
    skus: frozenset[str] = frozenset()


def challenge_progress(challenge: Challenge, visits: Iterable[Visit]) -> int:
    """Measure progress toward a challenge's goal over the visits of one period.

    A sale returned in full has a net amount of 0 and counts for nothing.
    """
    counted = [visit for visit in visits if visit.amount_minor > 0]
    if challenge.goal == "visits":
        return len(counted)
    if challenge.goal == "spend":
        return sum(visit.amount_minor for visit in counted)
    products: set[str] = set()
    for visit in counted:
        products |= visit.skus
    return len(products)


def leaderboard_name(name: str) -> str:
    """Shorten a member's name to first name and initial: ``Ann Lee`` is ``Ann L.``."""
    parts = name.split()
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."

"""The earning and redemption rules: the one place where money becomes points.

NOTE: every conversion of money to points goes through ``EarningRule.points_for``
and rounds toward zero on the sale's eligible total, never line by line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from posloyalty.domain.errors import RuleError
from posloyalty.domain.money import Currency

# Bounds of one ledger entry and of a balance, in whole points. They are far
# above any real sale: the largest amount earns 10**10 points at one point per
# 1.00. They keep a balance, and the sum of thousands of balances at the limit,
# inside SQLite's 64-bit integers. Beyond those, SQLite turns the result of +
# into a float, and SUM() fails with "integer overflow".
MAX_ENTRY_POINTS = 10**12
MAX_BALANCE_POINTS = 10**15


@dataclass(frozen=True)
class SaleLine:
    """One line of a sale: a stock code and its amount in minor units."""

    sku: str
    amount_minor: int


@dataclass(frozen=True)
class EarningRule:
    """Points per 1.00 of currency, rounded toward zero on the eligible total.

    Attributes:
        earn_rate: points per one major unit of currency (1.00), exact.
        excluded_skus: stock codes that earn nothing (postage, fees).
        minimum_spend_minor: an eligible total below this earns nothing.
        point_value: the money one point is worth when spent, in major units.
    """

    earn_rate: Decimal = Decimal(1)
    excluded_skus: frozenset[str] = field(default_factory=frozenset)
    minimum_spend_minor: int = 0
    point_value: Decimal = Decimal("0.01")

    def __post_init__(self) -> None:
        if self.earn_rate < 0:
            raise RuleError(f"invalid earn rate {self.earn_rate}: use 0 or more")
        if self.minimum_spend_minor < 0:
            raise RuleError("invalid minimum spend: use 0 or more")
        if self.point_value <= 0:
            raise RuleError(f"invalid point value {self.point_value}: use more than 0")

    def is_excluded(self, sku: str) -> bool:
        """Tell whether a stock code earns nothing."""
        return sku.strip().upper() in self.excluded_skus

    def eligible_total(self, lines: Iterable[SaleLine]) -> int:
        """Sum the amounts of lines whose stock code earns points, in minor units."""
        return sum(
            line.amount_minor for line in lines if not self.is_excluded(line.sku)
        )

    def points_for(self, eligible_minor: int, currency: Currency) -> int:
        """Convert an eligible amount to whole points, rounding toward zero.

        A negative amount gives negative points of the same size as the positive
        one would. An amount below the minimum spend earns nothing.
        """
        if abs(eligible_minor) < self.minimum_spend_minor:
            return 0
        exact = Decimal(eligible_minor) * self.earn_rate / currency.minor_per_unit
        return int(exact.to_integral_value(rounding=ROUND_DOWN))

    def points_to_take_back(
        self,
        sale_eligible_minor: int,
        sale_points: int,
        already_returned_minor: int,
        returning_minor: int,
        currency: Currency,
    ) -> int:
        """Points that a return of part of a sale takes back, as a positive number.

        The sale keeps the points that what remains of it would earn, so a
        sequence of partial returns takes back exactly what the sale earned,
        with the same rounding as earning. The result never exceeds what the
        sale earned minus what earlier returns took back.
        """
        remaining_before = sale_eligible_minor - already_returned_minor
        remaining_after = max(remaining_before - returning_minor, 0)
        kept_before = min(self.points_for(remaining_before, currency), sale_points)
        kept_after = min(self.points_for(remaining_after, currency), sale_points)
        return max(kept_before - kept_after, 0)

    def value_of_points(self, points: int, currency: Currency) -> int:
        """The money ``points`` pay for, in minor units, rounded toward zero."""
        exact = Decimal(points) * self.point_value * currency.minor_per_unit
        return int(exact.to_integral_value(rounding=ROUND_DOWN))

    def max_points_for_value(self, minor: int, currency: Currency) -> int:
        """The most whole points whose value does not exceed ``minor`` units."""
        per_point = self.point_value * currency.minor_per_unit
        return int((Decimal(minor) / per_point).to_integral_value(rounding=ROUND_DOWN))


def normalize_skus(text: str) -> frozenset[str]:
    """Parse a comma-separated list of stock codes, case-insensitively."""
    return frozenset(part.strip().upper() for part in text.split(",") if part.strip())

"""The loyalty programme as data, and the pure rules that evaluate it.

A programme document contains everything a manager configures beyond the base
earning rule (``EarningRule``): stock codes and categories excluded or
multiplied, bonus periods, tiers, a birthday bonus, rewards, engagement values,
challenges, expiry and redemption policies. It travels as JSON, and each saved
document is one rule version that ledger entries name.

NOTE: points are rounded once, toward zero, on the weighted eligible total of
a sale, never line by line, exactly as ``EarningRule.points_for`` does. With
every multiplier at 1 the result equals ``points_for`` of the eligible total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_DOWN, Decimal

from posloyalty.domain.errors import RuleError
from posloyalty.domain.money import Currency
from posloyalty.domain.points import EarningRule, SaleLine

PERIODS = ("day", "week", "month", "year")
ENGAGEMENT_KINDS = ("referral", "review", "social_share", "survey")
REWARD_KINDS = ("free_item", "amount_off", "percent_off")
GOAL_KINDS = ("visits", "spend", "distinct_products")
TIER_BASES = ("points", "spend")
# ``paid``: points are earned on the eligible total less the money paid with
# points or a reward; ``before_discount``: on the eligible total as rung up.
EARN_BASES = ("paid", "before_discount")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class BasketLine(SaleLine):
    """A sale line with the optional category and cost price the POS may know.

    Attributes:
        category: the product category, matched case-insensitively.
        cost_minor: what the line cost the shop, in minor units, for earning
            on margin; ``None`` when the journal carries no cost.
    """

    category: str = ""
    cost_minor: int | None = None


@dataclass(frozen=True)
class BonusPeriod:
    """Extra points on given dates, weekdays and hours, in the shop's time zone.

    Attributes:
        name: what the cashier and the receipt call it, such as ``Double days``.
        multiplier: factor on the points, such as 2.
        start_date: first local date it applies, or ``None`` for no start.
        end_date: last local date it applies (inclusive), or ``None``.
        weekdays: local weekdays it applies on (0 is Monday); empty for all.
        start_time: local time of day it starts, or ``None`` for midnight.
        end_time: local time of day it ends (exclusive), or ``None`` for midnight.
    """

    name: str
    multiplier: Decimal
    start_date: date | None = None
    end_date: date | None = None
    weekdays: tuple[int, ...] = ()
    start_time: time | None = None
    end_time: time | None = None

    def applies_at(self, local: datetime) -> bool:
        """Tell whether a sale at ``local`` (the shop's wall-clock time) gets it."""
        day = local.date()
        if self.start_date is not None and day < self.start_date:
            return False
        if self.end_date is not None and day > self.end_date:
            return False
        if self.weekdays and day.weekday() not in self.weekdays:
            return False
        clock = local.time().replace(tzinfo=None)
        if self.start_time is not None and clock < self.start_time:
            return False
        return self.end_time is None or clock < self.end_time


@dataclass(frozen=True)
class TierLevel:
    """A tier reached at ``threshold`` (points, or minor units of spend)."""

    name: str
    threshold: int
    multiplier: Decimal = Decimal(1)


@dataclass(frozen=True)
class TierPolicy:
    """The tier rules: the basis, the rolling period and the grace period.

    Attributes:
        basis: ``points`` (points earned) or ``spend`` (minor units spent).
        period_months: length of the rolling window that qualifies.
        grace_days: days a member keeps a tier after they stop qualifying.
        levels: the tiers from lowest to highest threshold.
    """

    basis: str = "points"
    period_months: int = 12
    grace_days: int = 0
    levels: tuple[TierLevel, ...] = ()


@dataclass(frozen=True)
class Reward:
    """A reward in the catalogue and its limits.

    Attributes:
        code: short upper-case code the cashier types, such as ``COFFEE``.
        name: what the member sees.
        kind: ``free_item``, ``amount_off`` or ``percent_off``.
        points_cost: points the reward costs.
        value_minor: the money off, or the price of the free item, in minor units.
        percent: percentage off the basket for ``percent_off``.
        sku: stock code of the free item.
        cost_minor: what the reward costs the shop in minor units (the free
            item's cost price); ``None`` to value it at ``value_minor``.
        min_tier: tier a member must hold, or ``None``.
        valid_from: first local date it can be redeemed, or ``None``.
        valid_until: last local date it can be redeemed, or ``None``.
    """

    code: str
    name: str
    kind: str
    points_cost: int
    value_minor: int = 0
    percent: Decimal = Decimal(0)
    sku: str = ""
    cost_minor: int | None = None
    min_tier: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None

    def discount_for(self, basket_minor: int) -> int:
        """Return the money this reward takes off a basket, never more than it."""
        if self.kind == "percent_off":
            exact = Decimal(basket_minor) * self.percent / 100
            off = int(exact.to_integral_value(rounding=ROUND_DOWN))
        else:
            off = self.value_minor
        return max(min(off, basket_minor), 0)

    def shop_cost_for(self, basket_minor: int) -> int:
        """Return what redeeming this reward costs the shop, in minor units."""
        if self.cost_minor is not None:
            return self.cost_minor
        return self.discount_for(basket_minor)

    def is_offered_on(self, day: date) -> bool:
        """Tell whether the reward's date limits allow it on local date ``day``."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until


@dataclass(frozen=True)
class EngagementValue:
    """Points for an engagement event, capped per member per period (0: no cap)."""

    kind: str
    points: int
    cap: int = 0
    period: str = "month"


@dataclass(frozen=True)
class Challenge:
    """A goal over a calendar period and the bonus paid once when it is reached.

    Attributes:
        code: short upper-case code.
        name: what the member sees, such as ``Five visits in a month``.
        goal: ``visits``, ``spend`` (minor units) or ``distinct_products``.
        target: the number of visits, the amount or the number of products.
        period: ``day``, ``week``, ``month`` or ``year`` in the shop's time zone.
        bonus: points paid when the goal is reached.
    """

    code: str
    name: str
    goal: str
    target: int
    period: str
    bonus: int


@dataclass(frozen=True)
class RedemptionPolicy:
    """Limits on spending points.

    Attributes:
        minimum_balance: points a member must hold before redeeming anything.
        max_basket_share: largest percentage of a basket that points may pay.
    """

    minimum_balance: int = 0
    max_basket_share: Decimal = Decimal(100)


@dataclass(frozen=True)
class EconomicsPolicy:
    """The typical basket and the warning thresholds of ``rules economics``.

    Attributes:
        typical_basket_minor: basket the effective reward rate is computed for.
        low_rate: value given back per 100.00 spent below which members are
            unlikely to care, in major units.
        high_rate: value given back per 100.00 above which the programme costs
            more than a typical shop margin allows, in major units.
    """

    typical_basket_minor: int = 2500
    low_rate: Decimal = Decimal("0.50")
    high_rate: Decimal = Decimal("5.00")


@dataclass(frozen=True)
class EarningOptions:
    """Earning beyond the base rate.

    Attributes:
        excluded_categories: categories that earn nothing (upper case).
        sku_multipliers: factor on the points of a stock code (upper case).
        category_multipliers: factor on the points of a category; a stock code's
            own multiplier wins over its category's.
        basis: ``paid`` or ``before_discount`` (see ``EARN_BASES``).
        on_margin: earn on price minus cost where a line carries its cost.
        birthday_bonus: points paid at the first sale in the birthday month.
        pending_days: days earned points stay pending (not spendable) so a
            return within the window takes back points never spent; 0 for none.
    """

    excluded_categories: frozenset[str] = frozenset()
    sku_multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    category_multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    basis: str = "paid"
    on_margin: bool = False
    birthday_bonus: int = 0
    pending_days: int = 0


@dataclass(frozen=True)
class Programme:
    """Everything a manager configures beyond the base earning rule.

    ``expiry_months`` is 0 when points never expire.
    """

    earning: EarningOptions = field(default_factory=EarningOptions)
    bonus_periods: tuple[BonusPeriod, ...] = ()
    tiers: TierPolicy = field(default_factory=TierPolicy)
    rewards: tuple[Reward, ...] = ()
    engagement: tuple[EngagementValue, ...] = ()
    challenges: tuple[Challenge, ...] = ()
    expiry_months: int = 0
    redemption: RedemptionPolicy = field(default_factory=RedemptionPolicy)
    economics: EconomicsPolicy = field(default_factory=EconomicsPolicy)

    def reward(self, code: str) -> Reward:
        """Find a reward by code, case-insensitively.

        Raises:
            RuleError: no reward has this code.
        """
        wanted = code.strip().upper()
        for reward in self.rewards:
            if reward.code == wanted:
                return reward
        known = ", ".join(r.code for r in self.rewards) or "none yet"
        raise RuleError(f"unknown reward {code!r}: the catalogue has {known}")

    def tier(self, name: str | None) -> TierLevel | None:
        """Find a tier by name, case-insensitively; ``None`` for no name."""
        if name is None:
            return None
        for level in self.tiers.levels:
            if level.name.casefold() == name.casefold():
                return level
        return None

    def engagement_value(self, kind: str) -> EngagementValue | None:
        """Return the configured value of an engagement kind, or ``None``."""
        for value in self.engagement:
            if value.kind == kind:
                return value
        return None


# --- Earning ---------------------------------------------------------------


@dataclass(frozen=True)
class LineEarning:
    """One line's contribution: its basis amount and multiplier, or its exclusion."""

    sku: str
    category: str
    amount_minor: int
    basis_minor: int
    multiplier: Decimal
    excluded_by: str | None = None


@dataclass(frozen=True)
class EarningContext:
    """The facts besides the basket that decide the points of a sale.

    Attributes:
        local_time: when the sale happened, on the shop's wall clock.
        tier: the member's tier before the sale, or ``None``.
        discount_minor: money paid with points or taken off by a reward.
        birthday_bonus_due: the sale pays the birthday bonus.
    """

    local_time: datetime
    tier: TierLevel | None = None
    discount_minor: int = 0
    birthday_bonus_due: bool = False


@dataclass(frozen=True)
class Earning:
    """The points of one sale and every step that made them.

    Attributes:
        lines: each line's contribution; empty when the sale had no lines.
        eligible_minor: the eligible total after the discount rule, unweighted.
        weighted_minor: the eligible total with line multipliers, exact.
        discount_minor: the discount taken off before earning (0 for
            ``before_discount``).
        earn_rate: points per 1.00.
        tier_name: the tier whose multiplier applied, or ``None``.
        tier_multiplier: its factor.
        bonus_period: the bonus period that applied, or ``None``.
        bonus_multiplier: its factor.
        below_minimum: the eligible total is below the minimum spend.
        exact_points: the points before rounding.
        points: the rounded points of the ``earn`` entry.
        bonuses: fixed bonuses as (label, points), such as the birthday bonus.
    """

    lines: tuple[LineEarning, ...]
    eligible_minor: int
    weighted_minor: Decimal
    discount_minor: int
    earn_rate: Decimal
    tier_name: str | None
    tier_multiplier: Decimal
    bonus_period: str | None
    bonus_multiplier: Decimal
    below_minimum: bool
    exact_points: Decimal
    points: int
    bonuses: tuple[tuple[str, int], ...] = ()

    @property
    def total_points(self) -> int:
        """Points of the earn entry plus every fixed bonus."""
        return self.points + sum(points for _label, points in self.bonuses)

    @property
    def factor(self) -> Decimal:
        """Points per minor unit of the unweighted eligible total, exact.

        A partial return keeps ``factor`` times what remains, rounded toward
        zero, so returns use the same rates as the sale.
        """
        if not self.eligible_minor:
            return Decimal(0)
        return self.exact_points / self.eligible_minor


def _line_earning(
    line: SaleLine, rule: EarningRule, options: EarningOptions
) -> LineEarning:
    sku = line.sku.strip().upper()
    category = " ".join(getattr(line, "category", "").split()).upper()
    cost = getattr(line, "cost_minor", None)
    basis = line.amount_minor
    if options.on_margin and cost is not None:
        basis = line.amount_minor - cost
    excluded_by = None
    if rule.is_excluded(sku):
        excluded_by = f"stock code {sku}"
    elif category and category in options.excluded_categories:
        excluded_by = f"category {category}"
    multiplier = options.sku_multipliers.get(sku)
    if multiplier is None:
        multiplier = options.category_multipliers.get(category, Decimal(1))
    return LineEarning(sku, category, line.amount_minor, basis, multiplier, excluded_by)


def _bonus_period(
    periods: Iterable[BonusPeriod], local: datetime
) -> BonusPeriod | None:
    """Pick the bonus period with the largest multiplier; periods never stack."""
    best = None
    for period in periods:
        if period.applies_at(local) and (
            best is None or period.multiplier > best.multiplier
        ):
            best = period
    return best


def compute_earning(
    programme: Programme,
    rule: EarningRule,
    currency: Currency,
    amount_minor: int,
    lines: Iterable[SaleLine],
    context: EarningContext,
) -> Earning:
    """Compute the points of a sale, with every step, rounding once toward zero.

    Args:
        programme: the programme of the sale's rule version.
        rule: the base rule of that version (rate, excluded codes, minimum).
        currency: the sale's currency.
        amount_minor: the basket total; the eligible total when there are no lines.
        lines: the basket lines, possibly empty.
        context: time, tier, discount and birthday of the sale.

    Returns:
        The breakdown; ``points`` is what the ``earn`` entry records.
    """
    options = programme.earning
    line_steps = tuple(_line_earning(line, rule, options) for line in lines)
    if line_steps:
        counted = [step for step in line_steps if step.excluded_by is None]
        eligible = sum(step.basis_minor for step in counted)
        weighted = sum(
            (Decimal(step.basis_minor) * step.multiplier for step in counted),
            Decimal(0),
        )
    else:
        eligible = amount_minor
        weighted = Decimal(amount_minor)

    discount = context.discount_minor if options.basis == "paid" else 0
    if discount and eligible > 0:
        after = max(eligible - discount, 0)
        weighted = weighted * after / eligible
        eligible = after
    eligible = max(eligible, 0)
    weighted = max(weighted, Decimal(0))

    tier = context.tier
    tier_multiplier = tier.multiplier if tier is not None else Decimal(1)
    period = _bonus_period(programme.bonus_periods, context.local_time)
    bonus_multiplier = period.multiplier if period is not None else Decimal(1)

    below_minimum = eligible < rule.minimum_spend_minor
    if below_minimum:
        exact = Decimal(0)
    else:
        exact = (
            weighted
            * rule.earn_rate
            * tier_multiplier
            * bonus_multiplier
            / currency.minor_per_unit
        )
    points = int(exact.to_integral_value(rounding=ROUND_DOWN))

    bonuses: list[tuple[str, int]] = []
    if context.birthday_bonus_due and options.birthday_bonus:
        bonuses.append(("birthday bonus", options.birthday_bonus))
    return Earning(
        lines=line_steps,
        eligible_minor=eligible,
        weighted_minor=weighted,
        discount_minor=discount,
        earn_rate=rule.earn_rate,
        tier_name=tier.name if tier is not None else None,
        tier_multiplier=tier_multiplier,
        bonus_period=period.name if period is not None else None,
        bonus_multiplier=bonus_multiplier,
        below_minimum=below_minimum,
        exact_points=exact,
        points=points,
        bonuses=tuple(bonuses),
    )


def points_kept(factor: Decimal, remaining_minor: int, sale_points: int) -> int:
    """Return the points a partly returned sale keeps on what remains of it.

    ``factor`` is ``Earning.factor`` of the sale; the result is rounded toward
    zero and never exceeds what the sale earned.
    """
    exact = factor * max(remaining_minor, 0)
    return min(int(exact.to_integral_value(rounding=ROUND_DOWN)), sale_points)

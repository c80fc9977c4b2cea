"""Redemption policies, the rewards a member can afford, and programme economics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from posloyalty.domain.errors import DomainError
from posloyalty.domain.money import Currency
from posloyalty.domain.points import EarningRule
from posloyalty.domain.programme import (
    Programme,
    RedemptionPolicy,
    Reward,
    TierLevel,
)


class RedemptionError(DomainError):
    """A redemption breaks a policy: balance, minimum balance, basket share, limits."""


def max_points_for_basket(
    policy: RedemptionPolicy, rule: EarningRule, basket_minor: int, currency: Currency
) -> int:
    """Return the most points that may pay for a basket under the share limit."""
    share = Decimal(basket_minor) * policy.max_basket_share / 100
    allowed_minor = int(share.to_integral_value(rounding=ROUND_DOWN))
    return rule.max_points_for_value(allowed_minor, currency)


def check_redemption(
    policy: RedemptionPolicy,
    spendable: int,
    points: int,
    pending: int = 0,
    holder: str = "the member",
) -> None:
    """Check that a member may spend ``points`` from ``spendable`` points.

    Args:
        policy: the programme's redemption policy.
        spendable: the balance less points still pending; for a household,
            the shared wallet's.
        points: points to spend, positive.
        pending: points still pending, named in the message when they matter.
        holder: the owner of the points, as the message names them, such as
            ``the household wallet``.

    Raises:
        RedemptionError: the member holds less than the minimum balance, or
            fewer spendable points than asked.
    """
    if spendable < policy.minimum_balance:
        raise RedemptionError(
            f"not enough points to redeem: the programme needs a balance of at least"
            f" {policy.minimum_balance} before points can be spent, {holder} has"
            f" {spendable}"
        )
    if points > spendable:
        waiting = f" ({pending} more are pending until the return window ends)"
        raise RedemptionError(
            f"not enough points: {holder} has {spendable} to spend"
            f"{waiting if pending else ''}, asked for {points}"
        )


def check_basket_share(
    policy: RedemptionPolicy,
    rule: EarningRule,
    basket_minor: int,
    points: int,
    currency: Currency,
) -> None:
    """Check that ``points`` pay no more of a basket than the policy allows.

    Raises:
        RedemptionError: the points are worth more than the allowed share.
    """
    allowed = max_points_for_basket(policy, rule, basket_minor, currency)
    if points > allowed:
        raise RedemptionError(
            f"{points} points pay more than {policy.max_basket_share}% of the basket"
            f" of {currency.format_plain(basket_minor)} {currency.code}: redeem at"
            f" most {allowed} points"
        )


def check_reward(
    reward: Reward, tier: TierLevel | None, levels: tuple[TierLevel, ...], day: date
) -> None:
    """Check a reward's tier and date limits for a member on local date ``day``.

    Raises:
        RedemptionError: the member's tier is too low or the date is outside
            the reward's dates.
    """
    if not reward.is_offered_on(day):
        raise RedemptionError(
            f"reward {reward.code} is offered from {reward.valid_from or 'the start'}"
            f" until {reward.valid_until or 'further notice'}, not on {day}"
        )
    if reward.min_tier is None:
        return
    order = [level.name.casefold() for level in levels]
    needed = reward.min_tier.casefold()
    held = order.index(tier.name.casefold()) if tier is not None else -1
    if needed in order and held < order.index(needed):
        raise RedemptionError(
            f"reward {reward.code} is for members of tier {reward.min_tier} and"
            f" above; the member's tier is {tier.name if tier else 'none'}"
        )


@dataclass(frozen=True)
class RewardChoice:
    """The rewards a member can take now and the next one to aim for."""

    affordable: tuple[Reward, ...]
    next_reward: Reward | None
    points_to_next: int


def reward_choice(
    programme: Programme, spendable: int, tier: TierLevel | None, day: date
) -> RewardChoice:
    """List the rewards a member can afford now and how far the next one is.

    Rewards outside their dates or above the member's tier are left out. Until
    the member reaches the minimum balance nothing is affordable.
    """
    offered = []
    for reward in programme.rewards:
        try:
            check_reward(reward, tier, programme.tiers.levels, day)
        except RedemptionError:
            continue
        offered.append(reward)
    offered.sort(key=lambda reward: (reward.points_cost, reward.code))
    floor = programme.redemption.minimum_balance
    can_spend = spendable >= floor
    affordable = tuple(r for r in offered if can_spend and r.points_cost <= spendable)
    later = [r for r in offered if r not in affordable]
    next_reward = later[0] if later else None
    to_next = 0
    if next_reward is not None:
        to_next = max(next_reward.points_cost, floor) - spendable
    return RewardChoice(affordable, next_reward, max(to_next, 0))


# --- Economics -------------------------------------------------------------


@dataclass(frozen=True)
class Economics:
    """The value the programme gives back, and warnings against its thresholds.

    Attributes:
        basket_minor: the typical basket.
        points_on_basket: points the typical basket earns at the base rate.
        value_per_point: the best value a member gets per point, in minor
            units (exact): points as payment or the best reward.
        rate_per_100: value given back per 100.00 spent, in minor units.
        warnings: one line per threshold crossed.
    """

    basket_minor: int
    points_on_basket: int
    value_per_point: Decimal
    rate_per_100: Decimal
    warnings: tuple[str, ...]


def best_value_per_point(
    programme: Programme, rule: EarningRule, currency: Currency, basket_minor: int
) -> Decimal:
    """Return the most money per point a member can get, in minor units (exact)."""
    best = rule.point_value * currency.minor_per_unit
    for reward in programme.rewards:
        if reward.points_cost > 0:
            value = Decimal(reward.discount_for(basket_minor)) / reward.points_cost
            best = max(best, value)
    return best


def shop_cost_per_point(
    programme: Programme, rule: EarningRule, currency: Currency, basket_minor: int
) -> Decimal:
    """Return the most a point can cost the shop, in minor units (exact).

    Liability is valued at this worst case: every outstanding point spent on
    the option that costs the shop most per point.
    """
    worst = rule.point_value * currency.minor_per_unit
    for reward in programme.rewards:
        if reward.points_cost > 0:
            cost = Decimal(reward.shop_cost_for(basket_minor)) / reward.points_cost
            worst = max(worst, cost)
    return worst


def compute_economics(
    programme: Programme, rule: EarningRule, currency: Currency
) -> Economics:
    """Compute the effective reward rate of a typical basket and its warnings.

    The rate uses the base rate only (no tier, bonus period or birthday), so it
    is the floor a member gets. It is the money value of the basket's points at
    the best value per point, scaled to 100.00 of spend.
    """
    basket = programme.economics.typical_basket_minor
    points = rule.points_for(basket, currency)
    value = best_value_per_point(programme, rule, currency, basket)
    hundred = 100 * currency.minor_per_unit
    rate = (Decimal(points) * value * hundred / basket) if basket else Decimal(0)

    low = programme.economics.low_rate * currency.minor_per_unit
    high = programme.economics.high_rate * currency.minor_per_unit
    shown = currency.to_decimal(int(rate.to_integral_value(rounding=ROUND_DOWN)))
    warnings = []
    if rate < low:
        warnings.append(
            f"reward rate {shown} per 100.00 is below the low threshold"
            f" {programme.economics.low_rate}: members may not notice the programme;"
            " raise the earn rate or the point value, or lower the threshold"
        )
    if rate > high:
        warnings.append(
            f"reward rate {shown} per 100.00 is above the high threshold"
            f" {programme.economics.high_rate}: the programme may cost more than the"
            " shop's margin; lower the earn rate or reward values, or raise the"
            " threshold"
        )
    return Economics(basket, points, value, rate, tuple(warnings))

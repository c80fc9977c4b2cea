"""Rewards and points as payment at the till, and what the programme costs.

The till window calls ``reward_options`` to show what a member can afford
and how far the next reward is, ``points_payable`` to offer paying part of a
basket with points, and ``redeem_reward`` for a reward taken outside a sale.
A reward taken with a sale goes through ``SaleRequest.reward_code`` instead.
All of them spend from the member's household wallet and use the household's
tier (see ``services.household``); a member without a household spends alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import ROUND_DOWN

from posloyalty.domain.errors import DomainError
from posloyalty.domain.programme import Reward
from posloyalty.domain.rewards import (
    Economics,
    check_redemption,
    check_reward,
    compute_economics,
    max_points_for_basket,
    reward_choice,
    shop_cost_per_point,
)
from posloyalty.services.context import TillContext
from posloyalty.services.errors import NotFoundError, RejectedError
from posloyalty.services.ledger import append_audit, append_entry
from posloyalty.services.loyalty import balance_of, member_tier, wallet_funds
from posloyalty.services.programme import current_rules
from posloyalty.services.sync_status import check_offline_redemption
from posloyalty.services.views import SaleResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RewardOptions:
    """Rewards a member can take now, and the next one with the points missing.

    ``spendable`` is the wallet's, shared with the member's household.
    """

    member_id: str
    spendable: int
    affordable: tuple[Reward, ...]
    next_reward: Reward | None
    points_to_next: int


def reward_options(ctx: TillContext, member_id: str) -> RewardOptions:
    """List the rewards a member can afford now and how far the next one is.

    Raises:
        NotFoundError: no such member.
    """
    programme = current_rules(ctx).programme
    now = ctx.now()
    with ctx.db.atomic("DEFERRED"):
        funds = wallet_funds(ctx, member_id, programme, now)
        tier = member_tier(ctx, member_id, programme, now)
    spendable = max(funds.spendable, 0)
    today = now.astimezone(ctx.settings.timezone).date()
    choice = reward_choice(programme, spendable, tier.tier, today)
    return RewardOptions(
        member_id,
        spendable,
        choice.affordable,
        choice.next_reward,
        choice.points_to_next,
    )


def points_payable(ctx: TillContext, member_id: str, basket_minor: int) -> int:
    """Return the most points a member may pay toward a basket now.

    The smallest of: the wallet's spendable balance (0 below the minimum
    balance), the policy's share of the basket, and the basket's value in
    points.

    Raises:
        NotFoundError: no such member.
    """
    rules = current_rules(ctx)
    programme, rule = rules.programme, rules.rule
    currency = ctx.settings.currency
    spendable = wallet_funds(ctx, member_id, programme, ctx.now()).spendable
    if spendable < programme.redemption.minimum_balance:
        return 0
    share = max_points_for_basket(programme.redemption, rule, basket_minor, currency)
    return max(min(spendable, share), 0)


def redeem_reward(
    ctx: TillContext, member_id: str, code: str, staff: str | None = None
) -> SaleResult:
    """Take a reward outside a sale: one ``redeem`` entry of its points cost.

    Raises:
        NotFoundError: no such member or reward.
        RejectedError: the tier, the dates, the minimum balance or the
            spendable balance do not allow it; nothing is written.
    """
    rules = current_rules(ctx)
    programme = rules.programme
    try:
        reward = programme.reward(code)
    except DomainError as error:
        raise NotFoundError(str(error)) from error
    now = ctx.now()
    today = now.astimezone(ctx.settings.timezone).date()
    with ctx.db.atomic():
        balance = balance_of(ctx, member_id)
        funds = wallet_funds(ctx, member_id, programme, now)
        tier = member_tier(ctx, member_id, programme, now)
        try:
            check_reward(reward, tier.tier, programme.tiers.levels, today)
            check_redemption(
                programme.redemption,
                funds.spendable,
                reward.points_cost,
                funds.pending,
                funds.holder,
            )
        except DomainError as error:
            raise RejectedError(str(error)) from error
        check_offline_redemption(ctx, member_id, reward.points_cost)
        append_entry(
            ctx,
            member_id,
            "redeem",
            -reward.points_cost,
            staff=staff,
            reason=f"reward {reward.code}",
            rule_version=rules.version,
        )
        append_audit(
            ctx,
            "redeem",
            staff=staff,
            member_id=member_id,
            details={"reward": reward.code, "points": reward.points_cost},
        )
    logger.info("member %s took reward %s", member_id, reward.code)
    return SaleResult(
        "", member_id, 0, 0, 0, reward.points_cost, balance - reward.points_cost
    )


@dataclass(frozen=True)
class EconomicsView:
    """The programme's economics and its outstanding liability.

    Attributes:
        economics: the reward rate of the typical basket and its warnings.
        outstanding_points: the sum of positive balances.
        liability_minor: those points valued at the highest cost per point
            to the shop among points as payment and the rewards, minor units.
    """

    economics: Economics
    outstanding_points: int
    liability_minor: int


def programme_economics(ctx: TillContext) -> EconomicsView:
    """Compute the effective reward rate, the liability and the warnings."""
    rules = current_rules(ctx)
    currency = ctx.settings.currency
    economics = compute_economics(rules.programme, rules.rule, currency)
    row = ctx.db.execute_sql(
        "SELECT COALESCE(SUM(balance), 0) FROM member WHERE balance > 0"
    ).fetchone()
    outstanding = int(row[0])
    per_point = shop_cost_per_point(
        rules.programme, rules.rule, currency, economics.basket_minor
    )
    liability = int((per_point * outstanding).to_integral_value(rounding=ROUND_DOWN))
    return EconomicsView(economics, outstanding, liability)

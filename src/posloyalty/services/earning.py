"""What a sale earns and spends under the programme, inside the sale's transaction.

``record_sale`` calls ``plan_earning`` before it writes anything and
``pay_sale_bonuses`` after the sale's own entries, all in one transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from posloyalty.domain.errors import RuleError
from posloyalty.domain.points import SaleLine
from posloyalty.domain.programme import (
    BasketLine,
    Earning,
    EarningContext,
    Reward,
    compute_earning,
    points_kept,
)
from posloyalty.domain.rewards import (
    RedemptionError,
    check_basket_share,
    check_redemption,
    check_reward,
)
from posloyalty.services.context import TillContext
from posloyalty.services.errors import NotFoundError
from posloyalty.services.ledger import append_entry
from posloyalty.services.loyalty import (
    challenge_statuses,
    member_tier,
    net_bonus,
    wallet_funds,
)
from posloyalty.services.programme import Rules, rules_of_version
from posloyalty.storage.programme import MemberProfile, SaleEarning

if TYPE_CHECKING:
    from posloyalty.services.sales import SaleRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SaleEarningPlan:
    """What a sale will spend and earn, computed before anything is written.

    Attributes:
        earning: the points of the earn entry and the fixed bonuses.
        reward: the reward taken, or ``None``.
        reward_points: the reward's points cost (0 without a reward).
        reward_discount_minor: money the reward takes off.
        points_discount_minor: money the redeemed points pay.
        local_time: the sale's time on the shop's wall clock.
        bonus_reasons: ledger reason of each fixed bonus, by its label.
    """

    earning: Earning
    reward: Reward | None
    reward_points: int
    reward_discount_minor: int
    points_discount_minor: int
    local_time: datetime
    bonus_reasons: dict[str, str] = field(default_factory=dict)


def plan_earning(
    ctx: TillContext, rules: Rules, request: SaleRequest, now: datetime
) -> SaleEarningPlan:
    """Check what the sale spends against the policies and compute its points.

    Runs inside the sale's transaction, so the balance it checks is the one
    the sale's entries are written against. Points and rewards are paid from
    the member's household wallet (the member alone without a household).

    Raises:
        RedemptionError: a redemption policy rejects the points or the reward.
        NotFoundError: the reward code is not in the catalogue.
    """
    rule, programme = rules.rule, rules.programme
    currency = ctx.settings.currency
    occurred = request.occurred_at or now
    local = occurred.astimezone(ctx.settings.timezone)
    member_id = request.member_id

    reward = None
    reward_discount = 0
    if request.reward_code:
        try:
            reward = programme.reward(request.reward_code)
        except RuleError as error:
            raise NotFoundError(str(error)) from error
        reward_discount = reward.discount_for(request.amount_minor)
    left_to_pay = request.amount_minor - reward_discount
    points_discount = rule.value_of_points(request.redeem_points, currency)
    if points_discount > left_to_pay:
        raise RedemptionError(
            f"{request.redeem_points} points are worth"
            f" {currency.format_plain(points_discount)} {currency.code}, more than"
            f" the {currency.format_plain(left_to_pay)} left to pay: redeem at most"
            f" {rule.max_points_for_value(left_to_pay, currency)} points"
        )
    if request.redeem_points:
        check_basket_share(
            programme.redemption, rule, left_to_pay, request.redeem_points, currency
        )

    tier = member_tier(ctx, member_id, programme, occurred)
    spend = request.redeem_points + (reward.points_cost if reward else 0)
    if spend:
        if reward is not None:
            check_reward(reward, tier.tier, programme.tiers.levels, local.date())
        funds = wallet_funds(ctx, member_id, programme, now)
        check_redemption(
            programme.redemption,
            funds.spendable,
            spend,
            funds.pending,
            funds.holder,
        )

    reasons: dict[str, str] = {}
    birthday_due = False
    if programme.earning.birthday_bonus and request.earns:
        profile = MemberProfile.get_or_none(MemberProfile.member_id == member_id)
        if profile is not None and profile.birth_month_day:
            reason = f"birthday {local.year}"
            month = int(profile.birth_month_day[:2])
            birthday_due = (
                month == local.month and net_bonus(ctx, member_id, reason) <= 0
            )
            reasons["birthday bonus"] = reason

    context = EarningContext(
        local_time=local,
        tier=tier.tier,
        discount_minor=points_discount + reward_discount,
        birthday_bonus_due=birthday_due,
    )
    lines = request.lines if request.earns else ()
    amount = request.amount_minor if request.earns else 0
    earning = compute_earning(programme, rule, currency, amount, lines, context)
    return SaleEarningPlan(
        earning,
        reward,
        reward.points_cost if reward else 0,
        reward_discount,
        points_discount,
        local,
        reasons,
    )


def _line_record(line: SaleLine) -> dict[str, object]:
    return {
        "sku": line.sku.strip().upper(),
        "amount_minor": line.amount_minor,
        "category": getattr(line, "category", ""),
        "cost_minor": getattr(line, "cost_minor", None),
    }


_INSERT_SALE_EARNING_SQL = (
    "INSERT INTO sale_earning (sale_id, rule_version, inputs, factor)"
    " VALUES (?, ?, ?, ?)"
)


def save_sale_inputs(
    ctx: TillContext,
    sale_id: str,
    request: SaleRequest,
    plan: SaleEarningPlan,
    version: int,
) -> None:
    """Store what the sale's points were computed from, for ``explain`` and returns."""
    inputs = {
        "amount_minor": request.amount_minor,
        "lines": [_line_record(line) for line in request.lines],
        "local_time": plan.local_time.isoformat(),
        "tier": plan.earning.tier_name,
        "discount_minor": plan.points_discount_minor + plan.reward_discount_minor,
        "reward": plan.reward.code if plan.reward else None,
        "birthday_bonus": bool(plan.earning.bonuses),
        "earns": request.earns,
    }
    # Written as plain SQL: this runs in every sale, and the query builder
    # costs more than the insert itself.
    ctx.db.execute_sql(
        _INSERT_SALE_EARNING_SQL,
        (
            sale_id,
            version,
            json.dumps(inputs, sort_keys=True),
            str(plan.earning.factor),
        ),
    )


def lines_from_inputs(inputs: dict[str, object]) -> list[BasketLine]:
    """Rebuild the basket lines stored with a sale."""
    records = inputs.get("lines", [])
    assert isinstance(records, list)
    return [
        BasketLine(
            record["sku"],
            record["amount_minor"],
            record.get("category") or "",
            record.get("cost_minor"),
        )
        for record in records
    ]


def pay_sale_bonuses(
    ctx: TillContext,
    sale_id: str,
    request: SaleRequest,
    plan: SaleEarningPlan,
    rules: Rules,
) -> int:
    """Store the sale's inputs, then pay challenge and referral bonuses it unlocks.

    A challenge bonus is paid once per member per period: when the net points
    of earlier bonus entries for that challenge and period are above 0, the
    challenge is complete. A sale marked to earn nothing completes nothing.

    Returns:
        The bonus points paid to the sale's member.
    """
    save_sale_inputs(ctx, sale_id, request, plan, rules.version)
    if not request.earns:
        return 0
    member_id = request.member_id
    paid = 0
    day = plan.local_time.date()
    for status in challenge_statuses(ctx, member_id, rules.programme, day):
        if status.completed or status.progress < status.target:
            continue
        append_entry(
            ctx,
            member_id,
            "bonus",
            status.bonus,
            sale_id=sale_id,
            staff=request.staff,
            reason=f"challenge {status.code} {status.period}",
            rule_version=rules.version,
        )
        paid += status.bonus
        logger.info("member %s completed challenge %s", member_id, status.code)

    from posloyalty.services.engagement import pay_referral_at_first_sale

    paid += pay_referral_at_first_sale(ctx, member_id, sale_id, rules, request.staff)
    return paid


def points_taken_back(
    ctx: TillContext,
    sale_id: str,
    version: int | None,
    sale_eligible: int,
    sale_points: int,
    already_returned: int,
    returning: int,
) -> int:
    """Return the earned points a partial return takes back, as a positive number.

    The sale keeps what the rest of its eligible total earns at the sale's own
    exact rate (multipliers included), rounded toward zero; below the minimum
    spend the rest keeps nothing.
    """
    rules = rules_of_version(ctx, version)
    row = SaleEarning.get_or_none(SaleEarning.sale_id == sale_id)
    currency = ctx.settings.currency
    if row is None:
        return rules.rule.points_to_take_back(
            sale_eligible, sale_points, already_returned, returning, currency
        )
    factor = Decimal(row.factor)
    minimum = rules.rule.minimum_spend_minor

    def kept(remaining: int) -> int:
        if remaining < minimum:
            return 0
        return points_kept(factor, remaining, sale_points)

    before = sale_eligible - already_returned
    after = max(before - returning, 0)
    return max(kept(before) - kept(after), 0)

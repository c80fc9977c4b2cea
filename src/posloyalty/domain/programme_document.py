"""The programme document: reading and validating it from JSON, and writing it back.

Decimals travel as strings and money as whole minor units, so a document
reads back exactly as it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from posloyalty.domain.errors import RuleError
from posloyalty.domain.programme import (
    EARN_BASES,
    ENGAGEMENT_KINDS,
    GOAL_KINDS,
    PERIODS,
    REWARD_KINDS,
    TIER_BASES,
    WEEKDAYS,
    BonusPeriod,
    Challenge,
    EarningOptions,
    EconomicsPolicy,
    EngagementValue,
    Programme,
    RedemptionPolicy,
    Reward,
    TierLevel,
    TierPolicy,
)


def _decimal(value: Any, what: str, minimum: Decimal = Decimal(0)) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RuleError(
            f"invalid {what} {value!r}: write a number such as 2 or 1.5"
        ) from None
    if not number.is_finite() or number < minimum:
        raise RuleError(f"invalid {what} {value!r}: use {minimum} or more")
    return number


def _int(value: Any, what: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RuleError(f"invalid {what} {value!r}: use a whole number from {minimum}")
    return value


def _choice(value: Any, what: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise RuleError(f"invalid {what} {value!r}: use one of {', '.join(choices)}")
    return str(value)


def _date(value: Any, what: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuleError(
            f"invalid {what} {value!r}: write a date as 2025-12-24"
        ) from None


def _time(value: Any, what: str) -> time | None:
    if value in (None, ""):
        return None
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise RuleError(f"invalid {what} {value!r}: write a time as 09:30") from None


def _code(value: Any, what: str) -> str:
    code = str(value or "").strip().upper()
    if not code or any(ch.isspace() for ch in code):
        raise RuleError(f"invalid {what} {value!r}: use a short code without spaces")
    return code


def _product_key(value: Any, what: str) -> str:
    """Normalise a stock code or category: upper case, single spaces allowed."""
    key = " ".join(str(value or "").split()).upper()
    if not key:
        raise RuleError(f"missing {what}: give a stock code or category")
    return key


def _name(value: Any, what: str) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise RuleError(f"missing {what}: give it a name")
    return name


def _iso(value: date | time | None) -> str | None:
    return value.isoformat() if value is not None else None


def _multipliers(value: Any, what: str) -> dict[str, Decimal]:
    return {
        _product_key(key, what): _decimal(factor, f"{what} multiplier")
        for key, factor in dict(value or {}).items()
    }


def programme_from_dict(data: Mapping[str, Any]) -> Programme:
    """Read and validate a programme document (as stored in JSON).

    Raises:
        RuleError: a value is invalid or two entries share a code or name; the
            message names the value and the fix.
    """
    try:
        return _programme_from_dict(data)
    except (TypeError, AttributeError, KeyError) as error:
        raise RuleError(f"invalid programme document: {error}") from error


def _programme_from_dict(data: Mapping[str, Any]) -> Programme:
    earning_data = data.get("earning", {})
    earning = EarningOptions(
        excluded_categories=frozenset(
            _product_key(c, "category")
            for c in earning_data.get("excluded_categories", [])
        ),
        sku_multipliers=_multipliers(earning_data.get("sku_multipliers"), "stock code"),
        category_multipliers=_multipliers(
            earning_data.get("category_multipliers"), "category"
        ),
        basis=_choice(earning_data.get("basis", "paid"), "earning basis", EARN_BASES),
        on_margin=bool(earning_data.get("on_margin", False)),
        birthday_bonus=_int(earning_data.get("birthday_bonus", 0), "birthday bonus"),
        pending_days=_int(earning_data.get("pending_days", 0), "pending days"),
    )
    periods = tuple(
        BonusPeriod(
            name=_name(p.get("name"), "bonus period name"),
            multiplier=_decimal(p.get("multiplier"), "bonus multiplier", Decimal(1)),
            start_date=_date(p.get("start_date"), "start date"),
            end_date=_date(p.get("end_date"), "end date"),
            weekdays=tuple(sorted({_int(d, "weekday") for d in p.get("weekdays", [])})),
            start_time=_time(p.get("start_time"), "start time"),
            end_time=_time(p.get("end_time"), "end time"),
        )
        for p in data.get("bonus_periods", [])
    )
    for period in periods:
        if any(day > 6 for day in period.weekdays):
            raise RuleError(f"invalid weekday in {period.name!r}: use mon to sun")
        if (
            period.start_date
            and period.end_date
            and period.end_date < period.start_date
        ):
            raise RuleError(
                f"bonus period {period.name!r} ends on {period.end_date}, before it"
                f" starts on {period.start_date}: swap the dates"
            )
    tier_data = data.get("tiers", {})
    levels = tuple(
        sorted(
            (
                TierLevel(
                    name=_name(t.get("name"), "tier name"),
                    threshold=_int(t.get("threshold"), "tier threshold"),
                    multiplier=_decimal(
                        t.get("multiplier", "1"), "tier multiplier", Decimal(1)
                    ),
                )
                for t in tier_data.get("levels", [])
            ),
            key=lambda level: level.threshold,
        )
    )
    tiers = TierPolicy(
        basis=_choice(tier_data.get("basis", "points"), "tier basis", TIER_BASES),
        period_months=_int(tier_data.get("period_months", 12), "tier period", 1),
        grace_days=_int(tier_data.get("grace_days", 0), "grace days"),
        levels=levels,
    )
    rewards = tuple(_reward_from_dict(r) for r in data.get("rewards", []))
    engagement = tuple(
        EngagementValue(
            kind=_choice(e.get("kind"), "engagement kind", ENGAGEMENT_KINDS),
            points=_int(e.get("points"), "engagement points", 1),
            cap=_int(e.get("cap", 0), "engagement cap"),
            period=_choice(e.get("period", "month"), "engagement period", PERIODS),
        )
        for e in data.get("engagement", [])
    )
    challenges = tuple(
        Challenge(
            code=_code(c.get("code"), "challenge code"),
            name=_name(c.get("name"), "challenge name"),
            goal=_choice(c.get("goal"), "challenge goal", GOAL_KINDS),
            target=_int(c.get("target"), "challenge target", 1),
            period=_choice(c.get("period", "month"), "challenge period", PERIODS),
            bonus=_int(c.get("bonus"), "challenge bonus", 1),
        )
        for c in data.get("challenges", [])
    )
    redemption_data = data.get("redemption", {})
    redemption = RedemptionPolicy(
        minimum_balance=_int(
            redemption_data.get("minimum_balance", 0), "minimum balance"
        ),
        max_basket_share=_decimal(
            redemption_data.get("max_basket_share", "100"), "maximum basket share"
        ),
    )
    if not Decimal(0) < redemption.max_basket_share <= 100:
        raise RuleError(
            f"invalid maximum basket share {redemption.max_basket_share}: use a"
            " percentage above 0 and at most 100"
        )
    economics_data = data.get("economics", {})
    economics = EconomicsPolicy(
        typical_basket_minor=_int(
            economics_data.get("typical_basket_minor", 2500), "typical basket", 1
        ),
        low_rate=_decimal(economics_data.get("low_rate", "0.50"), "low rate"),
        high_rate=_decimal(economics_data.get("high_rate", "5.00"), "high rate"),
    )
    if economics.high_rate < economics.low_rate:
        raise RuleError(
            f"invalid thresholds: the high rate {economics.high_rate} is below the"
            f" low rate {economics.low_rate}"
        )
    programme = Programme(
        earning=earning,
        bonus_periods=periods,
        tiers=tiers,
        rewards=rewards,
        engagement=engagement,
        challenges=challenges,
        expiry_months=_int(data.get("expiry_months", 0), "expiry months"),
        redemption=redemption,
        economics=economics,
    )
    _check_unique(programme)
    return programme


def _reward_from_dict(data: Mapping[str, Any]) -> Reward:
    reward = Reward(
        code=_code(data.get("code"), "reward code"),
        name=_name(data.get("name"), "reward name"),
        kind=_choice(data.get("kind"), "reward kind", REWARD_KINDS),
        points_cost=_int(data.get("points_cost"), "reward points cost", 1),
        value_minor=_int(data.get("value_minor", 0), "reward value"),
        percent=_decimal(data.get("percent", "0"), "reward percentage"),
        sku=str(data.get("sku") or "").strip().upper(),
        cost_minor=(
            None
            if data.get("cost_minor") is None
            else _int(data.get("cost_minor"), "reward cost to the shop")
        ),
        min_tier=data.get("min_tier") or None,
        valid_from=_date(data.get("valid_from"), "reward start date"),
        valid_until=_date(data.get("valid_until"), "reward end date"),
    )
    if reward.kind == "percent_off" and not Decimal(0) < reward.percent <= 100:
        raise RuleError(
            f"reward {reward.code}: invalid percentage {reward.percent}, use above 0"
            " and at most 100"
        )
    if reward.kind == "amount_off" and reward.value_minor <= 0:
        raise RuleError(f"reward {reward.code}: missing amount off, give --value")
    if reward.kind == "free_item" and not (reward.sku and reward.value_minor > 0):
        raise RuleError(
            f"reward {reward.code}: a free item needs its stock code and its price"
            " (--sku and --value)"
        )
    return reward


def _check_unique(programme: Programme) -> None:
    groups = {
        "reward code": [r.code for r in programme.rewards],
        "tier name": [t.name.casefold() for t in programme.tiers.levels],
        "challenge code": [c.code for c in programme.challenges],
        "bonus period name": [p.name.casefold() for p in programme.bonus_periods],
        "engagement kind": [e.kind for e in programme.engagement],
    }
    for what, names in groups.items():
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise RuleError(
                    f"duplicate {what} {name!r}: remove or rename one of them"
                )
            seen.add(name)
    tier_names = {t.name.casefold() for t in programme.tiers.levels}
    for reward in programme.rewards:
        if reward.min_tier and reward.min_tier.casefold() not in tier_names:
            raise RuleError(
                f"reward {reward.code} needs tier {reward.min_tier!r}, which is not"
                " defined: add the tier first"
            )


def programme_to_dict(programme: Programme) -> dict[str, Any]:
    """Write a programme as a JSON-ready document; decimals become strings."""
    earning = programme.earning
    return {
        "earning": {
            "excluded_categories": sorted(earning.excluded_categories),
            "sku_multipliers": {
                k: str(v) for k, v in sorted(earning.sku_multipliers.items())
            },
            "category_multipliers": {
                k: str(v) for k, v in sorted(earning.category_multipliers.items())
            },
            "basis": earning.basis,
            "on_margin": earning.on_margin,
            "birthday_bonus": earning.birthday_bonus,
            "pending_days": earning.pending_days,
        },
        "bonus_periods": [
            {
                "name": p.name,
                "multiplier": str(p.multiplier),
                "start_date": _iso(p.start_date),
                "end_date": _iso(p.end_date),
                "weekdays": list(p.weekdays),
                "start_time": _iso(p.start_time),
                "end_time": _iso(p.end_time),
            }
            for p in programme.bonus_periods
        ],
        "tiers": {
            "basis": programme.tiers.basis,
            "period_months": programme.tiers.period_months,
            "grace_days": programme.tiers.grace_days,
            "levels": [
                {
                    "name": t.name,
                    "threshold": t.threshold,
                    "multiplier": str(t.multiplier),
                }
                for t in programme.tiers.levels
            ],
        },
        "rewards": [
            {
                "code": r.code,
                "name": r.name,
                "kind": r.kind,
                "points_cost": r.points_cost,
                "value_minor": r.value_minor,
                "percent": str(r.percent),
                "sku": r.sku,
                "cost_minor": r.cost_minor,
                "min_tier": r.min_tier,
                "valid_from": _iso(r.valid_from),
                "valid_until": _iso(r.valid_until),
            }
            for r in programme.rewards
        ],
        "engagement": [
            {"kind": e.kind, "points": e.points, "cap": e.cap, "period": e.period}
            for e in programme.engagement
        ],
        "challenges": [
            {
                "code": c.code,
                "name": c.name,
                "goal": c.goal,
                "target": c.target,
                "period": c.period,
                "bonus": c.bonus,
            }
            for c in programme.challenges
        ],
        "expiry_months": programme.expiry_months,
        "redemption": {
            "minimum_balance": programme.redemption.minimum_balance,
            "max_basket_share": str(programme.redemption.max_basket_share),
        },
        "economics": {
            "typical_basket_minor": programme.economics.typical_basket_minor,
            "low_rate": str(programme.economics.low_rate),
            "high_rate": str(programme.economics.high_rate),
        },
    }


def parse_weekdays(text: str) -> tuple[int, ...]:
    """Parse ``sat,sun`` into weekday numbers (0 is Monday).

    Raises:
        RuleError: a name is not a three-letter English weekday.
    """
    days = []
    for part in text.split(","):
        name = part.strip().lower()[:3]
        if not name:
            continue
        if name not in WEEKDAYS:
            raise RuleError(
                f"invalid weekday {part.strip()!r}: use mon, tue, wed, thu, fri, sat"
                " or sun"
            )
        days.append(WEEKDAYS.index(name))
    return tuple(sorted(set(days)))

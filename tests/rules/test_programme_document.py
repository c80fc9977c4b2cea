from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posloyalty.domain.errors import RuleError
from posloyalty.domain.money import Currency
from posloyalty.domain.points import EarningRule, SaleLine
from posloyalty.domain.programme import (
    BasketLine,
    BonusPeriod,
    EarningContext,
    EarningOptions,
    Programme,
    TierLevel,
    compute_earning,
)
from posloyalty.domain.programme_document import (
    parse_weekdays,
    programme_from_dict,
    programme_to_dict,
)

GBP = Currency("GBP", 2)
NOON = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)


def full_document():
    return {
        "earning": {
            "excluded_categories": ["gift cards"],
            "sku_multipliers": {"cof1": "2"},
            "category_multipliers": {"BAKERY": "1.5"},
            "basis": "before_discount",
            "on_margin": True,
            "birthday_bonus": 50,
            "pending_days": 14,
        },
        "bonus_periods": [
            {"name": "Weekend", "multiplier": "2", "weekdays": [5, 6],
             "start_time": "09:00", "end_time": "12:00"}
        ],
        "tiers": {"basis": "points", "period_months": 12, "grace_days": 30,
                  "levels": [{"name": "Gold", "threshold": 1000, "multiplier": "2"},
                             {"name": "Silver", "threshold": 200, "multiplier": "1.25"}]},
        "rewards": [{"code": "coffee", "name": "Free coffee", "kind": "free_item",
                     "points_cost": 150, "value_minor": 250, "sku": "COF1",
                     "min_tier": "Silver"}],
        "engagement": [{"kind": "review", "points": 20, "cap": 2, "period": "month"}],
        "challenges": [{"code": "five", "name": "Five visits", "goal": "visits",
                        "target": 5, "period": "month", "bonus": 100}],
        "expiry_months": 24,
        "redemption": {"minimum_balance": 100, "max_basket_share": "50"},
        "economics": {"typical_basket_minor": 3000, "low_rate": "1", "high_rate": "4"},
    }  # fmt: skip


def test_document_round_trips_exactly():
    programme = programme_from_dict(full_document())
    again = programme_from_dict(programme_to_dict(programme))
    assert again == programme
    assert [t.name for t in programme.tiers.levels] == ["Silver", "Gold"]
    assert programme.reward("COFFEE").min_tier == "Silver"
    assert programme.earning.sku_multipliers == {"COF1": Decimal(2)}
    assert programme.earning.excluded_categories == frozenset({"GIFT CARDS"})


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        pytest.param(lambda d: d["tiers"]["levels"].append(
            {"name": "gold", "threshold": 5}), "duplicate tier name", id="dup-tier"),
        pytest.param(lambda d: d["rewards"][0].update(min_tier="Platinum"),
                     "not defined", id="unknown-tier"),
        pytest.param(lambda d: d["redemption"].update(max_basket_share="150"),
                     "maximum basket share", id="share"),
        pytest.param(lambda d: d["bonus_periods"][0].update(multiplier="0.5"),
                     "bonus multiplier", id="multiplier-below-one"),
        pytest.param(lambda d: d["challenges"][0].update(goal="jumps"),
                     "challenge goal", id="goal"),
        pytest.param(lambda d: d["bonus_periods"][0].update(
            start_date="2025-12-24", end_date="2025-12-01"), "swap the dates",
            id="dates"),
        pytest.param(lambda d: d["economics"].update(low_rate="9"), "below the low",
                     id="thresholds"),
        pytest.param(lambda d: d.update(expiry_months=-1), "expiry months",
                     id="expiry"),
    ],
)  # fmt: skip
def test_invalid_document_rejected(change, fragment):
    document = full_document()
    change(document)
    with pytest.raises(RuleError, match=fragment):
        programme_from_dict(document)


def test_weekdays_parse_by_name():
    assert parse_weekdays("Sat, sun") == (5, 6)
    with pytest.raises(RuleError, match="invalid weekday 'funday'"):
        parse_weekdays("funday")


def test_line_multipliers_round_once():
    programme = Programme(
        earning=EarningOptions(
            sku_multipliers={"A": Decimal("1.5")},
            category_multipliers={"BAKERY": Decimal(2)},
            excluded_categories=frozenset({"GIFT"}),
        )
    )
    lines = [
        BasketLine("A", 333),  # 3.33 x1.5 = 4.995
        BasketLine("B", 333, "bakery"),  # 3.33 x2 = 6.66
        BasketLine("G", 5000, "GIFT"),
        SaleLine("POST", 500),
    ]
    rule = EarningRule(excluded_skus=frozenset({"POST"}))
    earning = compute_earning(programme, rule, GBP, 6166, lines, EarningContext(NOON))
    assert earning.eligible_minor == 666
    assert earning.weighted_minor == Decimal("1165.5")
    assert earning.exact_points == Decimal("11.655")
    assert earning.points == 11
    excluded = [line.excluded_by for line in earning.lines]
    assert excluded == [None, None, "category GIFT", "stock code POST"]


def test_bonus_period_uses_local_time_and_largest():
    programme = Programme(
        bonus_periods=(
            BonusPeriod("Mornings", Decimal(2), start_time=datetime(1, 1, 1, 9).time(),
                        end_time=datetime(1, 1, 1, 12).time()),
            BonusPeriod("Launch", Decimal(3), start_date=date(2025, 3, 29),
                        end_date=date(2025, 3, 29)),
        )
    )  # fmt: skip
    rule = EarningRule()
    saturday_morning = datetime(2025, 3, 29, 10, 0)
    earning = compute_earning(
        programme, rule, GBP, 1000, (), EarningContext(saturday_morning)
    )
    assert earning.bonus_period == "Launch"
    assert earning.points == 30
    sunday_morning = datetime(2025, 3, 30, 10, 0)
    earning = compute_earning(
        programme, rule, GBP, 1000, (), EarningContext(sunday_morning)
    )
    assert earning.bonus_period == "Mornings"
    assert earning.points == 20


@given(
    amount=st.integers(min_value=0, max_value=10**9),
    rate=st.decimals(min_value=0, max_value=100, places=3),
    minimum=st.integers(min_value=0, max_value=10_000),
    discount=st.integers(min_value=0, max_value=10**6),
)
def test_plain_programme_equals_points_for(amount, rate, minimum, discount):
    rule = EarningRule(earn_rate=rate, minimum_spend_minor=minimum)
    earning = compute_earning(
        Programme(),
        rule,
        GBP,
        amount,
        (),
        EarningContext(NOON, discount_minor=discount),
    )
    assert earning.points == rule.points_for(max(amount - discount, 0), GBP)


@given(
    amounts=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=6),
    factor=st.decimals(min_value=1, max_value=5, places=2),
)
def test_tier_multiplier_scales_exact_points(amounts, factor):
    lines = [SaleLine(f"S{i}", amount) for i, amount in enumerate(amounts)]
    rule = EarningRule()
    plain = compute_earning(Programme(), rule, GBP, 0, lines, EarningContext(NOON))
    tiered = compute_earning(
        Programme(), rule, GBP, 0, lines,
        EarningContext(NOON, tier=TierLevel("T", 0, factor)),
    )  # fmt: skip
    assert tiered.exact_points == plain.exact_points * factor
    assert plain.points == rule.points_for(sum(amounts), GBP)

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from posloyalty.domain.money import Currency
from posloyalty.domain.points import EarningRule, SaleLine

GBP = Currency("GBP", 2)


def test_points_round_toward_zero_on_total():
    rule = EarningRule()
    assert rule.points_for(999, GBP) == 9
    assert rule.points_for(-999, GBP) == -9
    # Line by line this basket would earn 0 + 0 + 0; on the total it earns 2.
    lines = [SaleLine("A", 99), SaleLine("B", 99), SaleLine("C", 99)]
    assert rule.points_for(rule.eligible_total(lines), GBP) == 2


def test_excluded_skus_and_minimum_spend():
    rule = EarningRule(excluded_skus=frozenset({"POST"}), minimum_spend_minor=500)
    lines = [SaleLine("post", 1000), SaleLine("85123A", 450)]
    assert rule.eligible_total(lines) == 450
    assert rule.points_for(450, GBP) == 0
    assert rule.points_for(500, GBP) == 5


def test_fractional_earn_rate_exact():
    rule = EarningRule(earn_rate=Decimal("0.015"))
    assert rule.points_for(100_000, GBP) == 15
    assert rule.points_for(1999, GBP) == 0


def test_points_value_exact():
    rule = EarningRule(point_value=Decimal("0.03"))
    assert rule.value_of_points(3030, GBP) == 9090
    assert rule.max_points_for_value(300_000, GBP) == 100_000
    assert rule.max_points_for_value(100, GBP) == 33


@given(
    total=st.integers(min_value=1, max_value=10_000_000),
    parts=st.lists(st.integers(min_value=1, max_value=1_000_000), max_size=6),
    rate=st.sampled_from([Decimal(1), Decimal("0.015"), Decimal(3), Decimal("2.5")]),
)
def test_partial_returns_take_back_exactly_what_was_earned(total, parts, rate):
    rule = EarningRule(earn_rate=rate)
    earned = rule.points_for(total, GBP)
    returned = taken = 0
    for part in parts:
        part = min(part, total - returned)
        if part <= 0:
            break
        taken += rule.points_to_take_back(total, earned, returned, part, GBP)
        returned += part
    taken += rule.points_to_take_back(total, earned, returned, total - returned, GBP)
    assert taken == earned

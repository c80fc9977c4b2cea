from datetime import UTC, datetime

import pytest

from ledger_helpers import enrol, entries, ledger_sum, sale
from posloyalty.domain.programme import BasketLine
from posloyalty.services import sales
from posloyalty.services.engagement import set_member_extras
from posloyalty.services.explain import explain_sale
from posloyalty.services.ledger import verify
from posloyalty.storage import models
from rules_helpers import set_programme


def test_programme_change_makes_rule_version(clocked_till):
    before = clocked_till.settings.rule_version
    set_programme(clocked_till, expiry_months=12)
    assert clocked_till.settings.rule_version == before + 1
    row = models.RuleVersion.get_by_id(before + 1)
    assert '"earn_rate": "1"' in row.rule
    clocked_till.update_settings({"earn_rate": "2"})
    from posloyalty.services.programme import current_rules

    rules = current_rules(clocked_till)
    assert rules.version == before + 2
    assert rules.programme.expiry_months == 12
    assert str(rules.rule.earn_rate) == "2"


def test_multiplied_and_excluded_lines(clocked_till):
    clocked_till.update_settings({"excluded_skus": "POST"})
    set_programme(
        clocked_till,
        earning={
            "sku_multipliers": {"COF1": "3"},
            "excluded_categories": ["GIFT CARDS"],
        },
    )
    member = enrol(clocked_till)
    lines = [
        BasketLine("COF1", 250),
        BasketLine("BREAD", 1000, "bakery"),
        BasketLine("GC25", 2500, "Gift  cards"),
        BasketLine("POST", 399),
    ]
    result = sale(clocked_till, member, 4149, lines=lines)
    assert result.points_earned == 17  # 2.50 x3 + 10.00 = 17.50, toward zero
    assert entries(clocked_till, member.id) == [("earn", 17, None)]


def test_bonus_period_in_shop_time_zone(clocked_till, clock):
    clocked_till.update_settings({"timezone": "Europe/London"})
    set_programme(
        clocked_till,
        bonus_periods=[
            {"name": "Breakfast", "multiplier": "2", "start_time": "08:00",
             "end_time": "10:00"}
        ],
    )  # fmt: skip
    member = enrol(clocked_till)
    # 07:30 UTC on 31 March 2025 is 08:30 in London (summer time).
    clock.current = datetime(2025, 3, 31, 7, 30, tzinfo=UTC)
    assert sale(clocked_till, member, 1000).points_earned == 20
    # 09:30 UTC is 10:30 in London, after the period.
    clock.current = datetime(2025, 3, 31, 9, 30, tzinfo=UTC)
    assert sale(clocked_till, member, 1000).points_earned == 10


def test_tier_multiplier_from_ledger(clocked_till, clock):
    set_programme(
        clocked_till,
        tiers={"levels": [{"name": "Silver", "threshold": 100, "multiplier": "1.5"}]},
    )
    member = enrol(clocked_till)
    assert sale(clocked_till, member, 10_000).points_earned == 100
    clock.advance(minutes=5)
    assert sale(clocked_till, member, 1000).points_earned == 15


def test_birthday_bonus_once_per_year(clocked_till, clock):
    set_programme(clocked_till, earning={"birthday_bonus": 50})
    member = enrol(clocked_till)
    set_member_extras(clocked_till, member.id, birthday="03-02")
    first = sale(clocked_till, member, 1000)
    assert first.points_earned == 60
    clock.advance(days=1)
    assert sale(clocked_till, member, 1000).points_earned == 10
    kinds = [e[0] for e in entries(clocked_till, member.id)]
    assert kinds.count("bonus") == 1


def test_sale_marked_to_earn_nothing(clocked_till):
    member = enrol(clocked_till)
    result = sales.record_sale(
        clocked_till, sales.SaleRequest(member.id, 5000, earns=False)
    )
    assert result.points_earned == 0
    assert ledger_sum(clocked_till, member.id) == 0
    steps = dict(explain_sale(clocked_till, result.sale_id).steps)
    assert steps["marked to earn nothing"] == "yes"


def test_earning_before_discount_setting(clocked_till):
    set_programme(clocked_till, earning={"basis": "before_discount"})
    member = enrol(clocked_till)
    with clocked_till.db.atomic():
        from posloyalty.services.ledger import append_entry

        append_entry(clocked_till, member.id, "adjust", 500, reason="opening")
    result = sale(clocked_till, member, 1000, redeem_points=500)
    assert result.discount_minor == 500
    assert result.points_earned == 10


def test_partial_return_uses_sale_rate(clocked_till):
    set_programme(
        clocked_till,
        tiers={"levels": [{"name": "Base", "threshold": 0, "multiplier": "1.5"}]},
    )
    member = enrol(clocked_till)
    basket = sale(clocked_till, member, 4500)
    assert basket.points_earned == 67  # 45.00 x1.5 = 67.5
    part = sales.return_sale(clocked_till, basket.sale_id, 1500)
    assert part.points_earned == -22  # keeps 30.00 x1.5 = 45 of 67
    rest = sales.return_sale(clocked_till, basket.sale_id)
    assert rest.points_earned == -45
    assert ledger_sum(clocked_till, member.id) == 0
    assert verify(clocked_till).ok


def test_explain_shows_every_step(clocked_till, clock):
    clocked_till.update_settings({"excluded_skus": "POST", "timezone": "Europe/Paris"})
    set_programme(
        clocked_till,
        earning={"sku_multipliers": {"A": "2"}},
        bonus_periods=[{"name": "Saturday", "multiplier": "2", "weekdays": [5]}],
        tiers={"levels": [{"name": "Silver", "threshold": 0, "multiplier": "1.25"}]},
    )
    member = enrol(clocked_till)
    lines = [BasketLine("A", 333), BasketLine("B", 1000), BasketLine("POST", 300)]
    result = sale(clocked_till, member, 1633, lines=lines)
    # (3.33 x2 + 10.00) x1.25 x2 = 41.65 -> 41
    assert result.points_earned == 41
    explanation = explain_sale(clocked_till, result.sale_id)
    steps = dict(explanation.steps)
    assert steps["rule version"] == str(clocked_till.settings.rule_version)
    assert steps["line A"] == "3.33 GBP x2"
    assert steps["line POST"] == "3.00 GBP, excluded (stock code POST)"
    assert steps["with line multipliers"] == "16.66 GBP"
    assert steps["tier Silver"] == "x1.25"
    assert steps["bonus period Saturday"] == "x2"
    assert steps["exact points"] == "41.65"
    assert steps["rounded toward zero"] == "41"
    assert steps["local time"].startswith("2025-03-29 13:00 Europe/Paris")
    assert explanation.matches


def test_explain_uses_the_sale_rule_version(clocked_till):
    member = enrol(clocked_till)
    result = sale(clocked_till, member, 999)
    clocked_till.update_settings({"earn_rate": "5"})
    explanation = explain_sale(clocked_till, result.sale_id)
    assert dict(explanation.steps)["rounded toward zero"] == "9"
    assert explanation.matches


def test_explain_unknown_sale_names_it(clocked_till):
    from posloyalty.services.errors import NotFoundError

    with pytest.raises(NotFoundError, match="sale 'nope' not found"):
        explain_sale(clocked_till, "nope")

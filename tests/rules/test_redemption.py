import threading
from datetime import UTC, datetime

import pytest

from ledger_helpers import enrol, entries, ledger_sum, sale
from posloyalty.services import members, sales
from posloyalty.services.errors import NotFoundError, RejectedError
from posloyalty.services.ledger import append_entry
from posloyalty.services.rewards import points_payable, redeem_reward, reward_options
from rules_helpers import set_programme

REWARDS = [
    {"code": "COFFEE", "name": "Free coffee", "kind": "free_item", "points_cost": 150,
     "value_minor": 250, "sku": "COF1", "cost_minor": 60},
    {"code": "FIVER", "name": "5.00 off", "kind": "amount_off", "points_cost": 400,
     "value_minor": 500},
    {"code": "TENPC", "name": "10% off", "kind": "percent_off", "points_cost": 800,
     "percent": "10", "min_tier": "Gold"},
    {"code": "XMAS", "name": "Christmas gift", "kind": "amount_off", "points_cost": 100,
     "value_minor": 300, "valid_from": "2025-12-01", "valid_until": "2025-12-24"},
]  # fmt: skip
GOLD = {"levels": [{"name": "Gold", "threshold": 5000}]}


def give(ctx, member, points):
    with ctx.db.atomic():
        append_entry(ctx, member.id, "adjust", points, reason="opening balance")


@pytest.fixture
def shop(clocked_till):
    set_programme(clocked_till, rewards=REWARDS, tiers=GOLD)
    return clocked_till


def test_options_list_affordable_and_next(shop):
    member = enrol(shop)
    give(shop, member, 420)
    options = reward_options(shop, member.id)
    assert [r.code for r in options.affordable] == ["COFFEE", "FIVER"]
    assert options.next_reward is None  # TENPC needs Gold, XMAS is out of date
    give(shop, member, -200)
    options = reward_options(shop, member.id)
    assert [r.code for r in options.affordable] == ["COFFEE"]
    assert options.next_reward.code == "FIVER"
    assert options.points_to_next == 180


def test_reward_outside_dates_rejected(shop, clock):
    member = enrol(shop)
    give(shop, member, 500)
    with pytest.raises(RejectedError, match="offered from 2025-12-01"):
        redeem_reward(shop, member.id, "xmas")
    clock.current = datetime(2025, 12, 2, 12, tzinfo=UTC)
    result = redeem_reward(shop, member.id, "xmas")
    assert result.balance == 400


def test_reward_above_tier_rejected(shop):
    member = enrol(shop)
    give(shop, member, 1000)
    with pytest.raises(RejectedError, match="tier Gold and above"):
        redeem_reward(shop, member.id, "TENPC")
    assert members.get_member(shop, member.id).balance == 1000


def test_reward_beyond_balance_writes_nothing(shop):
    member = enrol(shop)
    give(shop, member, 30)
    before = entries(shop, member.id)
    with pytest.raises(RejectedError, match="not enough points"):
        redeem_reward(shop, member.id, "COFFEE")
    with pytest.raises(RejectedError, match="not enough points"):
        sales.redeem_points(shop, member.id, 31)
    assert entries(shop, member.id) == before
    assert members.get_member(shop, member.id).balance == 30


def test_unknown_reward_names_catalogue(shop):
    member = enrol(shop)
    with pytest.raises(NotFoundError, match="the catalogue has COFFEE, FIVER"):
        redeem_reward(shop, member.id, "TEA")


def test_reward_with_sale_discounts_basket(shop):
    member = enrol(shop)
    give(shop, member, 500)
    result = sales.record_sale(
        shop, sales.SaleRequest(member.id, 2000, reward_code="FIVER")
    )
    assert result.discount_minor == 500
    assert result.points_redeemed == 400
    assert result.points_earned == 15  # earned on the 15.00 paid in money
    assert result.balance == 115
    refund = sales.return_sale(shop, result.sale_id)
    assert refund.balance == 500
    assert ledger_sum(shop, member.id) == 500


def test_minimum_balance_policy(shop):
    set_programme(shop, redemption={"minimum_balance": 200})
    member = enrol(shop)
    give(shop, member, 150)
    with pytest.raises(RejectedError, match="at least 200"):
        sales.redeem_points(shop, member.id, 50)
    assert points_payable(shop, member.id, 10_000) == 0
    assert reward_options(shop, member.id).affordable == ()
    give(shop, member, 50)
    assert sales.redeem_points(shop, member.id, 50).balance == 150


def test_max_basket_share_policy(shop):
    set_programme(shop, redemption={"max_basket_share": "50"})
    member = enrol(shop)
    give(shop, member, 5000)
    assert points_payable(shop, member.id, 2000) == 1000
    with pytest.raises(RejectedError, match="redeem at most 1000 points"):
        sale(shop, member, 2000, redeem_points=1001)
    result = sale(shop, member, 2000, redeem_points=1000)
    assert result.discount_minor == 1000
    assert result.points_earned == 10


def test_partial_payment_and_refund_restore_balance(shop):
    shop.update_settings({"point_value": "0.10"})
    member = enrol(shop)
    give(shop, member, 100)
    paid = sale(shop, member, 1000, redeem_points=50)
    assert paid.discount_minor == 500
    assert paid.points_earned == 5
    refund = sales.return_sale(shop, paid.sale_id)
    assert refund.balance == 100
    given_back = [e for e in entries(shop, member.id) if e[0] == "reverse" and e[1] > 0]
    assert [e[1] for e in given_back] == [50]


def test_full_balance_pays_large_basket(shop):
    shop.update_settings({"point_value": "0.03"})
    member = enrol(shop)
    give(shop, member, 3030)
    result = sale(shop, member, 300_000, redeem_points=3030)
    assert result.discount_minor == 9090
    assert result.balance == result.points_earned


def test_pending_points_not_spendable(shop, clock):
    set_programme(shop, earning={"pending_days": 14})
    member = enrol(shop)
    sale(shop, member, 20_000)
    options = reward_options(shop, member.id)
    assert options.spendable == 0
    with pytest.raises(RejectedError, match="200 more are pending"):
        redeem_reward(shop, member.id, "COFFEE")
    clock.advance(days=15)
    assert reward_options(shop, member.id).spendable == 200
    assert redeem_reward(shop, member.id, "COFFEE").balance == 50


def test_two_threads_take_same_reward(shop):
    member = enrol(shop)
    give(shop, member, 200)
    barrier = threading.Barrier(2)
    outcomes = []

    def take():
        barrier.wait()
        try:
            redeem_reward(shop, member.id, "COFFEE")
            outcomes.append("ok")
        except RejectedError as error:
            outcomes.append(str(error))
        finally:
            shop.db.close()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1
    assert ledger_sum(shop, member.id) == 50

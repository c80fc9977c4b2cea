"""Household wallets through the services: shared balance, per-card history."""

import threading
from datetime import timedelta

import pytest

from ledger_helpers import enrol, entries, ledger_sum, sale
from posloyalty.services import members, sales, sync_status
from posloyalty.services.engagement import set_member_extras
from posloyalty.services.errors import InvalidInputError, RejectedError
from posloyalty.services.expiry import run_expiry
from posloyalty.services.household import wallet_of
from posloyalty.services.ledger import append_entry, verify
from posloyalty.services.loyalty import loyalty_status, receipt_loyalty_block
from posloyalty.services.manager import overdrawn_members
from posloyalty.services.rewards import points_payable, redeem_reward, reward_options
from rules_helpers import set_programme

REWARDS = [
    {"code": "COFFEE", "name": "Free coffee", "kind": "free_item", "points_cost": 150,
     "value_minor": 250, "sku": "COF1", "cost_minor": 60},
    {"code": "TENPC", "name": "10% off", "kind": "percent_off", "points_cost": 100,
     "percent": "10", "min_tier": "Gold"},
]  # fmt: skip
TIERS = {"period_months": 12, "levels": [{"name": "Gold", "threshold": 100}]}


def give(ctx, member, points):
    with ctx.db.atomic():
        append_entry(ctx, member.id, "adjust", points, reason="opening balance")


@pytest.fixture
def family(clocked_till):
    """Ann and Bob share the wallet ``SMITH``; Cat spends alone."""
    ann = enrol(clocked_till, "Ann Smith", "07700 900001")
    bob = enrol(clocked_till, "Bob Smith", "07700 900002")
    cat = enrol(clocked_till, "Cat Jones", "07700 900003")
    set_member_extras(clocked_till, ann.id, household_id="SMITH")
    set_member_extras(clocked_till, bob.id, household_id=" SMITH ")
    return clocked_till, ann, bob, cat


def balance(ctx, member):
    return members.get_member(ctx, member.id).balance


def test_wallet_sums_members_balances(family):
    ctx, ann, bob, cat = family
    give(ctx, ann, 100)
    give(ctx, bob, 50)
    give(ctx, cat, 70)
    wallet = wallet_of(ctx, bob.id)
    assert wallet.household_id == "SMITH"
    assert wallet.is_shared
    assert wallet.balance == 150
    assert [m.member_id for m in wallet.members] == [ann.id, bob.id]
    alone = wallet_of(ctx, cat.id)
    assert not alone.is_shared
    assert alone.balance == 70


def test_redeem_beyond_own_balance_from_wallet(family):
    ctx, ann, bob, _cat = family
    give(ctx, ann, 100)
    give(ctx, bob, 50)
    result = sales.redeem_points(ctx, bob.id, 120)
    assert result.balance == -70
    assert balance(ctx, bob) == -70
    assert balance(ctx, ann) == 100
    assert wallet_of(ctx, ann.id).balance == 30
    # Each entry stays with the card that caused it.
    assert entries(ctx, ann.id) == [("adjust", 100, None)]
    assert entries(ctx, bob.id) == [("adjust", 50, None), ("redeem", -120, None)]
    assert verify(ctx).ok
    # Bob is below zero but the wallet is not: nobody is listed for a manager.
    assert overdrawn_members(ctx) == []
    with pytest.raises(RejectedError, match="the household wallet has 30 to spend"):
        sales.redeem_points(ctx, ann.id, 31)
    assert wallet_of(ctx, ann.id).balance == 30


def test_sale_pays_with_wallet_points(family):
    ctx, ann, bob, _cat = family
    give(ctx, ann, 300)
    result = sale(ctx, bob, 1000, redeem_points=200)
    assert result.points_redeemed == 200
    assert result.balance == result.points_earned - 200
    assert balance(ctx, bob) == result.balance
    assert wallet_of(ctx, ann.id).balance == 300 - 200 + result.points_earned
    with pytest.raises(RejectedError, match="the household wallet has"):
        sale(ctx, bob, 100_000, redeem_points=500)


def test_rewards_and_payable_use_wallet_and_household_tier(family):
    ctx, ann, bob, cat = family
    set_programme(ctx, rewards=REWARDS, tiers=TIERS)
    sale(ctx, ann, 6000)
    sale(ctx, bob, 6000)
    sale(ctx, cat, 6000)
    # 60 points each: the household qualifies together for Gold (100).
    assert loyalty_status(ctx, bob.id).tier.tier.name == "Gold"
    assert loyalty_status(ctx, cat.id).tier.tier is None
    options = reward_options(ctx, bob.id)
    assert options.spendable == 120
    assert [r.code for r in options.affordable] == ["TENPC"]
    assert options.next_reward.code == "COFFEE"
    assert options.points_to_next == 30
    assert points_payable(ctx, bob.id, 100_000) == 120
    taken = redeem_reward(ctx, bob.id, "TENPC")
    assert taken.balance == -40
    assert wallet_of(ctx, ann.id).balance == 20
    with pytest.raises(RejectedError, match="tier Gold and above"):
        redeem_reward(ctx, cat.id, "TENPC")


def test_two_threads_two_cards_one_succeeds(family):
    ctx, ann, bob, _cat = family
    give(ctx, ann, 60)
    give(ctx, bob, 60)
    barrier = threading.Barrier(2)
    outcomes = []

    def take(member):
        barrier.wait()
        try:
            sales.redeem_points(ctx, member.id, 80)
            outcomes.append("ok")
        except RejectedError as error:
            outcomes.append(str(error))
        finally:
            ctx.db.close()

    threads = [threading.Thread(target=take, args=(m,)) for m in (ann, bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1
    rejected = [text for text in outcomes if text != "ok"]
    assert "the household wallet has 40 to spend" in rejected[0]
    assert wallet_of(ctx, ann.id).balance == 40
    assert ledger_sum(ctx, ann.id) + ledger_sum(ctx, bob.id) == 40
    assert verify(ctx).ok


def test_return_of_sale_paid_from_wallet(family):
    ctx, ann, bob, _cat = family
    give(ctx, ann, 500)
    paid = sale(ctx, bob, 5000, redeem_points=300)
    assert wallet_of(ctx, ann.id).balance == 500 - 300 + paid.points_earned
    returned = sales.return_sale(ctx, paid.sale_id)
    assert returned.points_redeemed == -300
    assert returned.points_earned == -paid.points_earned
    assert balance(ctx, bob) == 0
    assert balance(ctx, ann) == 500
    assert wallet_of(ctx, bob.id).balance == 500
    assert verify(ctx).ok


def test_wallet_below_zero_is_flagged(family):
    ctx, ann, bob, _cat = family
    earned = sale(ctx, ann, 10_000)
    sales.redeem_points(ctx, bob.id, earned.points_earned)
    sales.return_sale(ctx, earned.sale_id)
    assert balance(ctx, ann) == 0
    assert wallet_of(ctx, ann.id).is_overdrawn
    assert [m.id for m in overdrawn_members(ctx)] == [bob.id]


def test_household_of_one_behaves_alone(family):
    ctx, _ann, _bob, cat = family
    set_member_extras(ctx, cat.id, household_id="JONES")
    give(ctx, cat, 40)
    assert not wallet_of(ctx, cat.id).is_shared
    with pytest.raises(RejectedError, match="the member has 40 to spend"):
        sales.redeem_points(ctx, cat.id, 41)
    block = receipt_loyalty_block(ctx, cat.id)
    assert block.wallet_balance is None
    assert block.is_empty


def test_leaving_household_ends_sharing(family):
    ctx, ann, bob, _cat = family
    give(ctx, ann, 100)
    set_member_extras(ctx, bob.id, household_id="")
    with pytest.raises(RejectedError, match="the member has 0 to spend"):
        sales.redeem_points(ctx, bob.id, 1)
    assert not wallet_of(ctx, ann.id).is_shared


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("SMI\x07TH", r"control character U\+0007", id="control"),
        pytest.param("H" * 65, "at most 64 characters", id="long"),
    ],
)
def test_household_id_rejected(family, value, fragment):
    ctx, ann, _bob, _cat = family
    with pytest.raises(InvalidInputError, match=fragment):
        set_member_extras(ctx, ann.id, household_id=value)
    assert wallet_of(ctx, ann.id).household_id == "SMITH"


def test_expiry_replays_wallet_as_one_ledger(family, clock):
    ctx, ann, bob, _cat = family
    set_programme(ctx, expiry_months=12)
    give(ctx, ann, 100)
    clock.advance(days=30)
    give(ctx, bob, 50)
    # Bob's redemption uses up the wallet's oldest points, which Ann earned.
    sales.redeem_points(ctx, bob.id, 30)
    day = (clock.current + timedelta(days=340)).date()
    report = run_expiry(ctx, day)
    assert report.points == 70
    assert entries(ctx, ann.id)[-1] == ("expire", -70, None)
    assert wallet_of(ctx, ann.id).balance == 50
    assert run_expiry(ctx, day).points == 0
    assert verify(ctx).ok


def test_expiry_skips_points_spent_by_other_card(family, clock):
    ctx, ann, bob, _cat = family
    set_programme(ctx, expiry_months=12)
    give(ctx, ann, 100)
    sales.redeem_points(ctx, bob.id, 100)
    report = run_expiry(ctx, (clock.current + timedelta(days=400)).date())
    assert report.points == 0
    assert wallet_of(ctx, ann.id).balance == 0


def test_offline_cap_counts_whole_household(family):
    ctx, ann, bob, _cat = family
    give(ctx, ann, 500)
    ctx.update_settings({"offline_redeem_cap": "100", "offline_cap_after_hours": "24",
                         "server_url": "http://127.0.0.1:9", "server_token": "t"})  # fmt: skip
    sales.redeem_points(ctx, ann.id, 60)
    assert sync_status.offline_redeem_allowance(ctx, bob.id) == 40
    with pytest.raises(RejectedError, match="may redeem at most 40 more points"):
        sales.redeem_points(ctx, bob.id, 50)
    with pytest.raises(RejectedError, match="may redeem at most 40 more points"):
        sale(ctx, bob, 10_000, redeem_points=50)
    assert wallet_of(ctx, bob.id).balance == 440

import threading

import pytest

from ledger_helpers import enrol, entries, ledger_sum, sale
from posloyalty.services import members, sales
from posloyalty.services.errors import InvalidInputError, RejectedError
from posloyalty.services.ledger import append_entry, verify


def test_sale_earns_rounded_points(till):
    member = enrol(till)
    result = sale(till, member, 999)
    assert result.points_earned == 9
    assert result.balance == 9
    assert members.get_member(till, member.id).balance == 9
    assert ledger_sum(till, member.id) == 9


def test_full_refund_reverses_points(till):
    member = enrol(till)
    first = sale(till, member, 3000)
    assert first.balance == 30
    refund = sales.return_sale(till, first.sale_id)
    assert refund.points_earned == -30
    assert refund.balance == 0
    kinds = entries(till, member.id)
    assert kinds[-1][0] == "reverse"
    assert kinds[-1][1] == -30
    assert kinds[-1][2] is not None


def test_partial_return_takes_back_returned_part(till):
    member = enrol(till)
    basket = sale(till, member, 4500)
    assert basket.balance == 45
    partial = sales.return_sale(till, basket.sale_id, 1500)
    assert partial.points_earned == -15
    assert partial.balance == 30
    rest = sales.return_sale(till, basket.sale_id)
    assert rest.points_earned == -30
    assert rest.balance == 0
    with pytest.raises(RejectedError, match="already returned"):
        sales.return_sale(till, basket.sale_id)


def test_return_over_remaining_rejected(till):
    member = enrol(till)
    basket = sale(till, member, 4500)
    sales.return_sale(till, basket.sale_id, 1500)
    with pytest.raises(InvalidInputError, match="at most 30.00"):
        sales.return_sale(till, basket.sale_id, 3001)
    assert members.get_member(till, member.id).balance == 30


def test_refund_of_sale_paid_partly_with_points(till):
    till.update_settings({"point_value": "0.10"})
    member = enrol(till)
    append_entry_with_transaction(till, member.id, 100)
    paid = sale(till, member, 1000, redeem_points=50)
    assert paid.discount_minor == 500
    assert paid.points_earned == 5
    assert paid.balance == 55
    refund = sales.return_sale(till, paid.sale_id)
    assert refund.balance == 100
    redeem_reversals = [
        e for e in entries(till, member.id) if e[0] == "reverse" and e[1] > 0
    ]
    assert [e[1] for e in redeem_reversals] == [50]
    with pytest.raises(RejectedError):
        sales.return_sale(till, paid.sale_id)
    assert ledger_sum(till, member.id) == 100


def append_entry_with_transaction(ctx, member_id, points):
    with ctx.db.atomic():
        append_entry(ctx, member_id, "adjust", points, reason="opening balance")


def test_refund_after_points_spent_goes_negative(till):
    member = enrol(till)
    basket = sale(till, member, 1500)
    sales.redeem_points(till, member.id, 15)
    refund = sales.return_sale(till, basket.sale_id)
    assert refund.balance == -15
    shown = members.get_member(till, member.id)
    assert shown.balance == -15
    assert shown.is_overdrawn
    assert ledger_sum(till, member.id) == -15
    assert verify(till).ok


def test_redeem_adjusted_points_writes_one_entry(till):
    member = enrol(till)
    append_entry_with_transaction(till, member.id, 80)
    result = sale(till, member, 2000, redeem_points=50)
    redeems = [e for e in entries(till, member.id) if e[0] == "redeem"]
    assert redeems == [("redeem", -50, None)]
    assert result.balance == 80 - 50 + result.points_earned


def test_redeem_beyond_balance_writes_nothing(till):
    member = enrol(till)
    append_entry_with_transaction(till, member.id, 30)
    before = entries(till, member.id)
    with pytest.raises(RejectedError, match="not enough points"):
        sales.redeem_points(till, member.id, 31)
    with pytest.raises(RejectedError, match="not enough points"):
        sale(till, member, 10_000, redeem_points=50)
    assert entries(till, member.id) == before
    assert members.get_member(till, member.id).balance == 30


def test_full_balance_redeemed_against_large_basket(till):
    till.update_settings({"point_value": "0.03"})
    member = enrol(till)
    append_entry_with_transaction(till, member.id, 3030)
    result = sale(till, member, 300_000, redeem_points=3030)
    assert result.points_redeemed == 3030
    assert result.discount_minor == 9090
    # Points are earned on what was paid in money: 3000.00 - 90.90.
    assert result.points_earned == 2909
    assert result.balance == 2909


def test_points_worth_more_than_sale_rejected(till):
    member = enrol(till)
    append_entry_with_transaction(till, member.id, 5000)
    with pytest.raises(RejectedError, match="redeem at most 1000 points"):
        sale(till, member, 1000, redeem_points=1001)


def test_two_threads_redeem_same_points(till):
    member = enrol(till)
    append_entry_with_transaction(till, member.id, 100)
    barrier = threading.Barrier(2)
    outcomes = []

    def redeem():
        barrier.wait()
        try:
            sales.redeem_points(till, member.id, 80)
            outcomes.append("ok")
        except RejectedError as error:
            outcomes.append(str(error))
        finally:
            till.db.close()

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0].startswith("not enough points")
    assert outcomes.count("ok") == 1
    assert members.get_member(till, member.id).balance == 20
    assert ledger_sum(till, member.id) == 20


def test_sale_amount_must_be_positive(till):
    member = enrol(till)
    with pytest.raises(InvalidInputError, match="more than 0"):
        sale(till, member, 0)

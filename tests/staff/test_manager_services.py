"""Adjustments, reversals and undo of redemptions, through the services."""

import pytest

from ledger_helpers import enrol, entries, ledger_sum, sale
from posloyalty.services import manager, members, sales
from posloyalty.services.errors import InvalidInputError, NotFoundError, RejectedError
from posloyalty.services.ledger import verify
from posloyalty.services.manager import ApprovalRequiredError
from posloyalty.services.staff import PermissionDeniedError
from staff_helpers import audit_rows, creds


def adjust(ctx, member, points, reason="goodwill", **kwargs):
    return manager.adjust_balance(
        ctx, member.id, points, reason, creds("Alice"), **kwargs
    )


def balance(ctx, member):
    return members.get_member(ctx, member.id).balance


def test_adjustment_writes_adjust_entry_with_reason(shop):
    member = enrol(shop)
    result = adjust(shop, member, 80, note="parcel  arrived late")
    assert result.balance == 80
    assert result.reason == "goodwill: parcel arrived late"
    row = shop.db.execute_sql(
        "SELECT kind, points, staff, reason FROM ledger_entry WHERE id = ?",
        (result.entry_id,),
    ).fetchone()
    assert row == ("adjust", 80, "Alice", "goodwill: parcel arrived late")
    audit = audit_rows(shop, "adjust")[0]
    assert audit[0] == "Alice"
    assert audit[2] == member.id
    assert audit[4] == "goodwill: parcel arrived late"


def test_redemption_after_adjustment_writes_one_entry(shop):
    member = enrol(shop)
    adjust(shop, member, 80)
    redeemed = sales.redeem_points(shop, member.id, 50)
    assert redeemed.balance == 30
    assert [(kind, points) for kind, points, _ in entries(shop, member.id)] == [
        ("adjust", 80),
        ("redeem", -50),
    ]
    assert balance(shop, member) == 30


def test_redemption_beyond_balance_is_rejected(shop):
    member = enrol(shop)
    adjust(shop, member, 30)
    with pytest.raises(RejectedError, match="the member has 30"):
        sales.redeem_points(shop, member.id, 31)
    with pytest.raises(RejectedError, match="the member has 30"):
        sale(shop, member, 10_000, redeem_points=50)
    assert len(entries(shop, member.id)) == 1
    assert balance(shop, member) == 30


@pytest.mark.parametrize(
    "reason",
    [pytest.param("", id="empty"), pytest.param("because", id="not-listed")],
)
def test_adjustment_needs_listed_reason(shop, reason):
    member = enrol(shop)
    with pytest.raises(InvalidInputError, match="use one of goodwill, correction"):
        adjust(shop, member, 10, reason=reason)
    assert entries(shop, member.id) == []


def test_adjustment_reasons_are_configurable(shop):
    member = enrol(shop)
    shop.update_settings({"adjust_reasons": "Birthday, Staff error"})
    assert manager.adjust_reasons(shop) == ["birthday", "staff error"]
    assert adjust(shop, member, 10, reason="Staff  Error").reason == "staff error"
    with pytest.raises(InvalidInputError):
        adjust(shop, member, 10, reason="goodwill")


def test_zero_adjustment_is_rejected(shop):
    member = enrol(shop)
    with pytest.raises(InvalidInputError, match="invalid adjustment of 0 points"):
        adjust(shop, member, 0)


def test_adjustment_cannot_take_balance_below_zero(shop):
    member = enrol(shop)
    adjust(shop, member, 30)
    with pytest.raises(RejectedError, match="take away at most 30"):
        adjust(shop, member, -31, reason="correction")
    assert balance(shop, member) == 30


def test_adjustment_above_limit_needs_second_manager(shop):
    member = enrol(shop)
    with pytest.raises(
        ApprovalRequiredError, match="above the 500 a manager"
    ) as caught:
        adjust(shop, member, 600)
    assert caught.value.limit == 500
    with pytest.raises(RejectedError, match="cannot approve their own"):
        adjust(shop, member, 600, second=creds("Alice"))
    with pytest.raises(PermissionDeniedError):
        adjust(shop, member, 600, second=creds("Bob"))
    assert entries(shop, member.id) == []

    result = adjust(shop, member, 600, second=creds("Dave"))
    assert result.approved_by == "Dave"
    assert '"approved_by": "Dave"' in audit_rows(shop, "adjust")[0][5]


def test_limit_follows_role_and_settings(shop):
    member = enrol(shop)
    assert adjust(shop, member, 500).balance == 500
    shop.update_settings({"adjust_limit_manager": "100"})
    with pytest.raises(ApprovalRequiredError):
        adjust(shop, member, -101, reason="correction")
    admin = manager.adjust_balance(shop, member.id, 4000, "goodwill", creds("Carol"))
    assert admin.approved_by is None


def test_full_reversal_restores_balance(shop):
    member = enrol(shop)
    adjust(shop, member, 7)
    recorded = sale(shop, member, 3000)
    assert recorded.balance == 37
    result = manager.reverse_sale(shop, recorded.sale_id, creds("Alice"))
    assert result.points == -30
    assert result.balance == 7
    reverse = entries(shop, member.id)[-1]
    assert reverse[0] == "reverse"
    assert reverse[1] == -30
    assert reverse[2] is not None
    assert verify(shop).ok


def test_reversal_after_partial_return_takes_only_the_rest(shop):
    member = enrol(shop)
    basket = sale(shop, member, 4500)
    returned = sales.return_sale(shop, basket.sale_id, 1500)
    assert returned.balance == 30
    result = manager.reverse_sale(shop, basket.sale_id, creds("Alice"))
    assert result.points == -30
    assert result.balance == 0
    assert ledger_sum(shop, member.id) == 0


def test_reversal_of_paid_with_points_gives_back_once(shop):
    shop.update_settings({"point_value": "0.10"})
    member = enrol(shop)
    adjust(shop, member, 100)
    paid = sale(shop, member, 1000, redeem_points=50)
    assert paid.points_earned == 5
    assert paid.balance == 55

    result = manager.reverse_sale(shop, paid.sale_id, creds("Alice"))
    assert result.balance == 100
    points = [points for _, points, _ in entries(shop, member.id)]
    assert points == [100, -50, 5, 50, -5]
    assert points.count(-50) == 1
    with pytest.raises(RejectedError, match="nothing left to reverse"):
        manager.reverse_sale(shop, paid.sale_id, creds("Alice"))
    assert len(entries(shop, member.id)) == 5


def test_reversal_of_spent_points_goes_below_zero_flagged(shop):
    member = enrol(shop)
    earned = sale(shop, member, 1500)
    assert earned.balance == 15
    sales.redeem_points(shop, member.id, 15)

    result = manager.reverse_sale(shop, earned.sale_id, creds("Alice"))
    assert result.points == -15
    assert result.balance == -15
    assert result.is_overdrawn
    assert [m.id for m in manager.overdrawn_members(shop)] == [member.id]
    assert '"overdrawn": true' in audit_rows(shop, "reverse_sale")[0][5]
    assert ledger_sum(shop, member.id) == -15
    assert verify(shop).ok


def test_reverse_rejects_returns_and_unknown_sales(shop):
    member = enrol(shop)
    basket = sale(shop, member, 2000)
    refund = sales.return_sale(shop, basket.sale_id)
    with pytest.raises(RejectedError, match="is a return"):
        manager.reverse_sale(shop, refund.sale_id, creds("Alice"))
    with pytest.raises(NotFoundError, match="sale 'nope' not found"):
        manager.reverse_sale(shop, "nope", creds("Alice"))


def test_cashier_cannot_reverse_sale(shop):
    member = enrol(shop)
    basket = sale(shop, member, 2000)
    with pytest.raises(PermissionDeniedError):
        manager.reverse_sale(shop, basket.sale_id, creds("Bob"))
    assert balance(shop, member) == 20


def test_reverse_redemption_gives_points_back(shop):
    member = enrol(shop)
    adjust(shop, member, 80)
    sales.redeem_points(shop, member.id, 50)
    redeem_id = shop.db.execute_sql(
        "SELECT id FROM ledger_entry WHERE kind = 'redeem'"
    ).fetchone()[0]
    result = manager.reverse_redemption(shop, redeem_id, creds("Dave"))
    assert result.points == 50
    assert result.balance == 80
    with pytest.raises(RejectedError, match="already reversed"):
        manager.reverse_redemption(shop, redeem_id, creds("Dave"))


def test_reverse_redemption_of_sale_points_to_the_sale(shop):
    member = enrol(shop)
    adjust(shop, member, 80)
    paid = sale(shop, member, 1000, redeem_points=50)
    redeem_id = shop.db.execute_sql(
        "SELECT id FROM ledger_entry WHERE kind = 'redeem'"
    ).fetchone()[0]
    expected = f"was payment on sale {paid.sale_id}: reverse the sale"
    with pytest.raises(RejectedError, match=expected):
        manager.reverse_redemption(shop, redeem_id, creds("Dave"))


def test_cashier_undoes_redemption_within_minutes(shop, clock):
    member = enrol(shop)
    adjust(shop, member, 80)
    sales.redeem_points(shop, member.id, 50)
    clock.advance(minutes=4)
    result = manager.undo_last_redemption(shop, member.id, creds("Bob"))
    assert result.points == 50
    assert result.balance == 80
    assert audit_rows(shop, "undo_redemption")[0][0] == "Bob"
    with pytest.raises(RejectedError, match="already undone"):
        manager.undo_last_redemption(shop, member.id, creds("Bob"))


def test_undo_after_window_needs_manager(shop, clock):
    member = enrol(shop)
    adjust(shop, member, 80)
    sales.redeem_points(shop, member.id, 50)
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(RejectedError, match="more than 5 minutes ago"):
        manager.undo_last_redemption(shop, member.id, creds("Bob"))
    assert balance(shop, member) == 30


def test_undo_of_sale_redemption_reverses_the_sale(shop):
    shop.update_settings({"point_value": "0.10"})
    member = enrol(shop)
    adjust(shop, member, 100)
    sale(shop, member, 1000, redeem_points=50)
    result = manager.undo_last_redemption(shop, member.id, creds("Bob"))
    assert result.points == 45
    assert result.balance == 100
    assert verify(shop).ok


def test_undo_without_redemption_is_not_found(shop):
    member = enrol(shop)
    with pytest.raises(NotFoundError, match="no redemption at Till 1"):
        manager.undo_last_redemption(shop, member.id, creds("Bob"))


@pytest.mark.parametrize(
    "note",
    [
        pytest.param("late \x1b[2J", id="escape"),
        pytest.param("order \u202e123", id="bidi-override"),
        pytest.param("x" * 501, id="too-long"),
    ],
)
def test_adjust_reason_text_checked(shop, note):
    member = enrol(shop)
    with pytest.raises(InvalidInputError, match="invalid reason"):
        manager.adjust_balance(
            shop, member.id, 10, "goodwill", creds("Alice"), note=note
        )
    assert entries(shop, member.id) == []

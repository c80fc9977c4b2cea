"""A card scanned into a form field, and returns chosen from the member's sales."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from posloyalty.services import sales
from posloyalty.storage import models
from till_helpers import balance_of, entries_of, sales_of, scan


def _sale(qtbot, window, amount: str) -> None:
    count = len(window.recorder.sales)
    window.amount_input.setFocus()
    qtbot.keyClicks(window.amount_input, amount)
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.recorder.sales) == count + 1, timeout=5000)


@pytest.mark.parametrize(
    ("key", "field_name", "typed"),
    [
        (Qt.Key.Key_F2, "points_input", "5"),
        (Qt.Key.Key_F3, "amount_input", ""),
        (Qt.Key.Key_F4, "phone_input", "07700"),
    ],
    ids=["redeem", "return", "enrol"],
)
@pytest.mark.parametrize("terminator", ["\r", "\t", ""], ids=["cr", "tab", "none"])
def test_scan_into_form_field_attaches_member(
    qtbot, make_window, key_clock, enrol, lookups, key, field_name, typed, terminator
):
    window = make_window(key_clock=key_clock)
    first = enrol("Ada Lovelace", "07700 900001")
    second = enrol("Grace Hopper", "07700 900002")
    window.attach(first)
    _sale(qtbot, window, "40.00")
    [sale] = sales_of(first.id)

    qtbot.keyClick(window.amount_input, key)
    form = window.forms.currentWidget()
    field = getattr(form, field_name)
    assert window.forms.isVisible()
    field.setFocus()
    field.clear_input()
    qtbot.keyClicks(field, typed)
    key_clock.advance(2.0)  # the cashier stopped typing; the scan comes later
    lookups.clear()

    scan(qtbot, field, second.card_number, terminator)

    qtbot.waitUntil(
        lambda: window.member is not None and window.member.id == second.id,
        timeout=2000,
    )
    assert lookups == [second.card_number]
    assert not window.forms.isVisible()
    assert field.text() == typed
    assert window.focusWidget() is window.amount_input
    # The earlier sale stays; the form recorded nothing.
    assert [s.id for s in sales_of(first.id)] == [sale.id]
    assert [e.kind for e in entries_of(first.id)] == ["earn"]
    assert balance_of(first.id) == 40
    assert models.Sale.select().count() == 1
    assert models.Member.select().count() == 2
    assert window.member_panel.name_label.text() == "Grace Hopper"


def test_typed_form_field_still_submits(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    window.attach(member)
    _sale(qtbot, window, "30.00")

    qtbot.keyClick(window.amount_input, Qt.Key.Key_F2)
    qtbot.keyClicks(window.redeem_form.points_input, "12")
    qtbot.keyClick(window.redeem_form.points_input, Qt.Key.Key_Return)

    qtbot.waitUntil(
        lambda: "Redeemed 12 points" in window.message_area.text(), timeout=5000
    )
    assert balance_of(member.id) == 18
    assert window.member.id == member.id
    assert not window.forms.isVisible()


def test_return_offers_sale_that_earned_nothing(qtbot, window, till, enrol):
    till.update_settings({"minimum_spend": "20.00"})
    member = enrol("Ada Lovelace", "07700 900001")
    window.attach(member)
    _sale(qtbot, window, "5.00")
    _sale(qtbot, window, "25.00")
    small, large = sorted(sales_of(member.id), key=lambda sale: sale.amount_minor)
    assert [e.points for e in entries_of(member.id)] == [25]
    # The history lists ledger entries only, so the small sale has no row there.
    assert window.history_table.rowCount() == 1

    qtbot.keyClick(window.amount_input, Qt.Key.Key_F3)
    form = window.return_form
    assert window.forms.currentWidget() is form
    assert [choice.sale_id for choice in form.choices] == [large.id, small.id]
    assert form.sale_id == large.id
    assert form.amount_input.text() == "25.00"
    assert form.sale_list.count() == 2

    qtbot.keyClick(form.amount_input, Qt.Key.Key_Down)
    assert form.sale_id == small.id
    assert form.amount_input.text() == "5.00"
    assert "£5.00" in form.sale_label.text()
    assert window.focusWidget() is form.amount_input
    qtbot.keyClick(form.amount_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "Return of £5.00 recorded" in window.message_area.text())
    returns = models.Sale.select().where(models.Sale.original_sale == small.id)
    assert [r.amount_minor for r in returns] == [-500]
    assert balance_of(member.id) == 25
    assert sales.get_sale(window.ctx, small.id).returned_minor == 500

    # A sale returned in full is no longer offered.
    qtbot.keyClick(window.amount_input, Qt.Key.Key_F3)
    assert [choice.sale_id for choice in form.choices] == [large.id]


def test_return_without_sales_explains(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    window.attach(member)

    qtbot.keyClick(window.amount_input, Qt.Key.Key_F3)

    assert "No sale to return" in window.message_area.text()
    assert window.message_area.level == "error"
    assert not window.forms.isVisible()


def test_recent_sales_lists_newest_first(till, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    first = sales.record_sale(till, sales.SaleRequest(member.id, 1000))
    second = sales.record_sale(till, sales.SaleRequest(member.id, 2000))
    sales.return_sale(till, second.sale_id, 500)

    listed = sales.recent_sales(till, member.id)

    assert [view.id for view in listed] == [second.sale_id, first.sale_id]
    assert [view.returned_minor for view in listed] == [500, 0]
    assert [view.points_earned for view in listed] == [20, 10]
    assert sales.recent_sales(till, member.id, limit=1)[0].id == second.sale_id

"""Garbage typed into the till window, and keys pressed in odd orders."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from posloyalty.services.ledger import verify
from till_helpers import balance_of, entries_of, press, sales_of


def _attach(qtbot, window, member) -> None:
    press(qtbot, window.scan_input, member.card_number + "\r")
    qtbot.waitUntil(lambda: window.member is not None and window.member.id == member.id)


def _submit_scan(qtbot, window, text: str) -> None:
    window.scan_input.setFocus()
    press(qtbot, window.scan_input, text)
    qtbot.keyClick(window.scan_input, Qt.Key.Key_Return)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\x02\x1d\x03", id="control-only"),
        pytest.param("'; DROP TABLE member; --", id="sql"),
        pytest.param("%_%", id="like-wildcards"),
        pytest.param("x" * 3000, id="very-long"),
        pytest.param("\u202e", id="rtl-override"),
        pytest.param("²" * 22, id="superscript-card-length"),
    ],
)
def test_scan_garbage_attaches_nobody(qtbot, window, enrol, text):
    member = enrol("Ada Lovelace", "07700 900001")

    _submit_scan(qtbot, window, text)
    qtbot.wait(50)

    assert window.member is None
    assert len(window.message_area.text()) < 300
    assert "Something went wrong" not in window.message_area.text()
    assert balance_of(member.id) == 0


def test_phone_in_arabic_indic_digits(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")

    _submit_scan(qtbot, window, "٠٧٧٠٠ ٩٠٠٠٠١")

    qtbot.waitUntil(lambda: window.member is not None)
    assert window.member.id == member.id


def test_huge_amount_records_nothing(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach(qtbot, window, member)

    press(qtbot, window.amount_input, "99999999999999999")
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)

    assert "the largest amount is" in window.message_area.text()
    assert window.message_area.level == "error"
    assert sales_of(member.id) == []


@pytest.mark.parametrize("points", ["²", "-1", "1.5", "", "abc"])
def test_redeem_rejects_points(qtbot, window, enrol, points):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach(qtbot, window, member)
    window.actions_.open_redeem()

    window.redeem_form.points_input.setText(points)
    qtbot.keyClick(window.redeem_form.points_input, Qt.Key.Key_Return)

    assert "Invalid points" in window.message_area.text()
    assert window.message_area.level == "error"
    assert entries_of(member.id) == []


def test_redeem_arabic_indic_points(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach(qtbot, window, member)
    window.amount_input.setFocus()
    press(qtbot, window.amount_input, "50\r")
    qtbot.waitUntil(lambda: len(sales_of(member.id)) == 1, timeout=5000)
    window.actions_.open_redeem()

    window.redeem_form.points_input.setText("١٢")
    qtbot.keyClick(window.redeem_form.points_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: balance_of(member.id) == 38, timeout=5000)


def test_escape_during_sale_keeps_it(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach(qtbot, window, member)

    press(qtbot, window.amount_input, "5")
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Escape)
    qtbot.keyClick(window.scan_input, Qt.Key.Key_Escape)

    qtbot.waitUntil(lambda: len(window.recorder.sales) == 1, timeout=5000)
    assert window.member is None
    assert "Sale of £5.00 recorded" in window.message_area.text()
    assert len(sales_of(member.id)) == 1
    assert balance_of(member.id) == 5
    assert verify(window.ctx).ok


def test_return_pressed_twice_records_one_sale(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach(qtbot, window, member)

    press(qtbot, window.amount_input, "5")
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.recorder.sales) == 1, timeout=5000)
    qtbot.wait(200)

    assert len(sales_of(member.id)) == 1
    assert balance_of(member.id) == 5

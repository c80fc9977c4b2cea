"""Scanner input reaching the window: framing, terminators, layouts, idle gaps."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from posloyalty.domain.cards import luhn_check_digit
from till_helpers import (
    AZERTY_DIGITS,
    press,
    press_to_focus,
    sales_of,
    scan,
)


def _corrupt(card: str) -> str:
    """Change the check digit so the number fails Luhn."""
    wrong = str((int(card[-1]) + 1) % 10)
    assert wrong != luhn_check_digit(card[:-1])
    return card[:-1] + wrong


@pytest.mark.parametrize(
    ("prefix", "middle", "suffix"),
    [
        pytest.param("\x02", "", "\r", id="stx-cr"),
        pytest.param("\x02", "\x1d", "\r", id="stx-gs-inside-cr"),
        pytest.param("]Q1", "", "\r", id="aim-qr"),
        pytest.param("]C1", "", "\r", id="aim-gs1"),
        pytest.param("", "", "\t", id="tab"),
    ],
)
def test_framed_scan_attaches_member_once(
    qtbot, window, enrol, lookups, prefix, middle, suffix
):
    member = enrol("Ada Lovelace", "07700 900001")
    card = member.card_number
    payload = prefix + card[:10] + middle + card[10:]

    scan(qtbot, window.scan_input, payload, suffix)

    qtbot.waitUntil(lambda: window.member is not None, timeout=2000)
    assert len(lookups) == 1
    assert window.member.id == member.id
    assert [m.id for m in window.recorder.attached] == [member.id]
    assert window.member_panel.name_label.text() == "Ada Lovelace"
    assert window.focusWidget() is window.amount_input
    assert window.scan_input.text() == ""


@pytest.mark.parametrize(
    "prefix", ["]Q1", "]C1", ""], ids=["aim-qr", "aim-gs1", "bare"]
)
def test_failed_check_digit_is_not_readable(qtbot, window, enrol, lookups, prefix):
    member = enrol("Ada Lovelace", "07700 900001")

    scan(qtbot, window.scan_input, prefix + _corrupt(member.card_number), "\r")

    qtbot.waitUntil(lambda: "card not readable" in window.message_area.text())
    assert window.member is None
    assert window.recorder.attached == []
    assert window.message_area.level == "error"
    assert len(lookups) == 1


@pytest.mark.parametrize("terminator", ["\r\n", "\r\r"], ids=["cr-lf", "cr-cr"])
def test_repeated_terminator_after_sale_is_one_lookup(
    qtbot, window, enrol, lookups, terminator
):
    first = enrol("Ada Lovelace", "07700 900001")
    second = enrol("Grace Hopper", "07700 900002")
    window.attach(first)
    qtbot.keyClicks(window.amount_input, "10.00")
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.recorder.sales) == 1, timeout=5000)
    lookups.clear()

    # Each key goes where the focus is, as a scanner's keys do.
    press_to_focus(qtbot, window, second.card_number)
    qtbot.waitUntil(lambda: window.focusWidget().text() == second.card_number)
    press_to_focus(qtbot, window, terminator)
    qtbot.waitUntil(lambda: window.member is not None and window.member.id == second.id)
    qtbot.wait(50)  # let any stray terminator reach the amount field

    assert len(lookups) == 1
    assert [m.id for m in window.recorder.attached][-1] == second.id
    assert len(window.recorder.attached) == 2
    assert len(window.recorder.sales) == 1
    assert len(sales_of(first.id)) == 1
    assert sales_of(second.id) == []
    assert window.amount_input.text() == ""


@pytest.mark.parametrize("terminator", ["\r\n", "\r\r"], ids=["cr-lf", "cr-cr"])
def test_scan_into_open_sale_attaches_without_sale(
    qtbot, make_window, key_clock, enrol, lookups, terminator
):
    window = make_window(key_clock=key_clock)
    first = enrol("Ada Lovelace", "07700 900001")
    second = enrol("Grace Hopper", "07700 900002")
    window.attach(first)
    qtbot.keyClicks(window.amount_input, "12.50")
    key_clock.advance(2.0)  # the cashier stopped typing; a scan comes later

    scan(qtbot, window.amount_input, second.card_number, terminator)

    qtbot.waitUntil(lambda: window.member is not None and window.member.id == second.id)
    assert len(lookups) == 1
    assert window.recorder.sales == []
    assert sales_of(first.id) == []
    assert sales_of(second.id) == []
    assert window.amount_input.text() == ""
    assert window.focusWidget() is window.amount_input


def test_empty_submit_is_ignored(qtbot, window, lookups):
    press(qtbot, window.scan_input, "\r\r\t")
    qtbot.keyClick(window.scan_input, Qt.Key.Key_Enter)

    assert lookups == []
    assert window.member is None
    assert window.message_area.text() == ""


def test_framing_without_payload_is_ignored(qtbot, window):
    press(qtbot, window.scan_input, "\x02\x1d\r")

    assert window.member is None
    assert window.message_area.text() == ""
    assert window.choice_list.isHidden()


def test_scan_without_terminator_submits_after_pause(qtbot, window, enrol, lookups):
    member = enrol("Ada Lovelace", "07700 900001")

    press(qtbot, window.scan_input, member.card_number)

    qtbot.waitUntil(lambda: window.member is not None, timeout=2000)
    assert window.member.id == member.id
    assert len(lookups) == 1


def test_typing_gives_no_lookup_per_key(qtbot, window, enrol, lookups):
    enrol("Ada Lovelace", "07700 900001")

    press(qtbot, window.scan_input, "07700 900001")
    qtbot.wait(300)  # longer than the idle gap: a phone is not submitted alone

    assert lookups == []
    assert window.member is None
    qtbot.keyClick(window.scan_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.member is not None)
    assert len(lookups) == 1


def test_azerty_payload_is_mapped_to_digits(qtbot, window, enrol, lookups):
    member = enrol("Ada Lovelace", "07700 900001")
    typed = "".join(AZERTY_DIGITS[digit] for digit in member.card_number)

    scan(qtbot, window.scan_input, typed, "\r")

    qtbot.waitUntil(lambda: window.member is not None)
    assert window.member.id == member.id
    assert lookups == [typed]


def test_azerty_short_payload_reports_layout(qtbot, window, enrol, lookups):
    enrol("Ada Lovelace", "07700 900001")
    typed = "".join(AZERTY_DIGITS[digit] for digit in "07700900001")

    scan(qtbot, window.scan_input, typed, "\r")

    qtbot.waitUntil(lambda: "keyboard layout" in window.message_area.text())
    assert window.member is None
    assert window.message_area.level == "error"


def test_azerty_scan_into_amount_field(qtbot, window, enrol, lookups):
    first = enrol("Ada Lovelace", "07700 900001")
    second = enrol("Grace Hopper", "07700 900002")
    window.attach(first)
    typed = "".join(AZERTY_DIGITS[digit] for digit in second.card_number)

    scan(qtbot, window.amount_input, typed, "\r")

    qtbot.waitUntil(lambda: window.member.id == second.id)
    assert len(lookups) == 1
    assert sales_of(first.id) == []


def test_framed_scan_into_amount_field(qtbot, window, enrol, lookups):
    first = enrol("Ada Lovelace", "07700 900001")
    second = enrol("Grace Hopper", "07700 900002")
    window.attach(first)

    scan(qtbot, window.amount_input, "]Q1" + second.card_number, "\r")

    qtbot.waitUntil(lambda: window.member.id == second.id)
    assert len(lookups) == 1
    assert sales_of(first.id) == []


def test_scan_into_amount_field_without_terminator(qtbot, window, enrol, lookups):
    first = enrol("Ada Lovelace", "07700 900001")
    second = enrol("Grace Hopper", "07700 900002")
    window.attach(first)

    press(qtbot, window.amount_input, second.card_number)

    qtbot.waitUntil(lambda: window.member.id == second.id, timeout=2000)
    assert len(lookups) == 1
    assert sales_of(first.id) == []


def test_unknown_genuine_card_says_sync(qtbot, window, till, lookups):
    card = till.keyring.issue()

    scan(qtbot, window.scan_input, card, "\r")

    qtbot.waitUntil(lambda: "not known at this till" in window.message_area.text())
    assert window.member is None
    assert card not in window.message_area.text()

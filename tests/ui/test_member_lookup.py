"""Finding a member by phone or name from the scan input."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from posloyalty.services import members
from till_helpers import press


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        pytest.param("07700 900 123", "07700900123", id="national-stored-compact"),
        pytest.param("07700 900 123", "07700-900-123", id="national-stored-dashes"),
        pytest.param("+44 7700 900123", "07700 900123", id="international-national"),
        pytest.param("+44 7700 900123", "447700900123", id="international-no-plus"),
        pytest.param("+44 7700 900123", "+44 (0)7700 900123", id="international-0"),
    ],
)
def test_phone_in_any_form_finds_member(qtbot, window, enrol, lookups, stored, typed):
    member = enrol("Ada Lovelace", stored)

    press(qtbot, window.scan_input, typed)
    qtbot.keyClick(window.scan_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: window.member is not None)
    assert window.member.id == member.id
    assert window.member_panel.name_label.text() == "Ada Lovelace"
    assert "+447700900123" in window.member_panel.details_label.text()
    assert lookups == [typed]


def test_unknown_phone_is_reported(qtbot, window, enrol):
    enrol("Ada Lovelace", "07700 900123")

    press(qtbot, window.scan_input, "07700 900999\r")

    qtbot.waitUntil(lambda: "no member with phone" in window.message_area.text())
    assert window.member is None


def test_shared_phone_offers_choice(qtbot, window, enrol):
    first = enrol("Sam Household", "+44 7700 900456")
    second = enrol("Alex Household", "+44 7700 900456")

    press(qtbot, window.scan_input, "07700 900456\r")

    qtbot.waitUntil(lambda: window.choice_list.isVisible())
    assert window.member is None
    assert window.recorder.attached == []
    assert window.choice_list.count() == 2
    assert "2 members share this phone" in window.message_area.text()
    assert window.focusWidget() is window.choice_list
    names = [window.choice_list.item(row).text() for row in range(2)]
    assert names[0].startswith("Alex Household")
    assert names[1].startswith("Sam Household")

    qtbot.keyClick(window.choice_list, Qt.Key.Key_Down)
    qtbot.keyClick(window.choice_list, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: window.member is not None)
    assert window.member.id == first.id
    assert second.id not in [m.id for m in window.recorder.attached]
    assert window.choice_list.isHidden()
    assert window.focusWidget() is window.amount_input


def test_typing_in_choice_list_goes_to_scan_input(qtbot, window, enrol):
    enrol("Sam Household", "+44 7700 900456")
    enrol("Alex Household", "+44 7700 900456")
    press(qtbot, window.scan_input, "07700 900456\r")
    qtbot.waitUntil(lambda: window.focusWidget() is window.choice_list)

    qtbot.keyClicks(window.choice_list, "Sam")

    assert window.scan_input.text() == "Sam"
    assert window.focusWidget() is window.scan_input
    assert window.member is None


def test_name_search_is_debounced(qtbot, window, enrol, monkeypatch, lookups):
    enrol("Alice Smith", "07700 900001")
    enrol("Alicia Jones", "07700 900002")
    enrol("Bob Brown", "07700 900003")
    searches: list[str] = []
    real = members.search_by_name

    def counting(ctx, text, limit=20):
        searches.append(text)
        return real(ctx, text, limit)

    monkeypatch.setattr(members, "search_by_name", counting)

    qtbot.keyClicks(window.scan_input, "alic")

    qtbot.waitUntil(lambda: window.choice_list.isVisible(), timeout=2000)
    assert searches == ["alic"]
    assert lookups == []
    assert window.choice_list.count() == 2
    assert window.member is None
    assert window.focusWidget() is window.scan_input

    qtbot.keyClick(window.scan_input, Qt.Key.Key_Down)
    qtbot.keyClick(window.choice_list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.member is not None)
    assert window.member.name == "Alice Smith"


def test_name_submitted_with_one_match_attaches(qtbot, window, enrol):
    member = enrol("Bob Brown", "07700 900003")

    press(qtbot, window.scan_input, "bob\r")

    qtbot.waitUntil(lambda: window.member is not None)
    assert window.member.id == member.id

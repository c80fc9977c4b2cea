"""Sale, redeem, return, enrol, reprint and Esc through the window's keys."""

from __future__ import annotations

from PySide6.QtCore import Qt

from posloyalty.services import sales
from posloyalty.services.ledger import verify
from posloyalty.storage import models
from till_helpers import balance_of, entries_of, press, sales_of


def _attach_by_card(qtbot, window, member) -> None:
    press(qtbot, window.scan_input, member.card_number + "\r")
    qtbot.waitUntil(lambda: window.member is not None and window.member.id == member.id)


def _sale(qtbot, window, amount: str) -> None:
    count = len(window.recorder.sales)
    qtbot.keyClicks(window.amount_input, amount)
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.recorder.sales) == count + 1, timeout=5000)


def test_sale_records_points_and_balance(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)
    assert window.focusWidget() is window.amount_input

    _sale(qtbot, window, "12.50")

    [sale] = sales_of(member.id)
    assert sale.amount_minor == 1250
    assert [e.points for e in entries_of(member.id)] == [12]
    assert balance_of(member.id) == 12
    assert models.PrintJob.select().where(models.PrintJob.sale == sale.id).count() == 1
    message = window.message_area.text()
    assert "£12.50" in message
    assert "+12 points earned" in message
    assert "new balance 12 points" in message
    assert window.member_panel.balance_label.text() == "12 points"
    assert "+12" in window.member_panel.visit_label.text()
    assert window.history_table.rowCount() == 1
    assert window.focusWidget() is window.scan_input
    assert window.amount_input.text() == ""
    assert window.last_sale_id == sale.id


def test_visit_points_add_up_over_sales(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)

    _sale(qtbot, window, "10.00")
    window.amount_input.setFocus()
    _sale(qtbot, window, "5.99")

    assert balance_of(member.id) == 15
    assert "+15" in window.member_panel.visit_label.text()


def test_invalid_amount_is_rejected(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)

    qtbot.keyClicks(window.amount_input, "12,50")
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)

    assert "invalid amount '12,50'" in window.message_area.text()
    assert window.message_area.level == "error"
    assert sales_of(member.id) == []
    assert window.member.id == member.id


def test_decimal_comma_locale(qtbot, till, make_window, enrol):
    till.update_settings({"locale": "fr_FR"})
    window = make_window()
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)

    _sale(qtbot, window, "12,50")

    assert sales_of(member.id)[0].amount_minor == 1250
    assert "12,50" in window.message_area.text()
    assert "£" in window.message_area.text()


def test_sale_without_member_is_refused(qtbot, window):
    window.amount_input.setFocus()
    qtbot.keyClicks(window.amount_input, "3.00")
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)

    assert "No member" in window.message_area.text()
    assert models.Sale.select().count() == 0


def test_redeem_beyond_balance_is_refused(qtbot, window, till, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    sales.record_sale(till, sales.SaleRequest(member.id, 3000))
    _attach_by_card(qtbot, window, member)
    entries_before = len(entries_of(member.id))

    qtbot.keyClick(window.amount_input, Qt.Key.Key_F2)
    assert window.forms.currentWidget() is window.redeem_form
    assert window.focusWidget() is window.redeem_form.points_input
    qtbot.keyClicks(window.redeem_form.points_input, "31")
    qtbot.keyClick(window.redeem_form.points_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "not enough points" in window.message_area.text())
    assert window.message_area.level == "error"
    assert "Nothing was recorded" in window.message_area.text()
    assert balance_of(member.id) == 30
    assert len(entries_of(member.id)) == entries_before
    assert window.member_panel.balance_label.text() == "30 points"
    assert window.forms.isVisible()


def test_redeem_within_balance(qtbot, window, till, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    sales.record_sale(till, sales.SaleRequest(member.id, 3000))
    _attach_by_card(qtbot, window, member)

    qtbot.keyClick(window.amount_input, Qt.Key.Key_F2)
    qtbot.keyClicks(window.redeem_form.points_input, "20")
    qtbot.keyClicks(window.redeem_form.reason_input, "coffee")
    qtbot.keyClick(window.redeem_form.reason_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "Redeemed 20 points" in window.message_area.text())
    assert balance_of(member.id) == 10
    [redeem] = [e for e in entries_of(member.id) if e.kind == "redeem"]
    assert redeem.points == -20
    assert redeem.reason == "coffee"
    assert window.member_panel.balance_label.text() == "10 points"
    assert not window.forms.isVisible()


def test_redeem_rejects_non_number(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)

    qtbot.keyClick(window.amount_input, Qt.Key.Key_F2)
    qtbot.keyClicks(window.redeem_form.points_input, "ten")
    qtbot.keyClick(window.redeem_form.points_input, Qt.Key.Key_Return)

    assert "Invalid points 'ten'" in window.message_area.text()
    assert entries_of(member.id) == []


def test_partial_then_full_return(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)
    _sale(qtbot, window, "45.00")
    [sale] = sales_of(member.id)

    window.amount_input.setFocus()
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Down)
    assert window.focusWidget() is window.history_table
    qtbot.keyClick(window.history_table, Qt.Key.Key_F3)
    form = window.return_form
    assert window.forms.currentWidget() is form
    assert form.amount_input.text() == "45.00"
    form.amount_input.clear()
    qtbot.keyClicks(form.amount_input, "15.00")
    qtbot.keyClick(form.amount_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "Return of £15.00 recorded" in window.message_area.text())
    assert balance_of(member.id) == 30
    reversals = [e for e in entries_of(member.id) if e.kind == "reverse"]
    assert [e.points for e in reversals] == [-15]
    assert window.member_panel.balance_label.text() == "30 points"

    window.history_table.clearSelection()
    qtbot.keyClick(window.amount_input, Qt.Key.Key_F3)
    assert form.amount_input.text() == "30.00"
    qtbot.keyClick(form.amount_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "Return of £30.00 recorded" in window.message_area.text())
    assert balance_of(member.id) == 0
    returns = models.Sale.select().where(models.Sale.original_sale == sale.id)
    assert sorted(r.amount_minor for r in returns) == [-3000, -1500]

    qtbot.keyClick(window.amount_input, Qt.Key.Key_F3)
    assert "already returned in full" in window.message_area.text()


def test_return_beyond_remaining_is_refused(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)
    _sale(qtbot, window, "10.00")

    qtbot.keyClick(window.scan_input, Qt.Key.Key_F3)
    window.return_form.amount_input.clear()
    qtbot.keyClicks(window.return_form.amount_input, "11.00")
    qtbot.keyClick(window.return_form.amount_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "invalid return amount" in window.message_area.text())
    assert balance_of(member.id) == 10
    assert models.Sale.select().count() == 1


def test_enrol_attaches_new_member(qtbot, window, till):
    qtbot.keyClick(window.scan_input, Qt.Key.Key_F4)
    form = window.enrol_form
    assert window.focusWidget() is form.name_input
    press(qtbot, form.name_input, "Jürgen Weiß")
    qtbot.keyClicks(form.phone_input, "07700 900777")
    qtbot.keyClicks(form.email_input, "jurgen@example.com")
    qtbot.keyClick(form.consent_email, Qt.Key.Key_Space)
    qtbot.keyClick(form.consent_email, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: window.member is not None)
    stored = models.Member.get(models.Member.phone == "+447700900777")
    assert stored.name == "Jürgen Weiß"
    assert stored.email == "jurgen@example.com"
    assert stored.consent_email is True
    assert stored.consent_sms is False
    assert window.member.id == stored.id
    assert window.member_panel.name_label.text() == "Jürgen Weiß"
    assert "Enrolled Jürgen Weiß" in window.message_area.text()
    assert window.focusWidget() is window.amount_input
    assert not window.forms.isVisible()


def test_enrol_without_contact_is_refused(qtbot, window):
    qtbot.keyClick(window.scan_input, Qt.Key.Key_F4)
    qtbot.keyClicks(window.enrol_form.name_input, "No Contact")
    qtbot.keyClick(window.enrol_form.name_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "no phone and no email" in window.message_area.text())
    assert models.Member.select().count() == 0
    assert window.forms.isVisible()
    assert window.member is None


def test_escape_clears_member(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)
    qtbot.keyClicks(window.amount_input, "9.99")

    qtbot.keyClick(window.amount_input, Qt.Key.Key_Escape)

    assert window.member is None
    assert window.member_panel.name_label.text() == "No member"
    assert window.history_table.rowCount() == 0
    assert window.amount_input.text() == ""
    assert window.focusWidget() is window.scan_input
    assert sales_of(member.id) == []


def test_escape_closes_form_first(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)
    qtbot.keyClick(window.amount_input, Qt.Key.Key_F2)

    qtbot.keyClick(window.redeem_form.points_input, Qt.Key.Key_Escape)

    assert not window.forms.isVisible()
    assert window.member.id == member.id
    assert window.focusWidget() is window.amount_input


def test_reprint_without_sale_explains(qtbot, window):
    qtbot.keyClick(window.scan_input, Qt.Key.Key_F5)

    assert "No receipt to reprint" in window.message_area.text()


def test_reprint_queues_receipt_copy(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)
    _sale(qtbot, window, "4.00")

    qtbot.keyClick(window.scan_input, Qt.Key.Key_F5)

    qtbot.waitUntil(lambda: "sent to the printer again" in window.message_area.text())
    sale_id = window.last_sale_id
    jobs = models.PrintJob.select().where(models.PrintJob.sale == sale_id)
    assert jobs.count() == 2


def test_buttons_show_their_keys(window):
    buttons = {
        window.redeem_button: "F2",
        window.return_button: "F3",
        window.enrol_button: "F4",
        window.reprint_button: "F5",
        window.clear_button: "Esc",
        window.sale_button: "Enter",
    }
    for button, key in buttons.items():
        assert f"({key})" in button.text()


def test_window_size_and_status_bar(qtbot, window, till):
    assert window.width() >= 1024
    assert window.height() >= 700
    assert window.status.place_label.text() == "Main store · Till 1"
    qtbot.waitUntil(lambda: window.status.printer_label.text().startswith("Printer:"))
    assert window.status.sync_label.text().startswith(("Sync:", "Waiting to sync"))


def test_ledger_stays_consistent(qtbot, window, till, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)
    _sale(qtbot, window, "20.00")
    qtbot.keyClick(window.scan_input, Qt.Key.Key_F2)
    qtbot.keyClicks(window.redeem_form.points_input, "5")
    qtbot.keyClick(window.redeem_form.points_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Redeemed 5 points" in window.message_area.text())

    assert verify(till).ok


def test_member_panel_shows_standing(qtbot, window, enrol):
    from rules_helpers import set_programme

    set_programme(
        window.ctx,
        tiers={"levels": [{"name": "Silver", "threshold": 100}]},
        rewards=[{"code": "FIVER", "name": "5 off", "kind": "amount_off",
                  "points_cost": 50, "value_minor": 500}],
    )  # fmt: skip
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)
    standing = window.member_panel.standing_label
    assert "Tier: no tier yet, 100 points to Silver" in standing.text()
    assert "Next reward: 5 off in 50 points" in standing.text()

    _sale(qtbot, window, "60.00")
    qtbot.waitUntil(lambda: "Rewards now: 5 off" in standing.text())
    assert "40 points to Silver" in standing.text()


def test_member_panel_hides_empty_standing(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)
    assert window.member_panel.standing_label.isHidden()


def test_manager_key_adjusts_attached_member(qtbot, window, enrol, monkeypatch):
    from staff_helpers import add_people, use_fast_hasher

    use_fast_hasher(monkeypatch)
    add_people(window.ctx)
    member = enrol("Ada Lovelace", "07700 900001")
    _attach_by_card(qtbot, window, member)
    _sale(qtbot, window, "12.50")

    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_F6)
    dialog, panel = window.manager_dialog, window.manager_panel
    qtbot.waitUntil(dialog.isVisible)
    assert member.name in panel.member_label.text()
    assert panel.sale_input.text() == window.last_sale_id

    panel.points_input.setValue(30)
    panel.reason_input.setCurrentText("goodwill")
    qtbot.mouseClick(panel.adjust_button, Qt.MouseButton.LeftButton)
    pin_dialog = panel.pin_dialog
    qtbot.keyClicks(pin_dialog.name_input, "Alice")
    qtbot.keyClicks(pin_dialog.pin_input, "1234")
    qtbot.keyClick(pin_dialog.pin_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: balance_of(member.id) == 42, timeout=10_000)
    qtbot.waitUntil(lambda: window.member.balance == 42)
    assert "42 points" in window.member_panel.balance_label.text()
    assert window.member is not None
    assert [e.kind for e in entries_of(member.id)] == ["earn", "adjust"]
    assert verify(window.ctx).ok

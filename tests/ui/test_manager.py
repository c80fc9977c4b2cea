"""The PIN dialog and the manager panel, driven with pytest-qt offscreen."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from ledger_helpers import enrol, entries, sale
from posloyalty.services import manager, members, sales
from posloyalty.services.ledger import verify
from posloyalty.ui.manager import ManagerPanel, PinDialog
from posloyalty.ui.tasks import TaskRunner
from staff_helpers import add_people, creds, use_fast_hasher

WAIT_MS = 10_000


@pytest.fixture
def shop(clocked_till, monkeypatch):
    use_fast_hasher(monkeypatch)
    add_people(clocked_till)
    return clocked_till


@pytest.fixture
def runner(qtbot, shop):
    """A real task runner whose worker threads close their connections at the end."""
    task_runner = TaskRunner()
    yield task_runner
    qtbot.waitUntil(task_runner.is_idle, timeout=WAIT_MS)
    task_runner.shutdown(cleanup=shop.db.close)


@pytest.fixture
def panel(qtbot, shop, runner):
    widget = ManagerPanel(shop, runner)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def enter_pin(qtbot, dialog, name, pin):
    """Type a name and PIN into the dialog and press Enter in the PIN field."""
    dialog.name_input.clear()
    qtbot.keyClicks(dialog.name_input, name)
    qtbot.keyClicks(dialog.pin_input, pin)
    qtbot.keyClick(dialog.pin_input, Qt.Key.Key_Return)


def wait_for_message(qtbot, dialog, text):
    qtbot.waitUntil(lambda: text in dialog.message.text(), timeout=WAIT_MS)


def test_adjust_through_panel(qtbot, panel, shop):
    member = enrol(shop)
    panel.set_member(member)
    panel.points_input.setValue(80)
    panel.reason_input.setCurrentText("goodwill")
    qtbot.keyClicks(panel.note_input, "parcel late")
    qtbot.mouseClick(panel.adjust_button, Qt.MouseButton.LeftButton)
    dialog = panel.pin_dialog
    assert dialog is not None
    assert dialog.isVisible()

    with qtbot.waitSignal(panel.adjusted, timeout=WAIT_MS) as signal:
        enter_pin(qtbot, dialog, "Alice", "1234")
    result = signal.args[0]
    assert result.balance == 80
    assert result.reason == "goodwill: parcel late"
    assert not dialog.isVisible()
    assert members.get_member(shop, member.id).balance == 80
    assert "balance now 80" in panel.status.text()
    assert panel.points_input.value() == 0


def test_cashier_pin_is_refused_in_place(qtbot, panel, shop):
    member = enrol(shop)
    panel.set_member(member)
    panel.points_input.setValue(80)
    qtbot.mouseClick(panel.adjust_button, Qt.MouseButton.LeftButton)
    dialog = panel.pin_dialog

    with qtbot.assertNotEmitted(panel.adjusted):
        enter_pin(qtbot, dialog, "Bob", "5555")
        wait_for_message(qtbot, dialog, "Bob is a cashier and may not adjust")
    assert dialog.isVisible()
    assert dialog.pin_input.text() == ""
    assert entries(shop, member.id) == []


def test_wrong_pin_shows_tries_left_then_succeeds(qtbot, panel, shop):
    member = enrol(shop)
    panel.set_member(member)
    panel.points_input.setValue(25)
    qtbot.mouseClick(panel.adjust_button, Qt.MouseButton.LeftButton)
    dialog = panel.pin_dialog

    with qtbot.waitSignal(dialog.failed, timeout=WAIT_MS):
        enter_pin(qtbot, dialog, "Alice", "0000")
    assert "4 tries left" in dialog.message.text()
    assert dialog.isVisible()

    with qtbot.waitSignal(panel.adjusted, timeout=WAIT_MS):
        enter_pin(qtbot, dialog, "Alice", "1234")
    assert members.get_member(shop, member.id).balance == 25


def test_pin_field_hides_and_accepts_digits_only(qtbot, panel, shop):
    panel.set_member(enrol(shop))
    panel.points_input.setValue(5)
    qtbot.mouseClick(panel.adjust_button, Qt.MouseButton.LeftButton)
    dialog = panel.pin_dialog
    assert dialog.pin_input.echoMode() == QLineEdit.EchoMode.Password
    qtbot.keyClicks(dialog.pin_input, "12ab34567890")
    assert dialog.pin_input.text() == "12345678"


def test_short_pin_is_checked_before_any_try(qtbot, panel, shop):
    panel.set_member(enrol(shop))
    panel.points_input.setValue(5)
    qtbot.mouseClick(panel.adjust_button, Qt.MouseButton.LeftButton)
    dialog = panel.pin_dialog
    enter_pin(qtbot, dialog, "Alice", "12")
    assert "4 to 8 digits" in dialog.message.text()
    assert shop.db.execute_sql(
        "SELECT failed_pins FROM staff WHERE name = 'Alice'"
    ).fetchone() == (0,)


def test_large_adjustment_asks_second_manager_in_place(qtbot, panel, shop):
    member = enrol(shop)
    panel.set_member(member)
    panel.points_input.setValue(600)
    qtbot.mouseClick(panel.adjust_button, Qt.MouseButton.LeftButton)
    dialog = panel.pin_dialog

    with qtbot.waitSignal(dialog.failed, timeout=WAIT_MS):
        enter_pin(qtbot, dialog, "Alice", "1234")
    assert dialog.is_asking_second
    assert "a second manager must enter their PIN" in dialog.message.text()
    assert dialog.heading.text().startswith("Second manager")

    with qtbot.waitSignal(panel.adjusted, timeout=WAIT_MS) as signal:
        enter_pin(qtbot, dialog, "Dave", "2468")
    assert signal.args[0].approved_by == "Dave"
    assert signal.args[0].staff == "Alice"
    assert members.get_member(shop, member.id).balance == 600


def test_panel_checks_input_before_asking_pin(qtbot, panel, shop):
    qtbot.mouseClick(panel.adjust_button, Qt.MouseButton.LeftButton)
    assert panel.pin_dialog is None
    assert "Attach a member" in panel.status.text()
    panel.set_member(enrol(shop))
    qtbot.mouseClick(panel.adjust_button, Qt.MouseButton.LeftButton)
    assert panel.pin_dialog is None
    assert "Type the points" in panel.status.text()
    qtbot.mouseClick(panel.reverse_button, Qt.MouseButton.LeftButton)
    assert panel.pin_dialog is None
    assert "sale id" in panel.status.text()


def test_reverse_sale_through_panel(qtbot, panel, shop):
    shop.update_settings({"point_value": "0.10"})
    member = enrol(shop)
    manager.adjust_balance(shop, member.id, 100, "goodwill", creds("Alice"))
    paid = sale(shop, member, 1000, redeem_points=50)
    assert paid.balance == 55
    panel.set_member(members.get_member(shop, member.id))
    panel.set_sale(paid.sale_id)
    qtbot.mouseClick(panel.reverse_button, Qt.MouseButton.LeftButton)

    with qtbot.waitSignal(panel.reversed, timeout=WAIT_MS) as signal:
        enter_pin(qtbot, panel.pin_dialog, "Dave", "2468")
    assert signal.args[0].balance == 100
    assert members.get_member(shop, member.id).balance == 100
    assert "balance now 100" in panel.status.text()
    assert verify(shop).ok


def test_reversal_below_zero_is_flagged_on_panel(qtbot, panel, shop):
    member = enrol(shop)
    earned = sale(shop, member, 1500)
    sales.redeem_points(shop, member.id, 15)
    panel.set_sale(earned.sale_id)
    qtbot.mouseClick(panel.reverse_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.reversed, timeout=WAIT_MS):
        enter_pin(qtbot, panel.pin_dialog, "Alice", "1234")
    assert "below zero" in panel.status.text()
    assert members.get_member(shop, member.id).balance == -15


def test_cashier_undoes_redemption_on_panel(qtbot, panel, shop):
    member = enrol(shop)
    manager.adjust_balance(shop, member.id, 80, "goodwill", creds("Alice"))
    sales.redeem_points(shop, member.id, 50)
    panel.set_member(members.get_member(shop, member.id))
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.reversed, timeout=WAIT_MS):
        enter_pin(qtbot, panel.pin_dialog, "Bob", "5555")
    assert members.get_member(shop, member.id).balance == 80
    assert "balance 80" in panel.member_label.text()


def test_pin_dialog_runs_any_protected_action(qtbot, shop, runner):
    member = enrol(shop)

    def erase(first, second):
        from posloyalty.services import member_admin

        return member_admin.erase_member(shop, member.id, first)

    dialog = PinDialog("Manager PIN: erase member", erase, runner)
    qtbot.addWidget(dialog)
    dialog.open()
    with qtbot.waitSignal(dialog.succeeded, timeout=WAIT_MS):
        enter_pin(qtbot, dialog, "Carol", "97531")
    assert members.get_member(shop, member.id).name == ""
    assert not dialog.isVisible()

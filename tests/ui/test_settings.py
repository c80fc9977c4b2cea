"""The programme settings screen, opened from the till window with F7."""

import json

import pytest
from PySide6.QtCore import Qt

from ledger_helpers import sale
from posloyalty.domain.staff import Permission, Role, is_allowed
from posloyalty.services import programme, rules_settings
from posloyalty.services.errors import InvalidInputError
from posloyalty.services.head_office_rules import adopt_head_office_rules
from staff_helpers import add_people, audit_rows, use_fast_hasher

WAIT_MS = 10_000


@pytest.fixture
def shop(till, monkeypatch):
    use_fast_hasher(monkeypatch)
    add_people(till)
    return till


@pytest.fixture
def till_window(shop, make_window):
    return make_window()


def press_f7(qtbot, window):
    qtbot.keyClick(window.scan_input, Qt.Key.Key_F7)
    dialog = window.actions_.programme_pin_dialog
    assert dialog is not None
    assert dialog.isVisible()
    return dialog


def enter_pin(qtbot, dialog, name, pin):
    dialog.name_input.clear()
    qtbot.keyClicks(dialog.name_input, name)
    qtbot.keyClicks(dialog.pin_input, pin)
    qtbot.keyClick(dialog.pin_input, Qt.Key.Key_Return)


def open_settings(qtbot, window, name="Alice", pin="1234"):
    """Open the settings with F7 and a PIN; wait until the programme is shown."""
    enter_pin(qtbot, press_f7(qtbot, window), name, pin)
    qtbot.waitUntil(
        lambda: window.actions_.programme_dialog is not None, timeout=WAIT_MS
    )
    dialog = window.actions_.programme_dialog
    qtbot.waitUntil(
        lambda: dialog.snapshot is not None and not dialog.is_busy, timeout=WAIT_MS
    )
    return dialog


def replace_text(qtbot, field, text):
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClicks(field, text)


def save_and_wait(qtbot, dialog, field, text):
    """Type ``text`` into ``field``, press Enter and wait for the new snapshot."""
    replace_text(qtbot, field, text)
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS) as signal:
        qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.is_busy, timeout=WAIT_MS)
    return signal.args[0]


def wait_for_error(qtbot, dialog, text):
    qtbot.waitUntil(lambda: text in dialog.message.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not dialog.is_busy, timeout=WAIT_MS)


def rule_changes(ctx):
    """Rule changes by a person or head office, not the fixture's own set-up."""
    rows = audit_rows(ctx, "rules change")
    return [row for row in rows if row[0] is not None or "set_by" in (row[5] or "")]


def test_edit_rules_is_for_managers_only():
    assert is_allowed(Role.MANAGER, Permission.EDIT_RULES)
    assert is_allowed(Role.ADMIN, Permission.EDIT_RULES)
    assert not is_allowed(Role.CASHIER, Permission.EDIT_RULES)


def test_programme_button_label_fits(qtbot, till_window):
    till_window.resize(1024, 700)
    qtbot.waitExposed(till_window)
    button = till_window.programme_button
    assert button.text() == "Programme (F7)"
    assert button.width() >= button.sizeHint().width()


def test_manager_opens_settings_with_pin(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)

    assert dialog.isVisible()
    assert "Alice" in dialog.heading.text()
    assert dialog.earn_rate_input.text() == "1"
    assert dialog.point_value_input.text() == "0.01"
    assert not dialog.read_only_label.isVisible()
    assert till_window.actions_.programme_pin_dialog.isHidden()


def test_cashier_pin_is_rejected(qtbot, till_window, shop):
    pin_dialog = press_f7(qtbot, till_window)
    enter_pin(qtbot, pin_dialog, "Bob", "5555")
    qtbot.waitUntil(lambda: "may not" in pin_dialog.message.text(), timeout=WAIT_MS)

    assert "Bob is a cashier" in pin_dialog.message.text()
    assert "edit rules" in pin_dialog.message.text()
    assert pin_dialog.isVisible()
    assert till_window.actions_.programme_dialog is None
    denied = audit_rows(shop, "permission_denied")
    assert len(denied) == 1
    assert json.loads(denied[0][5])["action"] == "edit_rules"


def test_earn_rate_reaches_next_sale(qtbot, till_window, shop, enrol):
    member = enrol("Ann Lee")
    till_window.attach(member)
    dialog = open_settings(qtbot, till_window)
    before = shop.settings.rule_version

    snapshot = save_and_wait(qtbot, dialog, dialog.earn_rate_input, "3")

    assert snapshot.base_rule["earn_rate"] == "3"
    assert snapshot.version > before
    assert "Earning rule saved." in dialog.message.text()
    assert dialog.earn_rate_input.text() == "3"
    changes = rule_changes(shop)
    assert len(changes) == 1
    staff, _action, _member, _sale, _reason, details = changes[0]
    assert staff == "Alice"
    assert json.loads(details) == {
        "changed": ["earn_rate"],
        "version": snapshot.version,
    }

    dialog.reject()
    qtbot.keyClicks(till_window.amount_input, "10.00")
    with qtbot.waitSignal(till_window.sale_recorded, timeout=WAIT_MS) as signal:
        qtbot.keyClick(till_window.amount_input, Qt.Key.Key_Return)
    assert signal.args[0].points_earned == 30


def test_reward_added_shows_in_member_panel(qtbot, till_window, shop, enrol):
    member = enrol("Ann Lee")
    till_window.attach(member)
    dialog = open_settings(qtbot, till_window)

    qtbot.keyClicks(dialog.reward_code_input, "COFFEE")
    qtbot.keyClicks(dialog.reward_name_input, "Coffee")
    dialog.reward_kind_input.setCurrentIndex(
        dialog.reward_kind_input.findData("amount_off")
    )
    qtbot.keyClicks(dialog.reward_cost_input, "500")
    replace_text(qtbot, dialog.reward_value_input, "2.50")
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS) as signal:
        qtbot.keyClick(dialog.reward_value_input, Qt.Key.Key_Return)

    rewards = signal.args[0].rewards
    assert [reward.code for reward in rewards] == ["COFFEE"]
    assert rewards[0].value_minor == 250
    assert dialog.rewards_list.count() == 1
    assert "COFFEE" in dialog.rewards_list.item(0).text()
    assert dialog.reward_code_input.text() == ""
    panel_text = till_window.member_panel.standing_label.text()
    assert "Next reward: Coffee in 500 points" in panel_text
    (row,) = rule_changes(shop)
    assert row[0] == "Alice"


def test_reward_removed_from_list(qtbot, till_window, shop):
    item = {"code": "TEA", "name": "Tea", "kind": "amount_off", "points_cost": 200,
            "value_minor": 150}  # fmt: skip
    programme.add_item(shop, "rewards", item)
    dialog = open_settings(qtbot, till_window)
    assert dialog.rewards_list.count() == 1

    dialog.rewards_list.setCurrentRow(0)
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(dialog.remove_reward_button, Qt.MouseButton.LeftButton)

    assert signal.args[0].rewards == ()
    assert dialog.rewards_list.count() == 0
    assert programme.programme_document(shop)["rewards"] == []
    assert rule_changes(shop)[-1][0] == "Alice"


def test_tier_added_and_removed(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)

    qtbot.keyClicks(dialog.tier_name_input, "Gold")
    qtbot.keyClicks(dialog.tier_threshold_input, "1000")
    replace_text(qtbot, dialog.tier_multiplier_input, "1.5")
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS) as signal:
        qtbot.keyClick(dialog.tier_multiplier_input, Qt.Key.Key_Return)

    (tier,) = signal.args[0].tiers
    assert (tier.name, tier.threshold, str(tier.multiplier)) == ("Gold", 1000, "1.5")
    assert "Gold" in dialog.tiers_list.item(0).text()

    dialog.tiers_list.setCurrentRow(0)
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(dialog.remove_tier_button, Qt.MouseButton.LeftButton)
    assert signal.args[0].tiers == ()
    assert dialog.tiers_list.count() == 0
    assert len(rule_changes(shop)) == 2


def test_invalid_earn_rate_rejected_in_place(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)
    before = shop.settings.rule_version
    with pytest.raises(InvalidInputError) as expected:
        rules_settings.change_base_rule(shop, {"earn_rate": "lots"})

    replace_text(qtbot, dialog.earn_rate_input, "lots")
    qtbot.keyClick(dialog.earn_rate_input, Qt.Key.Key_Return)
    wait_for_error(qtbot, dialog, "Nothing was saved")

    assert str(expected.value) in dialog.message.text()
    assert dialog.isVisible()
    assert dialog.earn_rate_input.text() == "lots"
    assert dialog.earn_rate_input.hasFocus()
    assert shop.reload_settings().rule_version == before
    assert shop.settings.values["earn_rate"] == "1"
    assert rule_changes(shop) == []


def test_invalid_reward_cost_rejected_in_place(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)

    qtbot.keyClicks(dialog.reward_code_input, "COFFEE")
    qtbot.keyClicks(dialog.reward_cost_input, "-5")
    qtbot.keyClick(dialog.reward_cost_input, Qt.Key.Key_Return)

    assert "Invalid points cost '-5'" in dialog.message.text()
    assert dialog.reward_cost_input.hasFocus()
    assert dialog.rewards_list.count() == 0
    assert programme.programme_document(shop)["rewards"] == []
    assert rule_changes(shop) == []


def test_invalid_tier_multiplier_rejected(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)

    qtbot.keyClicks(dialog.tier_name_input, "Gold")
    qtbot.keyClicks(dialog.tier_threshold_input, "1000")
    qtbot.keyClicks(dialog.tier_multiplier_input, "fast")
    qtbot.keyClick(dialog.tier_multiplier_input, Qt.Key.Key_Return)
    wait_for_error(qtbot, dialog, "Nothing was saved")

    assert "fast" in dialog.message.text()
    assert dialog.tiers_list.count() == 0
    assert rule_changes(shop) == []


def test_economics_shown_and_refreshed(qtbot, till_window, shop, enrol):
    sale(shop, enrol("Ann Lee"), 10_000)
    dialog = open_settings(qtbot, till_window)

    # 1 point per 1.00 at 0.01 a point gives 1.00 back per 100.00 spent.
    assert dialog.rate_label.text() == "£1.00 given back per £100.00 spent"
    assert dialog.basket_label.text() == "£25.00, earning 25 points"
    assert dialog.thresholds_label.text() == "below 0.50 or above 5.00 per 100.00"
    assert dialog.liability_label.text() == "£1.00 for 100 outstanding points"
    assert dialog.warnings_label.text() == "Within both thresholds."

    save_and_wait(qtbot, dialog, dialog.earn_rate_input, "10")

    assert dialog.rate_label.text() == "£10.00 given back per £100.00 spent"
    assert "above the high threshold 5.00" in dialog.warnings_label.text()


def test_head_office_rules_are_read_only(qtbot, till_window, shop):
    document = programme.programme_document(shop)
    version = {"version": 1_000_001, "rules": {"earn_rate": "2"}, "programme": document}
    adopt_head_office_rules(shop, [version], 1_000_001)
    shop.update_settings({"server_url": "http://127.0.0.1:9"})
    dialog = open_settings(qtbot, till_window)

    assert dialog.read_only_label.isVisible()
    assert "takes its rules from head office" in dialog.read_only_label.text()

    replace_text(qtbot, dialog.earn_rate_input, "3")
    qtbot.keyClick(dialog.earn_rate_input, Qt.Key.Key_Return)
    wait_for_error(qtbot, dialog, "Nothing was saved")

    assert "takes its rules from head office" in dialog.message.text()
    assert shop.reload_settings().values["earn_rate"] == "2"
    assert shop.settings.rule_version == 1_000_001
    (adopted,) = rule_changes(shop)
    assert json.loads(adopted[5])["set_by"] == "head office"


def test_low_threshold_change_warns(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)

    snapshot = save_and_wait(qtbot, dialog, dialog.low_rate_input, "2.00")

    assert snapshot.low_rate == "2.00"
    assert dialog.thresholds_label.text() == "below 2.00 or above 5.00 per 100.00"
    assert "below the low threshold 2.00" in dialog.warnings_label.text()
    assert programme.programme_document(shop)["economics"]["low_rate"] == "2.00"
    assert rule_changes(shop)[-1][0] == "Alice"


def test_typical_basket_change_updates_rate(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)

    snapshot = save_and_wait(qtbot, dialog, dialog.basket_input, "40.00")

    assert snapshot.typical_basket_minor == 4000
    assert dialog.basket_label.text() == "£40.00, earning 40 points"
    assert dialog.basket_input.text() == "40.00"


def test_high_below_low_rejected(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)

    replace_text(qtbot, dialog.high_rate_input, "0.10")
    qtbot.keyClick(dialog.high_rate_input, Qt.Key.Key_Return)
    wait_for_error(qtbot, dialog, "Nothing was saved")

    assert "high rate 0.10 is below the low rate 0.50" in dialog.message.text()
    assert programme.programme_document(shop)["economics"]["high_rate"] == "5.00"
    assert rule_changes(shop) == []

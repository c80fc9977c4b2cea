"""Settings pages for bonus periods, challenges, engagement, expiry, redemption."""

import json

import pytest
from PySide6.QtCore import Qt

from ledger_helpers import sale
from posloyalty.services import programme
from posloyalty.services.engagement import record_engagement
from posloyalty.services.loyalty import loyalty_status
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


def open_settings(qtbot, window, name="Alice", pin="1234"):
    """Open the settings with F7 and a PIN; wait until the programme is shown."""
    qtbot.keyClick(window.scan_input, Qt.Key.Key_F7)
    pin_dialog = window.actions_.programme_pin_dialog
    qtbot.keyClicks(pin_dialog.name_input, name)
    qtbot.keyClicks(pin_dialog.pin_input, pin)
    qtbot.keyClick(pin_dialog.pin_input, Qt.Key.Key_Return)
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


def wait_for_error(qtbot, dialog, text):
    qtbot.waitUntil(lambda: text in dialog.message.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not dialog.is_busy, timeout=WAIT_MS)


def rule_changes(ctx):
    """Rule changes made by a person, not the fixture's own set-up."""
    return [row for row in audit_rows(ctx, "rules change") if row[0] is not None]


def show_tab(dialog, title):
    for index in range(dialog.tabs.count()):
        if dialog.tabs.tabText(index) == title:
            dialog.tabs.setCurrentIndex(index)
            return
    raise AssertionError(f"no tab {title!r}")


def click_and_wait(qtbot, dialog, button):
    """Click ``button`` and return the snapshot read after the saved change."""
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_busy, timeout=WAIT_MS)
    return signal.args[0]


def click_and_expect_error(qtbot, dialog, button, text):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wait_for_error(qtbot, dialog, text)


def test_bonus_period_doubles_next_sale(qtbot, till_window, shop, enrol):
    member = enrol("Ann Lee")
    till_window.attach(member)
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Bonus periods")
    before = shop.settings.rule_version

    qtbot.keyClicks(dialog.bonus_name_input, "Double days")
    qtbot.keyClicks(dialog.bonus_multiplier_input, "2")
    snapshot = click_and_wait(qtbot, dialog, dialog.add_bonus_button)

    (period,) = snapshot.programme.bonus_periods
    assert period.name == "Double days"
    assert str(period.multiplier) == "2"
    assert snapshot.version > before
    assert dialog.bonus_list.count() == 1
    assert "Double days" in dialog.bonus_list.item(0).text()
    assert "points ×2" in dialog.bonus_list.item(0).text()
    assert dialog.bonus_name_input.text() == ""
    assert "Bonus period Double days saved." in dialog.message.text()
    assert rule_changes(shop)[-1][0] == "Alice"

    dialog.reject()
    qtbot.keyClicks(till_window.amount_input, "10.00")
    with qtbot.waitSignal(till_window.sale_recorded, timeout=WAIT_MS) as signal:
        qtbot.keyClick(till_window.amount_input, Qt.Key.Key_Return)
    assert signal.args[0].points_earned == 20


def test_bonus_period_outside_hours_ignored(qtbot, till_window, shop, enrol):
    member = enrol("Ann Lee")
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Bonus periods")

    qtbot.keyClicks(dialog.bonus_name_input, "Last year")
    qtbot.keyClicks(dialog.bonus_multiplier_input, "3")
    qtbot.keyClicks(dialog.bonus_from_input, "2000-01-01")
    qtbot.keyClicks(dialog.bonus_until_input, "2000-01-31")
    qtbot.keyClicks(dialog.bonus_days_input, "sat,sun")
    qtbot.keyClicks(dialog.bonus_start_input, "09:00")
    qtbot.keyClicks(dialog.bonus_end_input, "12:00")
    snapshot = click_and_wait(qtbot, dialog, dialog.add_bonus_button)

    (period,) = snapshot.programme.bonus_periods
    assert period.weekdays == (5, 6)
    assert str(period.start_date) == "2000-01-01"
    assert str(period.end_time) == "12:00:00"
    text = dialog.bonus_list.item(0).text()
    assert "2000-01-01 to 2000-01-31" in text
    assert "sat,sun" in text
    assert "09:00–12:00" in text
    assert sale(shop, member, 1000).points_earned == 10


def test_bonus_period_removed(qtbot, till_window, shop):
    item = {"name": "Double days", "multiplier": "2"}
    programme.add_item(shop, "bonus_periods", item)
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Bonus periods")
    assert dialog.bonus_list.count() == 1

    dialog.bonus_list.setCurrentRow(0)
    snapshot = click_and_wait(qtbot, dialog, dialog.remove_bonus_button)

    assert snapshot.programme.bonus_periods == ()
    assert dialog.bonus_list.count() == 0
    assert programme.programme_document(shop)["bonus_periods"] == []
    assert rule_changes(shop)[-1][0] == "Alice"


def test_bonus_multiplier_below_one_rejected(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Bonus periods")
    before = shop.settings.rule_version

    qtbot.keyClicks(dialog.bonus_name_input, "Half days")
    qtbot.keyClicks(dialog.bonus_multiplier_input, "0.5")
    click_and_expect_error(qtbot, dialog, dialog.add_bonus_button, "Nothing was saved")

    assert "invalid bonus multiplier '0.5': use 1 or more" in dialog.message.text()
    assert dialog.bonus_name_input.text() == "Half days"
    assert dialog.bonus_list.count() == 0
    assert shop.reload_settings().rule_version == before
    assert rule_changes(shop) == []


def test_bonus_weekday_rejected_in_place(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Bonus periods")

    qtbot.keyClicks(dialog.bonus_name_input, "Fun days")
    qtbot.keyClicks(dialog.bonus_multiplier_input, "2")
    qtbot.keyClicks(dialog.bonus_days_input, "sat,funday")
    qtbot.mouseClick(dialog.add_bonus_button, Qt.MouseButton.LeftButton)

    assert "invalid weekday 'funday'" in dialog.message.text()
    assert dialog.bonus_days_input.hasFocus()
    assert programme.programme_document(shop)["bonus_periods"] == []
    assert rule_changes(shop) == []


def test_challenge_added_shows_progress(qtbot, till_window, shop, enrol):
    member = enrol("Ann Lee")
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Challenges")

    qtbot.keyClicks(dialog.challenge_code_input, "spend20")
    qtbot.keyClicks(dialog.challenge_name_input, "Spend 20.00 a month")
    dialog.challenge_goal_input.setCurrentIndex(
        dialog.challenge_goal_input.findData("spend")
    )
    qtbot.keyClicks(dialog.challenge_target_input, "20.00")
    qtbot.keyClicks(dialog.challenge_bonus_input, "200")
    snapshot = click_and_wait(qtbot, dialog, dialog.add_challenge_button)

    (challenge,) = snapshot.programme.challenges
    assert challenge.code == "SPEND20"
    assert challenge.goal == "spend"
    assert challenge.target == 2000
    assert challenge.period == "month"
    assert challenge.bonus == 200
    text = dialog.challenges_list.item(0).text()
    assert "SPEND20" in text
    assert "spend £20.00 a month" in text
    assert rule_changes(shop)[-1][0] == "Alice"

    sale(shop, member, 1500)
    (status,) = loyalty_status(shop, member.id).challenges
    assert status.code == "SPEND20"
    assert status.progress == 1500
    assert status.target == 2000
    assert not status.completed


def test_challenge_removed(qtbot, till_window, shop):
    item = {"code": "VISITS5", "name": "Five visits", "goal": "visits",
            "target": 5, "period": "month", "bonus": 100}  # fmt: skip
    programme.add_item(shop, "challenges", item)
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Challenges")

    dialog.challenges_list.setCurrentRow(0)
    snapshot = click_and_wait(qtbot, dialog, dialog.remove_challenge_button)

    assert snapshot.programme.challenges == ()
    assert dialog.challenges_list.count() == 0
    assert "Challenge VISITS5 removed." in dialog.message.text()
    assert programme.programme_document(shop)["challenges"] == []


def test_challenge_bonus_text_rejected(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Challenges")

    qtbot.keyClicks(dialog.challenge_code_input, "VISITS5")
    qtbot.keyClicks(dialog.challenge_target_input, "5")
    qtbot.keyClicks(dialog.challenge_bonus_input, "lots")
    click_and_expect_error(
        qtbot, dialog, dialog.add_challenge_button, "Nothing was saved"
    )

    assert "invalid challenge bonus 'lots'" in dialog.message.text()
    assert dialog.challenge_code_input.text() == "VISITS5"
    assert dialog.challenges_list.count() == 0
    assert rule_changes(shop) == []


def test_remove_without_selection_rejected(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Challenges")

    qtbot.mouseClick(dialog.remove_challenge_button, Qt.MouseButton.LeftButton)

    assert dialog.message.text() == "Select a challenge to remove."
    assert rule_changes(shop) == []


def test_engagement_value_pays_review(qtbot, till_window, shop, enrol):
    member = enrol("Ann Lee")
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Engagement")

    dialog.engagement_kind_input.setCurrentIndex(
        dialog.engagement_kind_input.findData("review")
    )
    qtbot.keyClicks(dialog.engagement_points_input, "50")
    qtbot.keyClicks(dialog.engagement_cap_input, "2")
    dialog.engagement_period_input.setCurrentIndex(
        dialog.engagement_period_input.findData("week")
    )
    snapshot = click_and_wait(qtbot, dialog, dialog.set_engagement_button)

    (value,) = snapshot.programme.engagement
    assert (value.kind, value.points, value.cap, value.period) == (
        "review",
        50,
        2,
        "week",
    )
    assert "review  ·  50 points  ·  at most 2 a week" in (
        dialog.engagement_list.item(0).text()
    )
    assert rule_changes(shop)[-1][0] == "Alice"

    assert record_engagement(shop, member.id, "review", "r1").points == 50


def test_engagement_value_removed(qtbot, till_window, shop):
    item = {"kind": "survey", "points": 20, "cap": 0, "period": "month"}
    programme.add_item(shop, "engagement", item)
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Engagement")
    assert "no cap" in dialog.engagement_list.item(0).text()

    dialog.engagement_list.setCurrentRow(0)
    snapshot = click_and_wait(qtbot, dialog, dialog.remove_engagement_button)

    assert snapshot.programme.engagement == ()
    assert dialog.engagement_list.count() == 0
    assert programme.programme_document(shop)["engagement"] == []


def test_engagement_zero_points_rejected(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Engagement")

    qtbot.keyClicks(dialog.engagement_points_input, "0")
    click_and_expect_error(
        qtbot, dialog, dialog.set_engagement_button, "Nothing was saved"
    )

    assert "invalid engagement points 0: use a whole number from 1" in (
        dialog.message.text()
    )
    assert dialog.engagement_list.count() == 0
    assert programme.programme_document(shop)["engagement"] == []
    assert rule_changes(shop) == []


def test_expiry_shown_in_rules_list(qtbot, till_window, shop, cli):
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Expiry and redemption")
    assert dialog.expiry_label.text() == "never"

    replace_text(qtbot, dialog.expiry_months_input, "12")
    snapshot = click_and_wait(qtbot, dialog, dialog.save_expiry_button)

    assert snapshot.programme.expiry_months == 12
    assert dialog.expiry_label.text() == "12 months"
    assert "Expiry saved." in dialog.message.text()
    assert rule_changes(shop)[-1][0] == "Alice"
    dialog.reject()

    result = cli("rules", "list")
    assert result.exit_code == 0
    document = json.loads(result.stdout.split("\n", 1)[1])
    assert document["expiry_months"] == 12
    assert result.stdout.startswith(f"rule_version={snapshot.version}\n")


def test_negative_expiry_rejected(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Expiry and redemption")

    replace_text(qtbot, dialog.expiry_months_input, "-1")
    click_and_expect_error(
        qtbot, dialog, dialog.save_expiry_button, "Nothing was saved"
    )

    assert "invalid expiry months -1" in dialog.message.text()
    assert dialog.expiry_label.text() == "never"
    assert programme.programme_document(shop)["expiry_months"] == 0
    assert rule_changes(shop) == []


def test_redemption_policy_saved(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Expiry and redemption")

    replace_text(qtbot, dialog.minimum_balance_input, "500")
    replace_text(qtbot, dialog.max_share_input, "50")
    snapshot = click_and_wait(qtbot, dialog, dialog.save_redemption_button)

    policy = snapshot.programme.redemption
    assert policy.minimum_balance == 500
    assert str(policy.max_basket_share) == "50"
    assert dialog.redemption_label.text() == (
        "redeem from 500 points; points pay at most 50% of a basket"
    )
    stored = programme.programme_document(shop)["redemption"]
    assert stored["minimum_balance"] == 500
    assert rule_changes(shop)[-1][0] == "Alice"


def test_basket_share_over_100_rejected(qtbot, till_window, shop):
    dialog = open_settings(qtbot, till_window)
    show_tab(dialog, "Expiry and redemption")

    replace_text(qtbot, dialog.max_share_input, "150")
    click_and_expect_error(
        qtbot, dialog, dialog.save_redemption_button, "Nothing was saved"
    )

    assert "invalid maximum basket share 150" in dialog.message.text()
    assert dialog.max_share_input.text() == "150"
    assert programme.programme_document(shop)["redemption"]["max_basket_share"] == "100"
    assert rule_changes(shop) == []

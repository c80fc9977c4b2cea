"""The till's member panel shows the household wallet a member spends from."""

import pytest

from ledger_helpers import enrol
from posloyalty.services import members, sales
from posloyalty.services.engagement import set_member_extras
from posloyalty.services.ledger import append_entry


@pytest.fixture
def window(qtbot, till):
    from posloyalty.ui.window import TillWindow

    window = TillWindow(till)
    qtbot.addWidget(window)
    window.show()
    window.start()
    yield window
    window.close()


def test_panel_shows_wallet_not_member_flag(qtbot, window, till):
    ann = enrol(till, "Ann Smith", "07700 900001")
    bob = enrol(till, "Bob Smith", "07700 900002")
    cat = enrol(till, "Cat Jones", "07700 900003")
    for member in (ann, bob):
        set_member_extras(till, member.id, household_id="SMITH")
    with till.db.atomic():
        append_entry(till, ann.id, "adjust", 300, reason="opening balance")
        append_entry(till, cat.id, "adjust", -5, reason="correction")
    sales.redeem_points(till, bob.id, 120)

    panel = window.member_panel
    window.attach(members.get_member(till, bob.id))
    assert panel.balance_label.text() == "-120 points"
    assert panel.wallet_label.isVisible()
    assert "Household wallet: 180 points, 2 cards" in panel.wallet_label.text()
    assert "below zero" not in panel.wallet_label.text()

    # A member who spends alone keeps the flag on their own balance.
    window.attach(members.get_member(till, cat.id))
    assert not panel.wallet_label.isVisible()
    assert "below zero" in panel.balance_label.text()

    window.attach(members.get_member(till, ann.id))
    assert panel.balance_label.text() == "300 points"
    assert "180 points" in panel.wallet_label.text()


def test_return_warns_only_when_wallet_below_zero(qtbot, window, till):
    from PySide6.QtCore import Qt

    ann = enrol(till, "Ann Smith", "07700 900001")
    bob = enrol(till, "Bob Smith", "07700 900002")
    for member in (ann, bob):
        set_member_extras(till, member.id, household_id="SMITH")
    sales.record_sale(till, sales.SaleRequest(bob.id, 3000))
    small = sales.record_sale(till, sales.SaleRequest(ann.id, 500))
    sales.redeem_points(till, ann.id, 20)  # Ann -15, wallet 15

    window.attach(members.get_member(till, ann.id))
    qtbot.keyClick(window.scan_input, Qt.Key.Key_F3)
    form = window.return_form
    qtbot.waitUntil(lambda: form.sale_id == small.sale_id)
    qtbot.keyClick(form.amount_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "Return of" in window.message_area.text())
    assert members.get_member(till, ann.id).balance == -20
    assert "below zero" not in window.message_area.text()

"""The till window's layout at its minimum size."""

from __future__ import annotations

from posloyalty.ui.window import MIN_HEIGHT, MIN_WIDTH


def test_buttons_fit_minimum_window(qtbot, window):
    window.resize(MIN_WIDTH, MIN_HEIGHT)
    qtbot.waitUntil(lambda: window.width() == MIN_WIDTH)

    buttons = (
        window.sale_button,
        window.redeem_button,
        window.return_button,
        window.enrol_button,
        window.reprint_button,
        window.manager_button,
        window.clear_button,
    )
    for button in buttons:
        assert button.width() >= button.sizeHint().width(), button.text()

"""Typing into the till window like a scanner or a cashier, and reading the database."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from posloyalty.storage import models

# Characters that QTest cannot type from text, sent as the key a wedge scanner
# or a French keyboard produces: control characters come with Ctrl, as a
# scanner emulating a US keyboard sends them.
SPECIAL_KEYS: dict[str, tuple[Qt.Key, Qt.KeyboardModifier]] = {
    "\x02": (Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier),
    "\x03": (Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier),
    "\x1d": (Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier),
    "\n": (Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier),
    "é": (Qt.Key.Key_Eacute, Qt.KeyboardModifier.NoModifier),
    "è": (Qt.Key.Key_Egrave, Qt.KeyboardModifier.NoModifier),
    "ç": (Qt.Key.Key_Ccedilla, Qt.KeyboardModifier.NoModifier),
    "à": (Qt.Key.Key_Agrave, Qt.KeyboardModifier.NoModifier),
}
AZERTY_DIGITS = dict(zip("1234567890", "&é\"'(-è_çà", strict=True))


def press(qtbot, widget: QWidget, text: str) -> None:
    """Send one key event per character of ``text`` to ``widget``."""
    for char in text:
        if char in SPECIAL_KEYS:
            key, modifier = SPECIAL_KEYS[char]
            QTest.sendKeyEvent(QTest.KeyAction.Click, widget, key, char, modifier)
        elif not char.isascii():
            # QTest maps only ASCII text to keys; a layout with the letter sends it.
            QTest.sendKeyEvent(
                QTest.KeyAction.Click,
                widget,
                Qt.Key.Key_unknown,
                char,
                Qt.KeyboardModifier.NoModifier,
            )
        else:
            qtbot.keyClicks(widget, char)


def printable(text: str) -> str:
    return "".join(char for char in text if char.isprintable())


def scan(qtbot, widget: QWidget, payload: str, terminator: str = "\r") -> None:
    """Type ``payload`` like a scanner, wait until the field contains it, then end it."""
    press(qtbot, widget, payload)
    expected = printable(payload)
    qtbot.waitUntil(lambda: widget.text().endswith(expected), timeout=2000)
    press(qtbot, widget, terminator)


def press_to_focus(qtbot, window, text: str) -> None:
    """Send each key to whichever widget of ``window`` has the focus at that moment."""
    for char in text:
        target = window.focusWidget()
        assert target is not None, "no widget of the window has the focus"
        press(qtbot, target, char)


class KeyClock:
    """A clock for the scanner burst detector that a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def sales_of(member_id: str) -> list[models.Sale]:
    return list(models.Sale.select().where(models.Sale.member == member_id))


def entries_of(member_id: str) -> list[models.LedgerEntry]:
    return list(
        models.LedgerEntry.select().where(models.LedgerEntry.member == member_id)
    )


def balance_of(member_id: str) -> int:
    return models.Member.get_by_id(member_id).balance

"""Small widgets of the till window: the scanner-aware line edit and the message area."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeGuard

from PySide6 import QtCore, QtGui
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QSizePolicy, QWidget

from posloyalty.ui.scan_detector import KeyBurst

logger = logging.getLogger(__name__)

# A scanner set to send no suffix is done when no key has come for this long.
IDLE_GAP_MS = 120

_TERMINATOR_TEXTS = {"\r", "\n"}

# NOTE: ``QtCore.Qt`` is read when a key or a message arrives, never at import
# or construction. PySide6 6.11 builds a Python enum for every one of Qt's
# names on the first read of ``Qt`` (about 15 ms), which would delay the first
# window; ``TillWindow.start`` reads it once the window is shown.


def is_key_press(event: QtCore.QEvent) -> TypeGuard[QtGui.QKeyEvent]:
    """Tell whether ``event`` is a key press."""
    return event.type() == QtCore.QEvent.Type.KeyPress and isinstance(
        event, QtGui.QKeyEvent
    )


def is_enter_key(key: int) -> bool:
    """Tell whether ``key`` is Enter or Return."""
    return key in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter)


class WedgeLineEdit(QLineEdit):
    """A line edit that sees what a keyboard-wedge scanner types.

    Enter, Return, a CR or LF character and, when ``tab_ends_input`` is set or
    the keys so far look like a scan, Tab end the input. Control characters,
    which ``QLineEdit`` drops, are kept in ``burst.raw``.

    Signals:
        terminated(): a terminator key was pressed.
        idle_scan(): a burst that looks like a scan was followed by a pause
            of ``IDLE_GAP_MS`` with no terminator.
    """

    terminated = Signal()
    idle_scan = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        tab_ends_input: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.burst = KeyBurst(clock)
        self._tab_ends_input = tab_ends_input
        self._idle_timer = QTimer(self)
        self._idle_timer.setSingleShot(True)
        self._idle_timer.setInterval(IDLE_GAP_MS)
        self._idle_timer.timeout.connect(self._on_idle)

    def is_terminator(self, event: QtGui.QKeyEvent) -> bool:
        """Tell whether a key press ends the input rather than adding to it."""
        if is_enter_key(event.key()) or event.text() in _TERMINATOR_TEXTS:
            return True
        is_tab = event.key() == QtCore.Qt.Key.Key_Tab or event.text() == "\t"
        return is_tab and (self._tab_ends_input or self.burst.is_scan())

    def event(self, event: QtCore.QEvent) -> bool:
        # Tab is taken here, before QWidget.event moves the focus with it.
        if is_key_press(event):
            if self.is_terminator(event):
                self._idle_timer.stop()
                event.accept()
                self.terminated.emit()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 (Qt name)
        text = event.text()
        if text:
            self.burst.record(text)
        super().keyPressEvent(event)
        if text:
            self._idle_timer.start()

    def clear_input(self) -> None:
        """Empty the field and forget the burst, after the input was used."""
        self._idle_timer.stop()
        self.burst.reset()
        self.clear()

    def _on_idle(self) -> None:
        if self.burst.is_scan():
            self.idle_scan.emit()


class MessageArea(QLabel):
    """The one place where the window tells the cashier what happened.

    Each new message replaces the previous one, so errors never pile up.

    Signals:
        message_shown(str, str): the text and its level.
    """

    message_shown = Signal(str, str)

    LEVELS = {
        "info": ("#1f3a5f", "#e8f0fb"),
        "success": ("#14532d", "#dcfce7"),
        "warning": ("#713f12", "#fef3c7"),
        "error": ("#7f1d1d", "#fee2e2"),
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageArea")
        self.setWordWrap(True)
        self.setMinimumHeight(64)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._is_plain_text = False
        self.level = "info"
        self.show_message("", "info")

    def show_message(self, text: str, level: str = "info") -> None:
        """Replace the message; ``level`` is info, success, warning or error."""
        foreground, background = self.LEVELS.get(level, self.LEVELS["info"])
        if text and not self._is_plain_text:
            # Set at the first text rather than in __init__ (see the note on
            # Qt's names above); a member's name must never render as HTML.
            self.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            self._is_plain_text = True
        self.level = level
        self.setText(text)
        self.setStyleSheet(
            f"QLabel#messageArea {{ color: {foreground}; background: {background};"
            " border-radius: 6px; padding: 8px 12px; font-weight: bold; }"
        )
        self.message_shown.emit(text, level)


class EnterFilter(QObject):
    """Calls ``on_enter`` when Enter or Return is pressed in a watched widget."""

    def __init__(self, on_enter: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._on_enter = on_enter

    def eventFilter(self, watched: QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if is_key_press(event):
            if is_enter_key(event.key()):
                self._on_enter()
                return True
        return super().eventFilter(watched, event)

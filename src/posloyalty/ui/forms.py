"""The inline forms for redeeming, returning and enrolling, one shown at a time.

They sit inside the window rather than in dialogs, so the keyboard never
lands in a window the cashier did not expect. Each form only collects what
was typed; the window validates it through the services. The window builds
each form the first time it is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6 import QtCore
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QLabel,
    QListWidget,
    QPushButton,
    QWidget,
)

from posloyalty.ui.scan_detector import looks_like_scan
from posloyalty.ui.widgets import EnterFilter, WedgeLineEdit, is_key_press


class TillForm(QFrame):
    """A form whose fields submit on Enter and recognise a card scan.

    Signals:
        submit_requested(): Enter was pressed in a field, or the button clicked.
        scan_received(str): a card was scanned into a field; the argument is
            what the scanner typed, control characters included. The field
            keeps only what was typed in it before the scan.
    """

    submit_requested = Signal()
    scan_received = Signal(str)

    def __init__(
        self,
        title: str,
        button_text: str,
        clock: Callable[[], float],
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.layout_ = QFormLayout(self)
        heading = QLabel(title)
        heading.setObjectName("formTitle")
        self.layout_.addRow(heading)
        self._enter_filter = EnterFilter(self.submit_requested.emit, self)
        self.submit_button = QPushButton(button_text)
        self.submit_button.clicked.connect(self.submit_requested.emit)

    def add_line(self, label: str, placeholder: str = "") -> WedgeLineEdit:
        """Add a text field that submits on Enter and passes card scans on."""
        field = WedgeLineEdit(tab_ends_input=False, clock=self._clock)
        field.setPlaceholderText(placeholder)
        field.terminated.connect(lambda: self._on_terminated(field))
        field.idle_scan.connect(lambda: self._on_scan(field))
        self.layout_.addRow(label, field)
        return field

    def add_check(self, checkbox: QCheckBox) -> None:
        """Add a check box; Enter on it submits the form."""
        checkbox.installEventFilter(self._enter_filter)
        self.layout_.addRow("", checkbox)

    def finish(self) -> None:
        self.layout_.addRow(self.submit_button)

    def first_field(self) -> QWidget:
        raise NotImplementedError

    def _on_terminated(self, field: WedgeLineEdit) -> None:
        if looks_like_scan(field.burst.raw) or looks_like_scan(field.text()):
            self._on_scan(field)
            return
        field.burst.reset()
        self.submit_requested.emit()

    def _on_scan(self, field: WedgeLineEdit) -> None:
        burst, text = field.burst.raw, field.text()
        if looks_like_scan(burst):
            raw = burst
            # QLineEdit inserted the printable keys of the burst at the end.
            scanned = "".join(char for char in burst if char.isprintable())
            kept = text[: -len(scanned)] if scanned and text.endswith(scanned) else text
        else:
            # The scan arrived slowly enough to look typed: the field is all scan.
            raw, kept = text, ""
        field.clear_input()
        field.setText(kept)
        self.scan_received.emit(raw)


class RedeemForm(TillForm):
    """Points to spend on a reward, and why."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            self.tr("Redeem points"), self.tr("Redeem (Enter)"), clock, parent
        )
        self.points_input = self.add_line(
            self.tr("Points"), self.tr("whole points, such as 500")
        )
        self.reason_input = self.add_line(
            self.tr("Reward"), self.tr("reward, optional")
        )
        self.finish()

    def reset(self) -> None:
        self.points_input.clear_input()
        self.reason_input.clear_input()

    def first_field(self) -> QWidget:
        return self.points_input


@dataclass(frozen=True)
class SaleChoice:
    """One sale that the return form offers.

    Attributes:
        sale_id: the sale's id.
        description: one line that identifies the sale for the cashier.
        remaining_text: what is left of the sale to return, as typed into
            the amount field.
    """

    sale_id: str
    description: str
    remaining_text: str


class ReturnForm(TillForm):
    """A list of the member's sales to return and the amount returned.

    The amount is the rest of the chosen sale by default. Up and Down in the
    amount field choose another sale, so the focus never leaves the field.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            self.tr("Return a sale"), self.tr("Record return (Enter)"), clock, parent
        )
        self.sale_list = QListWidget()
        self.sale_list.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.sale_list.setMaximumHeight(150)
        self.sale_label = QLabel()
        self.sale_label.setWordWrap(True)
        self.layout_.addRow(self.sale_list)
        self.layout_.addRow(self.sale_label)
        self.amount_input = self.add_line(self.tr("Amount returned"))
        self.amount_input.installEventFilter(self)
        self.finish()
        self.sale_id: str | None = None
        self._choices: list[SaleChoice] = []
        self.sale_list.currentRowChanged.connect(self._show_choice)

    def load(self, choices: list[SaleChoice], selected: int = 0) -> None:
        """Offer ``choices``, newest first, with ``selected`` chosen."""
        self._choices = list(choices)
        self.sale_list.blockSignals(True)
        self.sale_list.clear()
        self.sale_list.addItems([choice.description for choice in self._choices])
        self.sale_list.blockSignals(False)
        self.sale_list.setCurrentRow(selected)
        self._show_choice(selected)

    @property
    def choices(self) -> list[SaleChoice]:
        """The sales offered, in list order."""
        return list(self._choices)

    def _show_choice(self, row: int) -> None:
        if not 0 <= row < len(self._choices):
            self.sale_id = None
            self.sale_label.setText("")
            return
        choice = self._choices[row]
        self.sale_id = choice.sale_id
        self.sale_label.setText(choice.description)
        self.amount_input.clear_input()
        self.amount_input.setText(choice.remaining_text)
        self.amount_input.selectAll()

    def eventFilter(self, watched: QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if watched is self.amount_input and is_key_press(event):
            step = {QtCore.Qt.Key.Key_Up: -1, QtCore.Qt.Key.Key_Down: 1}.get(
                event.key()
            )
            if step is not None:
                row = self.sale_list.currentRow() + step
                if 0 <= row < self.sale_list.count():
                    self.sale_list.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)

    def first_field(self) -> QWidget:
        return self.amount_input


class EnrolForm(TillForm):
    """A new member's name, contact details and consent."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            self.tr("Enrol a new member"), self.tr("Enrol (Enter)"), clock, parent
        )
        self.name_input = self.add_line(self.tr("Name"))
        self.phone_input = self.add_line(
            self.tr("Phone"), self.tr("phone or email is needed")
        )
        self.email_input = self.add_line(self.tr("Email"))
        self.consent_email = QCheckBox(self.tr("Agrees to emails"))
        self.consent_sms = QCheckBox(self.tr("Agrees to text messages"))
        self.add_check(self.consent_email)
        self.add_check(self.consent_sms)
        self.finish()

    def reset(self) -> None:
        for field in (self.name_input, self.phone_input, self.email_input):
            field.clear_input()
        self.consent_email.setChecked(False)
        self.consent_sms.setChecked(False)

    def first_field(self) -> QWidget:
        return self.name_input

"""Manager override at the till: a PIN dialog, and a panel to adjust and reverse.

``PinDialog`` runs any protected action with the name and PIN typed into it,
over the till window, so the open sale stays where it is. ``ManagerPanel``
collects an adjustment, a sale to reverse or a redemption to undo, and opens a
``PinDialog`` for each. Both reach the database only through the services, on
the ``TaskRunner``'s ledger lane, because an argon2 PIN check takes a
noticeable fraction of a second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from posloyalty.domain.staff import PIN_MAX_DIGITS, PIN_MIN_DIGITS
from posloyalty.services import manager
from posloyalty.services.context import TillContext
from posloyalty.services.errors import ServiceError
from posloyalty.services.manager import (
    AdjustmentResult,
    ApprovalRequiredError,
    ReversalResult,
)
from posloyalty.services.staff import Credentials
from posloyalty.services.views import MemberView
from posloyalty.ui.tasks import LEDGER_LANE, TaskRunner

logger = logging.getLogger(__name__)

# Called on the worker thread with the first person's credentials and, after
# an ApprovalRequiredError, a second manager's.
ProtectedAction = Callable[[Credentials, Credentials | None], Any]

# Larger than any adjustment a shop makes; the services set the real limits.
MAX_ADJUSTMENT = 1_000_000


class PinDialog(QDialog):
    """Ask for a staff name and PIN, then run a protected action with them.

    A wrong PIN, a locked account or a role that may not do the action shows
    the service's message in the dialog, which stays open for another try.
    When the action needs a second manager, the dialog keeps the first
    person's PIN in memory and requests a second one in place.

    Signals:
        succeeded(object): the action's return value; the dialog then closes.
        failed(str): the message shown after a failed try.
    """

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        title: str,
        action: ProtectedAction,
        runner: TaskRunner,
        parent: QWidget | None = None,
        staff_name: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._action = action
        self._runner = runner
        self._first: Credentials | None = None
        self._is_busy = False
        self.result_value: Any = None

        self.heading = QLabel(title)
        self.heading.setObjectName("formTitle")
        self.name_input = QLineEdit(staff_name)
        self.name_input.setPlaceholderText(self.tr("Staff name"))
        self.pin_input = QLineEdit()
        self.pin_input.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_input.setMaxLength(PIN_MAX_DIGITS)
        self.pin_input.setValidator(
            QRegularExpressionValidator(
                QRegularExpression(f"[0-9]{{0,{PIN_MAX_DIGITS}}}"), self.pin_input
            )
        )
        self.pin_input.setPlaceholderText(
            self.tr("{0} to {1} digits").format(PIN_MIN_DIGITS, PIN_MAX_DIGITS)
        )
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("pinMessage")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Confirm"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.pin_input.returnPressed.connect(self.submit)
        self.name_input.returnPressed.connect(self.pin_input.setFocus)

        form = QFormLayout()
        form.addRow(self.tr("Name"), self.name_input)
        form.addRow(self.tr("PIN"), self.pin_input)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        (self.pin_input if staff_name else self.name_input).setFocus()

    @property
    def is_asking_second(self) -> bool:
        """True while the dialog waits for a second manager's PIN."""
        return self._first is not None

    def submit(self) -> None:
        """Run the action with the typed name and PIN, off the GUI thread."""
        if self._is_busy:
            return
        name = " ".join(self.name_input.text().split())
        pin = self.pin_input.text()
        if not name:
            self._show(self.tr("Type your staff name."))
            self.name_input.setFocus()
            return
        if len(pin) < PIN_MIN_DIGITS:
            self._show(
                self.tr("Type your PIN: {0} to {1} digits.").format(
                    PIN_MIN_DIGITS, PIN_MAX_DIGITS
                )
            )
            self.pin_input.setFocus()
            return

        typed = Credentials(name, pin)
        first, second = (self._first, typed) if self._first else (typed, None)
        self.pin_input.clear()
        self._set_busy(True)
        self._show(self.tr("Checking the PIN…"))
        self._runner.submit(
            "protected action",
            lambda: self._action(first, second),
            self._on_success,
            lambda error: self._on_failure(error, first),
            lane=LEDGER_LANE,
        )

    def _on_success(self, result: Any) -> None:
        self._set_busy(False)
        self._first = None
        self.result_value = result
        self.succeeded.emit(result)
        self.accept()

    def _on_failure(self, error: BaseException, first: Credentials) -> None:
        self._set_busy(False)
        if isinstance(error, ApprovalRequiredError) and self._first is None:
            self._first = first
            self.heading.setText(self.tr("Second manager: approve with your PIN"))
            self.name_input.clear()
            self.name_input.setFocus()
            message = str(error)
        elif isinstance(error, ServiceError):
            message = str(error)
            self.pin_input.setFocus()
        else:
            logger.error("protected action failed: %r", error)
            message = self.tr("The action failed ({0}); nothing was changed.").format(
                type(error).__name__
            )
        self._show(message)
        self.failed.emit(message)

    def _set_busy(self, is_busy: bool) -> None:
        self._is_busy = is_busy
        self.ok_button.setEnabled(not is_busy)
        self.name_input.setEnabled(not is_busy)
        self.pin_input.setEnabled(not is_busy)

    def _show(self, text: str) -> None:
        self.message.setText(text)

    def done(self, result: int) -> None:
        # Drop the first person's PIN whichever way the dialog closes.
        self._first = None
        super().done(result)


class ManagerPanel(QWidget):
    """Adjust the attached member's points, reverse a sale, undo a redemption.

    Each button checks what was typed, then opens a ``PinDialog``; the change
    happens only when a PIN that allows it is confirmed there.

    Signals:
        adjusted(object): an ``AdjustmentResult``.
        reversed(object): a ``ReversalResult`` of a sale reversal or an undo.
    """

    adjusted = Signal(object)
    reversed = Signal(object)

    def __init__(
        self, ctx: TillContext, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runner = runner
        self.member: MemberView | None = None
        self.pin_dialog: PinDialog | None = None

        self.member_label = QLabel()
        self.points_input = QSpinBox()
        self.points_input.setRange(-MAX_ADJUSTMENT, MAX_ADJUSTMENT)
        self.reason_input = QComboBox()
        self.reason_input.addItems(manager.adjust_reasons(ctx))
        self.note_input = QLineEdit()
        self.note_input.setPlaceholderText(self.tr("Details, such as the order number"))
        self.adjust_button = QPushButton(self.tr("Adjust points…"))
        self.adjust_button.clicked.connect(self.request_adjustment)

        self.sale_input = QLineEdit()
        self.sale_input.setPlaceholderText(self.tr("Sale id from the receipt"))
        self.reverse_reason_input = QLineEdit(manager.DEFAULT_REVERSE_REASON)
        self.reverse_button = QPushButton(self.tr("Reverse sale…"))
        self.reverse_button.clicked.connect(self.request_reversal)
        self.undo_button = QPushButton(self.tr("Undo last redemption…"))
        self.undo_button.clicked.connect(self.request_undo)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("managerStatus")

        adjust_box = QGroupBox(self.tr("Adjust the balance"))
        adjust_form = QFormLayout(adjust_box)
        adjust_form.addRow(self.tr("Member"), self.member_label)
        adjust_form.addRow(self.tr("Points (+ or -)"), self.points_input)
        adjust_form.addRow(self.tr("Reason"), self.reason_input)
        adjust_form.addRow(self.tr("Details"), self.note_input)
        adjust_form.addRow(self.adjust_button)
        reverse_box = QGroupBox(self.tr("Reverse a sale recorded in error"))
        reverse_form = QFormLayout(reverse_box)
        reverse_form.addRow(self.tr("Sale"), self.sale_input)
        reverse_form.addRow(self.tr("Reason"), self.reverse_reason_input)
        reverse_form.addRow(self.reverse_button)
        reverse_form.addRow(self.undo_button)
        layout = QVBoxLayout(self)
        layout.addWidget(adjust_box)
        layout.addWidget(reverse_box)
        layout.addWidget(self.status)
        self.set_member(None)

    def set_member(self, member: MemberView | None) -> None:
        """Show the member whose balance an adjustment or undo changes."""
        self.member = member
        if member is None:
            self.member_label.setText(self.tr("no member attached"))
        else:
            self.member_label.setText(
                self.tr("{0}, balance {1}").format(
                    member.name or member.id[:8], member.balance
                )
            )

    def set_sale(self, sale_id: str) -> None:
        """Fill in the sale to reverse, such as the window's last sale."""
        self.sale_input.setText(sale_id)

    def request_adjustment(self) -> None:
        """Check the typed adjustment, then ask for a manager's PIN."""
        member, points = self.member, self.points_input.value()
        if member is None:
            self._show(self.tr("Attach a member before adjusting points."))
            return
        if points == 0:
            self._show(self.tr("Type the points to add, or a negative number to take."))
            self.points_input.setFocus()
            return
        reason = self.reason_input.currentText()
        note = self.note_input.text()

        def action(first: Credentials, second: Credentials | None) -> Any:
            return manager.adjust_balance(
                self.ctx, member.id, points, reason, first, note=note, second=second
            )

        title = self.tr("Manager PIN: adjust by {0:+d} points").format(points)
        self._open_pin_dialog(title, action, self._adjusted)

    def request_reversal(self) -> None:
        """Check the sale id, then ask for a manager's PIN to reverse the sale."""
        sale_id = self.sale_input.text().strip()
        if not sale_id:
            self._show(self.tr("Type or scan the sale id to reverse."))
            self.sale_input.setFocus()
            return
        reason = self.reverse_reason_input.text()

        def action(first: Credentials, second: Credentials | None) -> Any:
            return manager.reverse_sale(self.ctx, sale_id, first, reason)

        self._open_pin_dialog(
            self.tr("Manager PIN: reverse sale"), action, self._reversed
        )

    def request_undo(self) -> None:
        """Ask for a PIN to undo the attached member's last redemption."""
        member = self.member
        if member is None:
            self._show(self.tr("Attach a member before undoing a redemption."))
            return

        def action(first: Credentials, second: Credentials | None) -> Any:
            return manager.undo_last_redemption(self.ctx, member.id, first)

        self._open_pin_dialog(
            self.tr("PIN: undo the last redemption"), action, self._reversed
        )

    def _open_pin_dialog(
        self, title: str, action: ProtectedAction, on_success: Callable[[Any], None]
    ) -> None:
        if self.pin_dialog is not None:
            self.pin_dialog.deleteLater()
        dialog = PinDialog(title, action, self.runner, self)
        dialog.succeeded.connect(on_success)
        self.pin_dialog = dialog
        self._show("")
        dialog.open()

    def _adjusted(self, result: AdjustmentResult) -> None:
        self.points_input.setValue(0)
        self.note_input.clear()
        if self.member is not None:
            self.member = replace(self.member, balance=result.balance)
            self.set_member(self.member)
        self._show(
            self.tr("{0:+d} points by {1}; balance now {2}.").format(
                result.points, result.staff, result.balance
            )
        )
        self.adjusted.emit(result)

    def _reversed(self, result: ReversalResult) -> None:
        if self.member is not None and self.member.id == result.member_id:
            self.member = replace(self.member, balance=result.balance)
            self.set_member(self.member)
        text = self.tr("Reversed: {0:+d} points; balance now {1}.").format(
            result.points, result.balance
        )
        if result.is_overdrawn:
            text += " " + self.tr(
                "The balance is below zero and is listed for the manager."
            )
        self._show(text)
        self.reversed.emit(result)

    def _show(self, text: str) -> None:
        self.status.setText(text)

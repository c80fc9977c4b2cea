"""The inline forms for redeeming, returning and enrolling, one shown at a time.

They sit inside the window rather than in dialogs, so the keyboard never
lands in a window the cashier did not expect. Each form only collects what
was typed; the window validates it through the services.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from posloyalty.ui.widgets import EnterFilter


class _Form(QFrame):
    """A form whose fields submit on Enter.

    Signals:
        submit_requested(): Enter was pressed in a field, or the button clicked.
    """

    submit_requested = Signal()

    def __init__(self, title: str, button_text: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.layout_ = QFormLayout(self)
        heading = QLabel(title)
        heading.setObjectName("formTitle")
        self.layout_.addRow(heading)
        self._enter_filter = EnterFilter(self.submit_requested.emit, self)
        self.submit_button = QPushButton(button_text)
        self.submit_button.clicked.connect(self.submit_requested.emit)

    def add_field(self, label: str, widget: QWidget) -> None:
        # TODO(ui): a card scanned while a form field has the focus is typed
        # into that field; only the scan and amount inputs recognise scans.
        widget.installEventFilter(self._enter_filter)
        self.layout_.addRow(label, widget)

    def finish(self) -> None:
        self.layout_.addRow(self.submit_button)

    def first_field(self) -> QWidget:
        raise NotImplementedError


class RedeemForm(_Form):
    """Points to spend on a reward, and why."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Redeem points"), self.tr("Redeem (Enter)"), parent)
        self.points_input = QLineEdit()
        self.points_input.setPlaceholderText(self.tr("whole points, such as 500"))
        self.reason_input = QLineEdit()
        self.reason_input.setPlaceholderText(self.tr("reward, optional"))
        self.add_field(self.tr("Points"), self.points_input)
        self.add_field(self.tr("Reward"), self.reason_input)
        self.finish()

    def reset(self) -> None:
        self.points_input.clear()
        self.reason_input.clear()

    def first_field(self) -> QWidget:
        return self.points_input


class ReturnForm(_Form):
    """The amount of a sale being returned; the rest of the sale by default."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            self.tr("Return a sale"), self.tr("Record return (Enter)"), parent
        )
        self.sale_label = QLabel()
        self.sale_label.setWordWrap(True)
        self.amount_input = QLineEdit()
        self.layout_.addRow(self.sale_label)
        self.add_field(self.tr("Amount returned"), self.amount_input)
        self.finish()
        self.sale_id: str | None = None
        self.remaining_minor = 0

    def load(self, sale_id: str, description: str, remaining_text: str) -> None:
        """Show the sale to return and offer what is left of it."""
        self.sale_id = sale_id
        self.sale_label.setText(description)
        self.amount_input.setText(remaining_text)
        self.amount_input.selectAll()

    def first_field(self) -> QWidget:
        return self.amount_input


class EnrolForm(_Form):
    """A new member's name, contact details and consent."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            self.tr("Enrol a new member"), self.tr("Enrol (Enter)"), parent
        )
        self.name_input = QLineEdit()
        self.phone_input = QLineEdit()
        self.phone_input.setPlaceholderText(self.tr("phone or email is needed"))
        self.email_input = QLineEdit()
        self.consent_email = QCheckBox(self.tr("Agrees to emails"))
        self.consent_sms = QCheckBox(self.tr("Agrees to text messages"))
        self.add_field(self.tr("Name"), self.name_input)
        self.add_field(self.tr("Phone"), self.phone_input)
        self.add_field(self.tr("Email"), self.email_input)
        self.add_field("", self.consent_email)
        self.add_field("", self.consent_sms)
        self.finish()

    def reset(self) -> None:
        for field in (self.name_input, self.phone_input, self.email_input):
            field.clear()
        self.consent_email.setChecked(False)
        self.consent_sms.setChecked(False)

    def first_field(self) -> QWidget:
        return self.name_input

"""The cashier's window: find the member, record the sale, see the balance.

Lookups run on the GUI thread because they are single indexed reads. Every
write (sale, return, redemption, enrolment) and everything that may wait on a
printer or the network goes through ``TaskRunner``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from posloyalty.domain.cards import mask_card_number
from posloyalty.domain.errors import DomainError
from posloyalty.domain.money import parse_amount
from posloyalty.domain.phones import looks_like_phone
from posloyalty.lazy import lazy_import
from posloyalty.services.context import TillContext
from posloyalty.services.errors import ServiceError
from posloyalty.services.views import MemberView, SaleResult
from posloyalty.ui.actions import TillActions
from posloyalty.ui.backends import TillBackends
from posloyalty.ui.format import format_money, format_points
from posloyalty.ui.member_panel import HistoryTable, MemberPanel
from posloyalty.ui.scan_detector import looks_like_scan
from posloyalty.ui.status import TillStatus
from posloyalty.ui.tasks import DEVICE_LANE, TaskRunner
from posloyalty.ui.widgets import MessageArea, WedgeLineEdit, is_key_press

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent

    from posloyalty.services.members import LookupResult
    from posloyalty.ui.forms import EnrolForm, RedeemForm, ReturnForm, TillForm

# Loaded on first use so the window shows before the sale and lookup services
# (and the programme rules behind them) are imported.
members = lazy_import("posloyalty.services.members")
sales = lazy_import("posloyalty.services.sales")
loyalty = lazy_import("posloyalty.services.loyalty")
household = lazy_import("posloyalty.services.household")

logger = logging.getLogger(__name__)

MIN_WIDTH = 1024
MIN_HEIGHT = 700
HISTORY_ROWS = 20
NAME_SEARCH_DELAY_MS = 250
NAME_SEARCH_MIN_LENGTH = 2

_STYLE = """
QWidget { font-size: 16pt; }
QLabel#memberName { font-size: 26pt; font-weight: bold; }
QLabel#balance { font-size: 34pt; font-weight: bold; color: #14532d; }
QLabel#visitPoints { font-size: 18pt; }
QLabel#demoBadge { color: #92400e; font-weight: bold; }
QLabel#formTitle { font-size: 18pt; font-weight: bold; }
QLineEdit { padding: 6px; }
QPushButton { font-size: 13pt; padding: 6px 8px; }
QLineEdit#scanInput, QLineEdit#amountInput { font-size: 22pt; }
QStatusBar QLabel { font-size: 13pt; padding: 0 12px; }
QStatusBar QLabel[problem="true"] { color: #7f1d1d; font-weight: bold; }
"""


class TillWindow(QMainWindow):
    """The till's main window.

    Signals:
        member_attached(object): a ``MemberView`` became the attached member.
        member_cleared(): the cashier cleared the member.
        lookup_done(object): a ``LookupResult`` for one submitted input.
        sale_recorded(object): the ``SaleResult`` of a committed sale.
    """

    member_attached = Signal(object)
    member_cleared = Signal()
    lookup_done = Signal(object)
    sale_recorded = Signal(object)

    def __init__(
        self,
        ctx: TillContext,
        runner: TaskRunner | None = None,
        backends: TillBackends | None = None,
        key_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.runner = runner or TaskRunner(self)
        self.backends = backends or TillBackends()
        self.member: MemberView | None = None
        self.visit_points = 0
        self.last_sale_id: str | None = None
        # Created on first use of the manager key (F6).
        self.manager_dialog: QDialog | None = None
        self.manager_panel: Any = None
        self._sale_in_flight = False
        self._key_clock = key_clock
        self._buttons: list[QPushButton] = []
        self._forms: dict[str, TillForm] = {}
        # Filled by ``start``; until then no key has arrived.
        self._keys: dict[int, Callable[[], Any]] = {}

        self.setWindowTitle(self.tr("Loyalty till"))
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)
        self.setStyleSheet(_STYLE)
        self._build(key_clock)
        self.actions_ = TillActions(self)
        self._connect()

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(NAME_SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._search_names)
        self.clear_member()

    # Layout -----------------------------------------------------------------

    def _build(self, key_clock: Callable[[], float]) -> None:
        locale = self.ctx.settings.locale
        central = QWidget()
        layout = QVBoxLayout(central)

        scan_row = QHBoxLayout()
        scan_row.addWidget(QLabel(self.tr("Card, phone or name")))
        self.scan_input = WedgeLineEdit(tab_ends_input=True, clock=key_clock)
        self.scan_input.setObjectName("scanInput")
        self.scan_input.setPlaceholderText(
            self.tr("Scan the card, or type a phone number or a name")
        )
        scan_row.addWidget(self.scan_input, 1)
        layout.addLayout(scan_row)

        self.choice_list = QListWidget()
        self.choice_list.setMaximumHeight(180)
        layout.addWidget(self.choice_list)

        self.message_area = MessageArea()
        layout.addWidget(self.message_area)

        body = QHBoxLayout()
        self.member_panel = MemberPanel(locale)
        body.addWidget(self.member_panel)
        history_box = QVBoxLayout()
        history_box.addWidget(QLabel(self.tr("Recent history")))
        self.history_table = HistoryTable(locale)
        history_box.addWidget(self.history_table)
        body.addLayout(history_box, 1)
        layout.addLayout(body, 1)

        amount_row = QHBoxLayout()
        amount_row.addWidget(QLabel(self.tr("Amount")))
        self.amount_input = WedgeLineEdit(tab_ends_input=False, clock=key_clock)
        self.amount_input.setObjectName("amountInput")
        amount_row.addWidget(self.amount_input, 1)
        self.sale_button = self._button(self.tr("Record sale (Enter)"))
        amount_row.addWidget(self.sale_button)
        layout.addLayout(amount_row)

        # Rows of three: six whole labels at 13pt are wider than the 1024-pixel
        # minimum window in one row, and a squeezed button cuts its label.
        buttons = QGridLayout()
        self.redeem_button = self._button(self.tr("Redeem points (F2)"))
        self.return_button = self._button(self.tr("Return a sale (F3)"))
        self.enrol_button = self._button(self.tr("Enrol member (F4)"))
        self.reprint_button = self._button(self.tr("Reprint receipt (F5)"))
        self.manager_button = self._button(self.tr("Manager (F6)"))
        self.programme_button = self._button(self.tr("Programme (F7)"))
        self.clear_button = self._button(self.tr("Clear member (Esc)"))
        for index, button in enumerate(
            (
                self.redeem_button,
                self.return_button,
                self.enrol_button,
                self.reprint_button,
                self.manager_button,
                self.programme_button,
                self.clear_button,
            )
        ):
            buttons.addWidget(button, index // 3, index % 3)
        layout.addLayout(buttons)

        # The forms are built on first use (see ``_form``).
        self.forms = QStackedWidget()
        self.forms.hide()
        layout.addWidget(self.forms)
        self.setCentralWidget(central)

        self.status = TillStatus(self)

    def _button(self, text: str) -> QPushButton:
        button = QPushButton(text)
        self._buttons.append(button)
        return button

    # Forms, built on first use --------------------------------------------------

    @property
    def redeem_form(self) -> RedeemForm:
        """The form for redeeming points."""
        return self._form("redeem")  # type: ignore[return-value]

    @property
    def return_form(self) -> ReturnForm:
        """The form for returning a sale."""
        return self._form("return")  # type: ignore[return-value]

    @property
    def enrol_form(self) -> EnrolForm:
        """The form for enrolling a new member."""
        return self._form("enrol")  # type: ignore[return-value]

    def _form(self, kind: str) -> TillForm:
        form = self._forms.get(kind)
        if form is not None:
            return form
        from posloyalty.ui import forms

        form_classes = {
            "redeem": (forms.RedeemForm, self.actions_.submit_redeem),
            "return": (forms.ReturnForm, self.actions_.submit_return),
            "enrol": (forms.EnrolForm, self.actions_.submit_enrol),
        }
        form_class, submit = form_classes[kind]
        form = form_class(self._key_clock)
        form.submit_requested.connect(lambda: self.run_guarded(submit))
        form.scan_received.connect(self._on_form_scan)
        self.forms.addWidget(form)
        self._forms[kind] = form
        if self._keys:
            self._watch_keys(form)
        return form

    def _on_form_scan(self, raw: str) -> None:
        # A card scanned into a form field: the form closes unsent, with what
        # was typed before the scan kept, and the scanned member is looked up.
        self.actions_.close_form(refocus=False)
        self.run_guarded(lambda: self.submit_scan(raw))

    def _connect(self) -> None:
        self.scan_input.terminated.connect(self._on_scan_terminated)
        self.scan_input.idle_scan.connect(self._on_scan_terminated)
        self.scan_input.textEdited.connect(self._on_scan_edited)
        self.amount_input.terminated.connect(self._on_amount_terminated)
        self.amount_input.idle_scan.connect(self._on_amount_idle_scan)
        self.choice_list.itemActivated.connect(self._on_choice_activated)
        self.sale_button.clicked.connect(self.record_sale_from_input)
        self.redeem_button.clicked.connect(self.actions_.open_redeem)
        self.return_button.clicked.connect(self.actions_.open_return)
        self.enrol_button.clicked.connect(self.actions_.open_enrol)
        self.reprint_button.clicked.connect(self.actions_.reprint_receipt)
        self.manager_button.clicked.connect(self.actions_.open_manager)
        self.programme_button.clicked.connect(self.actions_.open_programme)
        self.clear_button.clicked.connect(self.clear_member)

    def _install_key_filter(self) -> None:
        # An event filter on each input, not QShortcut, so the keys work even
        # when the window is not the active one (tests, a second screen).
        # Called by ``start``: building this table reads ``QtCore.Qt``, which
        # costs about 15 ms the first time (see ``ui.widgets``).
        key = QtCore.Qt.Key
        self._keys = {
            key.Key_F2: self.actions_.open_redeem,
            key.Key_F3: self.actions_.open_return,
            key.Key_F4: self.actions_.open_enrol,
            key.Key_F5: self.actions_.reprint_receipt,
            key.Key_F6: self.actions_.open_manager,
            key.Key_F7: self.actions_.open_programme,
            key.Key_Escape: self.escape,
        }
        for button in self._buttons:
            # The focus stays in the inputs; each button's key works from any input.
            button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self._watch_keys(self)

    def _watch_keys(self, parent: QWidget) -> None:
        no_focus = QtCore.Qt.FocusPolicy.NoFocus
        for widget in [parent, *parent.findChildren(QWidget)]:
            if widget is not self and widget.focusPolicy() != no_focus:
                widget.installEventFilter(self)

    # Keys ---------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if not is_key_press(event):
            return super().eventFilter(watched, event)
        key = QtCore.Qt.Key
        action = self._keys.get(event.key())
        if action is not None and not event.modifiers() & ~(
            QtCore.Qt.KeyboardModifier.KeypadModifier
        ):
            self.run_guarded(action)
            return True
        if watched is self.scan_input and event.key() == key.Key_Down:
            return self._focus_choices()
        if watched is self.amount_input and event.key() in (key.Key_Up, key.Key_Down):
            return self._focus_history()
        if watched is self.choice_list and self._is_typing(event):
            # Keys typed while the list has the focus belong to the scan input.
            self.scan_input.setFocus()
            copy = QtGui.QKeyEvent(
                event.type(), event.key(), event.modifiers(), event.text()
            )
            QCoreApplication.sendEvent(self.scan_input, copy)
            return True
        return super().eventFilter(watched, event)

    @staticmethod
    def _is_typing(event: QtGui.QKeyEvent) -> bool:
        key = QtCore.Qt.Key
        navigation = {
            key.Key_Up,
            key.Key_Down,
            key.Key_PageUp,
            key.Key_PageDown,
            key.Key_Home,
            key.Key_End,
            key.Key_Return,
            key.Key_Enter,
        }
        return bool(event.text()) and event.key() not in navigation

    def _focus_choices(self) -> bool:
        if not self.choice_list.isVisible() or self.choice_list.count() == 0:
            return False
        self.choice_list.setFocus()
        if self.choice_list.currentRow() < 0:
            self.choice_list.setCurrentRow(0)
        return True

    def _focus_history(self) -> bool:
        if self.history_table.rowCount() == 0:
            return False
        self.history_table.setFocus()
        if not self.history_table.selectionModel().selectedRows():
            self.history_table.selectRow(0)
        return True

    def escape(self) -> None:
        """Close the open form, or clear the member when no form is open."""
        if self.forms.isVisible():
            self.actions_.close_form()
            return
        self.clear_member()

    # Messages and errors ---------------------------------------------------------

    def show_message(self, text: str, level: str = "info") -> None:
        """Show one message to the cashier, replacing the previous one."""
        self.message_area.show_message(text, level)

    def service_text(self, error: BaseException) -> str:
        """Return an error's message for the cashier, translated when it can be."""
        if isinstance(error, ServiceError | DomainError):
            return QCoreApplication.translate("ServiceMessages", str(error))
        logger.error("unexpected error shown to the cashier: %r", error)
        return self.tr(
            "Something went wrong ({kind}). It was written to the log; try again,"
            " or tell a manager if it happens again."
        ).format(kind=type(error).__name__)

    def run_guarded(self, action: Callable[[], Any]) -> None:
        """Run a key or button handler; an unexpected error becomes a message."""
        try:
            action()
        except (ServiceError, DomainError) as error:
            self.show_message(self.service_text(error), "error")
        except Exception as error:
            logger.exception("handler %s failed", getattr(action, "__name__", action))
            self.show_message(self.service_text(error), "error")

    # Finding the member ----------------------------------------------------------

    def _on_scan_terminated(self) -> None:
        text = self.scan_input.text()
        raw = self.scan_input.burst.raw if self.scan_input.burst.is_scan() else text
        self.scan_input.clear_input()
        self._search_timer.stop()
        self.run_guarded(lambda: self.submit_scan(raw))

    def _on_scan_edited(self, _text: str) -> None:
        # The database is read only once the cashier stops typing.
        self._search_timer.start()

    def submit_scan(self, raw: str) -> None:
        """Look up what was scanned or typed and attach, list or explain the result."""
        if not raw.strip():
            return
        result: LookupResult = members.lookup_input(self.ctx, raw)
        if result.kind == "empty":
            # Only control characters or an AIM prefix arrived: nothing to look up.
            return
        self.lookup_done.emit(result)

        found = result.members
        if not found:
            self.choice_list.hide()
            self.show_message(
                QCoreApplication.translate("ServiceMessages", result.message)
                or self.tr("Nothing found: scan the card again or type the phone"),
                "error",
            )
            self.scan_input.setFocus()
            return
        if len(found) == 1:
            self.attach(found[0])
            return

        self._show_choices(found)
        if result.kind == "phone":
            text = self.tr(
                "{count} members share this phone number: choose one with the arrow"
                " keys and Enter."
            )
        else:
            text = self.tr(
                "{count} members match: choose one with the arrow keys and Enter."
            )
        self.show_message(text.format(count=len(found)), "warning")
        self._focus_choices()

    def _search_names(self) -> None:
        text = self.scan_input.text().strip()
        if (
            len(text) < NAME_SEARCH_MIN_LENGTH
            or any(ch.isdigit() for ch in text)
            or looks_like_phone(text)
            or looks_like_scan(self.scan_input.burst.raw)
        ):
            return
        try:
            found = members.search_by_name(self.ctx, text, limit=HISTORY_ROWS)
        except Exception as error:
            logger.exception("name search failed")
            self.show_message(self.service_text(error), "error")
            return
        if not found:
            self.choice_list.hide()
            self.show_message(self.tr("No member's name starts with that."), "info")
            return
        self._show_choices(found)
        self.show_message(
            self.tr(
                "{count} members found: press Down to choose, or keep typing."
            ).format(count=len(found)),
            "info",
        )

    def _show_choices(self, found: list[MemberView]) -> None:
        self.choice_list.clear()
        for member in found:
            card = mask_card_number(member.card_number) if member.card_number else "–"
            label = self.tr("{name}  ·  {phone}  ·  card {card}  ·  {points} points")
            item = QListWidgetItem(
                label.format(
                    name=member.name,
                    phone=member.phone or "–",
                    card=card,
                    points=format_points(member.balance, self.ctx.settings.locale),
                )
            )
            item.setData(QtCore.Qt.ItemDataRole.UserRole, member)
            self.choice_list.addItem(item)
        self.choice_list.show()

    def _on_choice_activated(self, item: QListWidgetItem) -> None:
        member = item.data(QtCore.Qt.ItemDataRole.UserRole)
        if isinstance(member, MemberView):
            self.run_guarded(lambda: self.attach(member))

    def attach(self, member: MemberView) -> None:
        """Make ``member`` the attached member and move the focus to the amount."""
        self.member = member
        self.visit_points = 0
        self.choice_list.hide()
        self.choice_list.clear()
        self.actions_.close_form(refocus=False)
        self.scan_input.clear_input()
        self.member_panel.show_member(member, 0)
        self.reload_history()
        self.amount_input.clear_input()
        self.amount_input.setFocus()
        self.show_message(
            self.tr("{name}: type the amount and press Enter.").format(
                name=member.name
            ),
            "info",
        )
        self.member_attached.emit(member)

    def reload_history(self) -> None:
        """Show the attached member's recent ledger entries."""
        if self.member is None:
            self.history_table.show_entries([])
            return
        self.history_table.show_entries(
            members.member_history(self.ctx, self.member.id, HISTORY_ROWS)
        )
        try:
            standing = loyalty.receipt_loyalty_block(self.ctx, self.member.id)
        except (ServiceError, DomainError):
            # The panel still shows the balance; only the programme lines are missing.
            logger.exception("standing of member %s not shown", self.member.id)
            standing = None
        self.member_panel.show_standing(standing)

    def update_balance(self, balance: int, earned: int = 0) -> None:
        """Show a new balance for the attached member after a write."""
        if self.member is None:
            return
        self.member = replace(self.member, balance=balance)
        self.visit_points += earned
        self.member_panel.show_member(self.member, self.visit_points)
        try:
            self.reload_history()
        except Exception:
            # The write is committed; only the list on screen is stale.
            logger.exception("history of member %s not refreshed", self.member.id)

    def clear_member(self) -> None:
        """Detach the member and return to the scan input."""
        self.member = None
        self.visit_points = 0
        self.member_panel.show_member(None)
        self.history_table.show_entries([])
        self.amount_input.clear_input()
        self.choice_list.hide()
        self.choice_list.clear()
        self.actions_.close_form(refocus=False)
        self.scan_input.clear_input()
        self.scan_input.setFocus()
        self.show_message("", "info")
        self.member_cleared.emit()

    # The sale ------------------------------------------------------------------------

    def _on_amount_terminated(self) -> None:
        burst, text = self.amount_input.burst.raw, self.amount_input.text()
        if looks_like_scan(burst) or looks_like_scan(text):
            # A card scanned while the amount had the focus is a lookup, not a sale.
            raw = burst if looks_like_scan(burst) else text
            self.amount_input.clear_input()
            self.run_guarded(lambda: self.submit_scan(raw))
            return
        self.amount_input.burst.reset()
        if not text.strip():
            return
        self.run_guarded(self.record_sale_from_input)

    def _on_amount_idle_scan(self) -> None:
        raw = self.amount_input.burst.raw
        self.amount_input.clear_input()
        self.run_guarded(lambda: self.submit_scan(raw))

    def record_sale_from_input(self) -> None:
        """Record a sale of the typed amount for the attached member."""
        if self._sale_in_flight:
            return
        member = self.member
        if member is None:
            self.show_message(
                self.tr("No member: scan the card or type the phone number first."),
                "error",
            )
            self.scan_input.setFocus()
            return
        settings = self.ctx.settings
        try:
            amount = parse_amount(
                self.amount_input.text(),
                settings.currency,
                settings.decimal_separator,
            )
        except DomainError as error:
            self.show_message(self.service_text(error), "error")
            self.amount_input.selectAll()
            return
        request = sales.SaleRequest(member.id, amount, print_receipt=True)
        self._sale_in_flight = True
        self.amount_input.setReadOnly(True)
        self.show_message(self.tr("Recording the sale…"), "info")
        self.runner.submit(
            "record sale",
            lambda: sales.record_sale(self.ctx, request),
            on_success=lambda result: self._on_sale_recorded(member, result),
            on_failure=self._on_sale_failed,
        )

    def _on_sale_recorded(self, member: MemberView, result: SaleResult) -> None:
        # NOTE: from here on the sale is committed; nothing below may lose it,
        # so every later failure only adds to the message.
        self._sale_in_flight = False
        self.amount_input.setReadOnly(False)
        self.amount_input.clear_input()
        self.last_sale_id = result.sale_id
        settings = self.ctx.settings
        if self.member is not None and self.member.id == member.id:
            self.update_balance(result.balance, result.points_earned)
        text = self.tr(
            "Sale of {amount} recorded for {name}: {earned} points earned,"
            " new balance {balance} points."
        ).format(
            amount=format_money(
                result.amount_minor, settings.currency, settings.locale
            ),
            name=member.name,
            earned=format_points(result.points_earned, settings.locale, signed=True),
            balance=format_points(result.balance, settings.locale),
        )
        self.show_message(text, "success")
        self.scan_input.setFocus()
        self.sale_recorded.emit(result)
        self.runner.submit(
            "print receipt",
            lambda: self.backends.after_sale(self.ctx, result),
            on_failure=lambda error: self._on_print_failed(text, error),
            lane=DEVICE_LANE,
        )

    def _on_print_failed(self, sale_text: str, error: BaseException) -> None:
        self.show_message(
            sale_text
            + " "
            + self.tr("The receipt did not print: {error}").format(
                error=self.service_text(error)
            ),
            "warning",
        )

    def _on_sale_failed(self, error: BaseException) -> None:
        self._sale_in_flight = False
        self.amount_input.setReadOnly(False)
        self.show_message(
            self.tr("The sale was not recorded: {error}").format(
                error=self.service_text(error)
            ),
            "error",
        )
        self.amount_input.setFocus()
        self.amount_input.selectAll()

    def start(self) -> None:
        """Finish what the first paint does not need, once the window is shown."""
        self._install_key_filter()
        settings = self.ctx.settings
        self.amount_input.setPlaceholderText(
            self.tr("such as {example}").format(
                example=f"12{settings.decimal_separator}34"
            )
        )
        # Load the lookup and sale services now, so the first scan does not wait.
        # NOTE: this must happen before status.start() submits work to other
        # threads: on Python 3.11 LazyLoader is not thread-safe, and a worker that
        # imports a half-loaded lazy module raises ImportError.
        _ = members.lookup_input, sales.record_sale, loyalty.receipt_loyalty_block
        _ = household.wallet_of
        self.status.start()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        self._search_timer.stop()
        self.status.stop()
        # Each worker thread opened its own SQLite connection; close it there.
        self.runner.shutdown(cleanup=self.ctx.db.close)
        super().closeEvent(event)

"""The programme settings screen: the dialog shell and its pages.

The earning rule, rewards and tiers live in ``ui.settings_earning``, the
economics panel in ``ui.settings_economics``, and the bonus period,
challenge, engagement, expiry and redemption pages in
``ui.settings_programme``.

The till window opens it with F7 after a manager's PIN (see
``TillActions.open_programme``). Every read and change runs on the
``TaskRunner``'s ledger lane through ``services.rules_settings`` and
``services.programme``, which version and audit each change. After each
change the screen reads the programme again, so the economics panel shows the
rules in force.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from posloyalty.domain.errors import DomainError
from posloyalty.services import rules_settings
from posloyalty.services.context import TillContext
from posloyalty.services.errors import ServiceError
from posloyalty.services.rules_settings import RulesSnapshot
from posloyalty.ui.format import (
    format_amount_for_input,
    format_money,
)
from posloyalty.ui.settings_earning import EarningPagesMixin
from posloyalty.ui.settings_economics import EconomicsPanelMixin
from posloyalty.ui.settings_programme import ProgrammePagesMixin
from posloyalty.ui.tasks import TaskRunner

logger = logging.getLogger(__name__)

# The till window's 16pt would make this screen taller than the 700-pixel
# minimum window.
_STYLE = """
QWidget { font-size: 12pt; }
QPushButton { font-size: 12pt; padding: 4px 8px; }
QLabel#formTitle { font-size: 15pt; font-weight: bold; }
QLabel#settingsMessage[level="error"] { color: #7f1d1d; font-weight: bold; }
QLabel#settingsMessage[level="success"] { color: #14532d; }
QLabel#readOnly, QLabel#economicsWarnings[warning="true"] {
    color: #92400e; font-weight: bold;
}
"""

# Inside the till window's 1024 x 700 minimum, wide enough for whole lines.
MIN_WIDTH = 960
MIN_HEIGHT = 640


class ProgrammeSettingsDialog(
    EarningPagesMixin, EconomicsPanelMixin, ProgrammePagesMixin, QDialog
):
    """Edit the whole programme and show its economics, one tab per part.

    An invalid value shows the service's message in the dialog and nothing is
    saved. A till that takes its rules from the head office shows why its
    edits are rejected.

    Signals:
        changed(object): the ``RulesSnapshot`` read after a saved change.
        refreshed(object): every ``RulesSnapshot`` shown, the first included.
    """

    changed = Signal(object)
    refreshed = Signal(object)

    def __init__(
        self,
        ctx: TillContext,
        runner: TaskRunner,
        staff_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runner = runner
        self.staff_name = staff_name
        self.snapshot: RulesSnapshot | None = None
        self._is_busy = False
        self._focus: QWidget | None = None
        self.setWindowTitle(self.tr("Programme settings"))
        self.setStyleSheet(_STYLE)
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)

        self.heading = QLabel(self.tr("Programme settings"))
        self.heading.setObjectName("formTitle")
        self.read_only_label = QLabel()
        self.read_only_label.setObjectName("readOnly")
        self.read_only_label.setWordWrap(True)
        self.read_only_label.hide()
        self.message = QLabel()
        self.message.setObjectName("settingsMessage")
        self.message.setWordWrap(True)

        self._editors: list[QWidget] = []
        left = QVBoxLayout()
        left.addWidget(self._build_base_rule())
        left.addWidget(self._build_economics())
        right = QVBoxLayout()
        right.addWidget(self._build_rewards())
        right.addWidget(self._build_tiers())
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        earning_page = QWidget()
        earning_page.setLayout(columns)
        self.tabs = QTabWidget()
        self.tabs.addTab(earning_page, self.tr("Earning, rewards, tiers"))
        self.tabs.addTab(self._build_bonus_page(), self.tr("Bonus periods"))
        self.tabs.addTab(self._build_challenge_page(), self.tr("Challenges"))
        self.tabs.addTab(self._build_engagement_page(), self.tr("Engagement"))
        self.tabs.addTab(
            self._build_expiry_redemption_page(), self.tr("Expiry and redemption")
        )

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.read_only_label)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addWidget(close)

        self.earn_rate_input.setFocus()
        self.refresh()

    # Layout ---------------------------------------------------------------------

    def _line_edit(self, placeholder: str = "") -> QLineEdit:
        field = QLineEdit()
        field.setPlaceholderText(placeholder)
        self._editors.append(field)
        return field

    def _push_button(self, text: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        self._editors.append(button)
        return button

    # Reading ------------------------------------------------------------------------

    @property
    def is_busy(self) -> bool:
        """True while a read or a change runs on the worker thread."""
        return self._is_busy

    def refresh(self) -> None:
        """Read the programme in force again, off the GUI thread."""
        self._set_busy(True)
        self.runner.submit(
            "read programme settings",
            lambda: rules_settings.settings_snapshot(self.ctx),
            on_success=self._show_snapshot,
            on_failure=self._on_read_failed,
        )

    def _on_read_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self.show_message(
            self.tr("The programme could not be read: {error}").format(
                error=self._error_text(error)
            ),
            "error",
        )

    def _show_snapshot(self, snapshot: RulesSnapshot) -> None:
        self.snapshot = snapshot
        self._set_busy(False)
        self.heading.setText(
            self.tr(
                "Programme settings: rule version {version}, changes by {name}"
            ).format(version=snapshot.version, name=self.staff_name)
        )
        if snapshot.read_only_reason:
            self.read_only_label.setText(snapshot.read_only_reason)
            self.read_only_label.show()
        else:
            self.read_only_label.hide()
        for key, field in self._base_fields().items():
            field.setText(snapshot.base_rule.get(key, ""))
        self._show_rewards(snapshot.rewards)
        self._show_tiers(snapshot.tiers, snapshot.tier_basis)
        self._show_economics(snapshot)
        self.basket_input.setText(self._plain_amount(snapshot.typical_basket_minor))
        self.low_rate_input.setText(snapshot.low_rate)
        self.high_rate_input.setText(snapshot.high_rate)
        self._show_programme_pages(snapshot.programme)
        self.refreshed.emit(snapshot)

    def _plain_amount(self, minor: int) -> str:
        settings = self.ctx.settings
        return format_amount_for_input(
            minor, settings.currency, settings.decimal_separator
        )

    def _money(self, minor: int) -> str:
        settings = self.ctx.settings
        return format_money(minor, settings.currency, settings.locale)

    # Changes ------------------------------------------------------------------------

    def _change(
        self,
        name: str,
        work: Callable[[], object],
        success_text: str,
        on_success: Callable[[], None] | None = None,
    ) -> None:
        self._set_busy(True)
        self.show_message(self.tr("Saving…"), "info")

        def succeeded(_result: object) -> None:
            if on_success is not None:
                on_success()
            self.show_message(success_text, "success")
            self.refreshed.connect(self._emit_changed_once)
            self.refresh()

        def failed(error: BaseException) -> None:
            self._set_busy(False)
            self.show_message(
                self.tr("Nothing was saved: {error}").format(
                    error=self._error_text(error)
                ),
                "error",
            )

        self.runner.submit(name, work, on_success=succeeded, on_failure=failed)

    def _emit_changed_once(self, snapshot: RulesSnapshot) -> None:
        self.refreshed.disconnect(self._emit_changed_once)
        self.changed.emit(snapshot)

    # Messages -----------------------------------------------------------------------

    def show_message(self, text: str, level: str = "info") -> None:
        """Show one message under the settings, replacing the previous one."""
        self.message.setText(text)
        self.message.setProperty("level", level)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def _reject_input(self, field: QLineEdit, text: str) -> None:
        self.show_message(text, "error")
        field.setFocus()
        field.selectAll()

    def _error_text(self, error: BaseException) -> str:
        if isinstance(error, ServiceError | DomainError):
            return str(error)
        logger.error("programme settings change failed: %r", error)
        return self.tr(
            "something went wrong ({kind}); it was written to the log"
        ).format(kind=type(error).__name__)

    def _set_busy(self, is_busy: bool) -> None:
        # A disabled widget loses the focus; give it back when the work ends.
        if is_busy and self._focus is None:
            focused = QApplication.focusWidget()
            self._focus = focused if focused in self._editors else None
        self._is_busy = is_busy
        for widget in self._editors:
            widget.setEnabled(not is_busy)
        if not is_busy and self._focus is not None:
            self._focus.setFocus()
            self._focus = None

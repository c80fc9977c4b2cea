"""The programme settings screen: base earning rule, rewards, tiers, economics.

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
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from posloyalty.domain.errors import DomainError
from posloyalty.domain.money import parse_amount
from posloyalty.domain.programme import REWARD_KINDS, Reward, TierLevel
from posloyalty.services import programme, rules_settings
from posloyalty.services.context import TillContext
from posloyalty.services.errors import ServiceError
from posloyalty.services.rules_settings import RulesSnapshot
from posloyalty.ui.format import (
    format_amount_for_input,
    format_money,
    format_points,
)
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

_REWARD_KIND_LABELS = {
    "free_item": "free item",
    "amount_off": "amount off",
    "percent_off": "percent off",
}


class ProgrammeSettingsDialog(QDialog):
    """Edit the base earning rule, the rewards and the tiers; show the economics.

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

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.read_only_label)
        layout.addLayout(columns, 1)
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

    def _build_base_rule(self) -> QGroupBox:
        self.earn_rate_input = self._line_edit(self.tr("points per 1.00, such as 1"))
        self.excluded_skus_input = self._line_edit(self.tr("such as TOBACCO,GIFTCARD"))
        self.minimum_spend_input = self._line_edit(self.tr("such as 5.00"))
        self.point_value_input = self._line_edit(self.tr("such as 0.01"))
        self.save_rule_button = self._push_button(
            self.tr("Save earning rule"), self.save_base_rule
        )
        for field in self._base_fields().values():
            field.returnPressed.connect(self.save_base_rule)

        box = QGroupBox(self.tr("Earning rule"))
        form = QFormLayout(box)
        form.addRow(self.tr("Points per 1.00"), self.earn_rate_input)
        form.addRow(self.tr("Excluded stock codes"), self.excluded_skus_input)
        form.addRow(self.tr("Minimum spend"), self.minimum_spend_input)
        form.addRow(self.tr("Value of a point"), self.point_value_input)
        form.addRow(self.save_rule_button)
        return box

    def _base_fields(self) -> dict[str, QLineEdit]:
        return {
            "earn_rate": self.earn_rate_input,
            "excluded_skus": self.excluded_skus_input,
            "minimum_spend": self.minimum_spend_input,
            "point_value": self.point_value_input,
        }

    def _build_economics(self) -> QGroupBox:
        self.rate_label = QLabel()
        self.basket_label = QLabel()
        self.thresholds_label = QLabel()
        self.liability_label = QLabel()
        for label in (
            self.rate_label,
            self.basket_label,
            self.thresholds_label,
            self.liability_label,
        ):
            label.setWordWrap(True)
        self.warnings_label = QLabel()
        self.warnings_label.setObjectName("economicsWarnings")
        self.warnings_label.setWordWrap(True)

        self.basket_input = self._line_edit(self.tr("25.00"))
        self.low_rate_input = self._line_edit(self.tr("0.50"))
        self.high_rate_input = self._line_edit(self.tr("5.00"))
        self.save_thresholds_button = self._push_button(
            self.tr("Save basket and thresholds"), self.save_thresholds
        )
        for field in self._threshold_fields():
            field.returnPressed.connect(self.save_thresholds)
        thresholds = QHBoxLayout()
        thresholds.addWidget(QLabel(self.tr("Basket")))
        thresholds.addWidget(self.basket_input)
        thresholds.addWidget(QLabel(self.tr("Low")))
        thresholds.addWidget(self.low_rate_input)
        thresholds.addWidget(QLabel(self.tr("High")))
        thresholds.addWidget(self.high_rate_input)

        box = QGroupBox(self.tr("Programme economics"))
        form = QFormLayout(box)
        form.addRow(self.tr("Reward rate"), self.rate_label)
        form.addRow(self.tr("Typical basket"), self.basket_label)
        form.addRow(self.tr("Warn outside"), self.thresholds_label)
        form.addRow(self.tr("Liability"), self.liability_label)
        form.addRow(self.warnings_label)
        form.addRow(thresholds)
        form.addRow(self.save_thresholds_button)
        return box

    def _threshold_fields(self) -> tuple[QLineEdit, QLineEdit, QLineEdit]:
        return self.basket_input, self.low_rate_input, self.high_rate_input

    def _build_rewards(self) -> QGroupBox:
        self.rewards_list = QListWidget()
        self.reward_code_input = self._line_edit(self.tr("such as COFFEE"))
        self.reward_name_input = self._line_edit(self.tr("on the receipt"))
        self.reward_kind_input = QComboBox()
        for kind in REWARD_KINDS:
            self.reward_kind_input.addItem(self.tr(_REWARD_KIND_LABELS[kind]), kind)
        self._editors.append(self.reward_kind_input)
        self.reward_cost_input = self._line_edit(self.tr("such as 500"))
        self.reward_value_input = self._line_edit(
            self.tr("money, or the % for percent off")
        )
        self.add_reward_button = self._push_button(
            self.tr("Add reward"), self.add_reward
        )
        self.remove_reward_button = self._push_button(
            self.tr("Remove selected"), self.remove_reward
        )
        for field in (
            self.reward_code_input,
            self.reward_name_input,
            self.reward_cost_input,
            self.reward_value_input,
        ):
            field.returnPressed.connect(self.add_reward)

        box = QGroupBox(self.tr("Rewards"))
        layout = QVBoxLayout(box)
        layout.addWidget(self.rewards_list)
        grid = QGridLayout()
        grid.addWidget(QLabel(self.tr("Code")), 0, 0)
        grid.addWidget(self.reward_code_input, 0, 1)
        grid.addWidget(QLabel(self.tr("Name")), 0, 2)
        grid.addWidget(self.reward_name_input, 0, 3)
        grid.addWidget(QLabel(self.tr("Kind")), 1, 0)
        grid.addWidget(self.reward_kind_input, 1, 1)
        grid.addWidget(QLabel(self.tr("Points")), 1, 2)
        grid.addWidget(self.reward_cost_input, 1, 3)
        grid.addWidget(QLabel(self.tr("Value")), 2, 0)
        grid.addWidget(self.reward_value_input, 2, 1, 1, 3)
        grid.addWidget(self.add_reward_button, 3, 0, 1, 2)
        grid.addWidget(self.remove_reward_button, 3, 2, 1, 2)
        layout.addLayout(grid)
        return box

    def _build_tiers(self) -> QGroupBox:
        self.tiers_list = QListWidget()
        self.tier_name_input = self._line_edit(self.tr("such as Gold"))
        self.tier_threshold_input = self._line_edit(self.tr("points earned"))
        self.tier_multiplier_input = self._line_edit(self.tr("such as 1.5"))
        self.add_tier_button = self._push_button(self.tr("Add tier"), self.add_tier)
        self.remove_tier_button = self._push_button(
            self.tr("Remove selected"), self.remove_tier
        )
        for field in (
            self.tier_name_input,
            self.tier_threshold_input,
            self.tier_multiplier_input,
        ):
            field.returnPressed.connect(self.add_tier)

        box = QGroupBox(self.tr("Tiers"))
        layout = QVBoxLayout(box)
        layout.addWidget(self.tiers_list)
        grid = QGridLayout()
        grid.addWidget(QLabel(self.tr("Name")), 0, 0)
        grid.addWidget(self.tier_name_input, 0, 1)
        grid.addWidget(QLabel(self.tr("From")), 0, 2)
        grid.addWidget(self.tier_threshold_input, 0, 3)
        grid.addWidget(QLabel(self.tr("Points ×")), 1, 0)
        grid.addWidget(self.tier_multiplier_input, 1, 1)
        grid.addWidget(self.add_tier_button, 2, 0, 1, 2)
        grid.addWidget(self.remove_tier_button, 2, 2, 1, 2)
        layout.addLayout(grid)
        return box

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
        self.refreshed.emit(snapshot)

    def _show_rewards(self, rewards: tuple[Reward, ...]) -> None:
        self.rewards_list.clear()
        locale = self.ctx.settings.locale
        for reward in rewards:
            text = self.tr("{code}  ·  {name}  ·  {cost} points  ·  {value}").format(
                code=reward.code,
                name=reward.name,
                cost=format_points(reward.points_cost, locale),
                value=self._reward_value(reward),
            )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, reward.code)
            self.rewards_list.addItem(item)

    def _reward_value(self, reward: Reward) -> str:
        if reward.kind == "percent_off":
            return self.tr("{percent}% off").format(percent=reward.percent)
        money = self._money(reward.value_minor)
        if reward.kind == "free_item":
            return self.tr("free {sku} ({money})").format(
                sku=reward.sku or self.tr("item"), money=money
            )
        return self.tr("{money} off").format(money=money)

    def _show_tiers(self, tiers: tuple[TierLevel, ...], basis: str) -> None:
        self.tiers_list.clear()
        locale = self.ctx.settings.locale
        for tier in tiers:
            if basis == "spend":
                threshold = self.tr("from {money} spent").format(
                    money=self._money(tier.threshold)
                )
            else:
                threshold = self.tr("from {points} points").format(
                    points=format_points(tier.threshold, locale)
                )
            text = self.tr("{name}  ·  {threshold}  ·  points ×{factor}").format(
                name=tier.name, threshold=threshold, factor=tier.multiplier
            )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, tier.name)
            self.tiers_list.addItem(item)
        placeholder = (
            self.tr("amount spent") if basis == "spend" else self.tr("points earned")
        )
        self.tier_threshold_input.setPlaceholderText(placeholder)

    def _show_economics(self, snapshot: RulesSnapshot) -> None:
        view = snapshot.economics
        economics = view.economics
        currency = self.ctx.settings.currency
        rate_minor = int(economics.rate_per_100)

        self.rate_label.setText(
            self.tr("{rate} given back per {hundred} spent").format(
                rate=self._money(rate_minor),
                hundred=self._money(100 * currency.minor_per_unit),
            )
        )
        self.basket_label.setText(
            self.tr("{basket}, earning {points} points").format(
                basket=self._money(economics.basket_minor),
                points=format_points(
                    economics.points_on_basket, self.ctx.settings.locale
                ),
            )
        )
        self.thresholds_label.setText(
            self.tr("below {low} or above {high} per 100.00").format(
                low=snapshot.low_rate, high=snapshot.high_rate
            )
        )

        self.liability_label.setText(
            self.tr("{money} for {points} outstanding points").format(
                money=self._money(view.liability_minor),
                points=format_points(view.outstanding_points, self.ctx.settings.locale),
            )
        )

        self.warnings_label.setProperty("warning", bool(economics.warnings))
        self.warnings_label.style().unpolish(self.warnings_label)
        self.warnings_label.style().polish(self.warnings_label)
        if economics.warnings:
            self.warnings_label.setText(
                "\n".join(
                    self.tr("Warning: {text}").format(text=warning)
                    for warning in economics.warnings
                )
            )
        else:
            self.warnings_label.setText(self.tr("Within both thresholds."))

    def _plain_amount(self, minor: int) -> str:
        settings = self.ctx.settings
        return format_amount_for_input(
            minor, settings.currency, settings.decimal_separator
        )

    def _money(self, minor: int) -> str:
        settings = self.ctx.settings
        return format_money(minor, settings.currency, settings.locale)

    # Changes ------------------------------------------------------------------------

    def save_base_rule(self) -> None:
        """Save the edited values of the base earning rule as a new rule version."""
        if self.snapshot is None or self._is_busy:
            return
        changes = {
            key: field.text().strip()
            for key, field in self._base_fields().items()
            if field.text().strip() != self.snapshot.base_rule.get(key, "")
        }
        if not changes:
            self.show_message(
                self.tr("Nothing to save: the earning rule is as shown."), "info"
            )
            return
        self._change(
            "change base rule",
            lambda: rules_settings.change_base_rule(self.ctx, changes, self.staff_name),
            self.tr("Earning rule saved."),
        )

    def save_thresholds(self) -> None:
        """Save the typical basket and the low and high reward rate thresholds."""
        if self.snapshot is None or self._is_busy:
            return
        settings = self.ctx.settings
        try:
            basket = parse_amount(
                self.basket_input.text(), settings.currency, settings.decimal_separator
            )
        except DomainError as error:
            self._reject_input(self.basket_input, str(error))
            return
        values: dict[str, Any] = {}
        if basket != self.snapshot.typical_basket_minor:
            values["typical_basket_minor"] = basket
        for key, field, shown in (
            ("low_rate", self.low_rate_input, self.snapshot.low_rate),
            ("high_rate", self.high_rate_input, self.snapshot.high_rate),
        ):
            if field.text().strip() != shown:
                values[key] = field.text().strip()
        if not values:
            self.show_message(
                self.tr("Nothing to save: the basket and thresholds are as shown."),
                "info",
            )
            return
        self._change(
            "change economics thresholds",
            lambda: programme.update_section(
                self.ctx, "economics", values, self.staff_name
            ),
            self.tr("Basket and thresholds saved."),
        )

    def add_reward(self) -> None:
        """Add the typed reward, or replace the reward with the same code."""
        if self._is_busy:
            return
        code = self.reward_code_input.text().strip()
        cost_text = self.reward_cost_input.text().strip()
        value_text = self.reward_value_input.text().strip()
        kind = self.reward_kind_input.currentData()
        if not code:
            self._reject_input(
                self.reward_code_input,
                self.tr("Missing reward code: type a short code, such as COFFEE."),
            )
            return
        if not cost_text.isdecimal() or int(cost_text) <= 0:
            self._reject_input(
                self.reward_cost_input,
                self.tr(
                    "Invalid points cost {text!r}: type a whole number above 0,"
                    " such as 500."
                ).format(text=cost_text),
            )
            return
        item: dict[str, Any] = {
            "code": code,
            "name": self.reward_name_input.text().strip() or code,
            "kind": kind,
            "points_cost": int(cost_text),
            "value_minor": 0,
            "percent": "0",
            "sku": "",
        }
        if kind == "percent_off":
            item["percent"] = value_text or "0"
        elif value_text:
            settings = self.ctx.settings
            try:
                item["value_minor"] = parse_amount(
                    value_text, settings.currency, settings.decimal_separator
                )
            except DomainError as error:
                self._reject_input(self.reward_value_input, str(error))
                return

        def done() -> None:
            for field in (
                self.reward_code_input,
                self.reward_name_input,
                self.reward_cost_input,
                self.reward_value_input,
            ):
                field.clear()

        self._change(
            "add reward",
            lambda: programme.add_item(self.ctx, "rewards", item, self.staff_name),
            self.tr("Reward {code} saved.").format(code=code),
            done,
        )

    def remove_reward(self) -> None:
        """Remove the reward selected in the list."""
        item = self.rewards_list.currentItem()
        if item is None or self._is_busy:
            self.show_message(self.tr("Select a reward to remove."), "error")
            return
        code = item.data(Qt.ItemDataRole.UserRole)
        self._change(
            "remove reward",
            lambda: programme.remove_item(self.ctx, "rewards", code, self.staff_name),
            self.tr("Reward {code} removed.").format(code=code),
        )

    def add_tier(self) -> None:
        """Add the typed tier, or change the tier with the same name."""
        if self._is_busy or self.snapshot is None:
            return
        name = self.tier_name_input.text().strip()
        text = self.tier_threshold_input.text().strip()
        multiplier = self.tier_multiplier_input.text().strip() or "1"
        if not name:
            self._reject_input(
                self.tier_name_input,
                self.tr("Missing tier name: type a name, such as Gold."),
            )
            return
        if self.snapshot.tier_basis == "spend":
            settings = self.ctx.settings
            try:
                threshold = parse_amount(
                    text, settings.currency, settings.decimal_separator
                )
            except DomainError as error:
                self._reject_input(self.tier_threshold_input, str(error))
                return
        elif text.isdecimal():
            threshold = int(text)
        else:
            self._reject_input(
                self.tier_threshold_input,
                self.tr(
                    "Invalid threshold {text!r}: type a whole number of points,"
                    " such as 1000."
                ).format(text=text),
            )
            return

        def done() -> None:
            self.tier_name_input.clear()
            self.tier_threshold_input.clear()
            self.tier_multiplier_input.clear()

        self._change(
            "add tier",
            lambda: programme.add_tier(
                self.ctx, name, threshold, multiplier, self.staff_name
            ),
            self.tr("Tier {name} saved.").format(name=name),
            done,
        )

    def remove_tier(self) -> None:
        """Remove the tier selected in the list."""
        item = self.tiers_list.currentItem()
        if item is None or self._is_busy:
            self.show_message(self.tr("Select a tier to remove."), "error")
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        self._change(
            "remove tier",
            lambda: programme.remove_tier(self.ctx, name, self.staff_name),
            self.tr("Tier {name} removed.").format(name=name),
        )

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

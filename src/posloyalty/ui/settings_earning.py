"""The earning rule, rewards and tiers of the programme settings screen.

``EarningPagesMixin`` builds, shows and saves these groups for
``ProgrammeSettingsDialog``, which provides the shared helpers
(``_line_edit``, ``_change``, ``_reject_input``, ``_money``).
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from posloyalty.domain.errors import DomainError
from posloyalty.domain.money import parse_amount
from posloyalty.domain.programme import REWARD_KINDS, Reward, TierLevel
from posloyalty.services import programme, rules_settings
from posloyalty.ui.format import format_points

logger = logging.getLogger(__name__)

_REWARD_KIND_LABELS = {
    "free_item": "free item",
    "amount_off": "amount off",
    "percent_off": "percent off",
}


class EarningPagesMixin:
    """The base earning rule, rewards and tiers groups of the settings dialog."""

    # Layout ---------------------------------------------------------------------

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

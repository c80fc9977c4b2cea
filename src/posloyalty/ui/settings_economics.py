"""The programme economics panel of the settings screen.

``EconomicsPanelMixin`` shows the reward rate, the liability and the warnings
of ``services.rewards.programme_economics`` and saves the typical basket and
the warning thresholds for ``ProgrammeSettingsDialog``.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
)

from posloyalty.domain.errors import DomainError
from posloyalty.domain.money import parse_amount
from posloyalty.services import programme
from posloyalty.services.rules_settings import RulesSnapshot
from posloyalty.ui.format import format_points

logger = logging.getLogger(__name__)


class EconomicsPanelMixin:
    """The economics group of the settings dialog."""

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

"""Settings pages for bonus periods, challenges, engagement, expiry and redemption.

``ProgrammePagesMixin`` builds these pages for ``ProgrammeSettingsDialog``
(which provides ``_line_edit``, ``_change``, ``_reject_input`` and
``_money``). Values go to ``services.programme`` as typed, apart from whole
numbers and amounts, and the service's validation message is shown when one
is invalid, so these pages reject exactly what ``posloyalty rules`` rejects.
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
    QWidget,
)

from posloyalty.domain.errors import DomainError
from posloyalty.domain.money import parse_amount
from posloyalty.domain.programme import (
    ENGAGEMENT_KINDS,
    GOAL_KINDS,
    PERIODS,
    WEEKDAYS,
    BonusPeriod,
    Challenge,
    EngagementValue,
    Programme,
)
from posloyalty.domain.programme_document import parse_weekdays
from posloyalty.services import programme as programme_service
from posloyalty.ui.format import format_points

logger = logging.getLogger(__name__)

_GOAL_LABELS = {
    "visits": "visits",
    "spend": "amount spent",
    "distinct_products": "different products",
}


def _whole_number(text: str) -> int | str:
    """Return ``text`` as an int, or unchanged so the service rejects it."""
    try:
        return int(text)
    except ValueError:
        return text


def _list_item(text: str, key: str) -> QListWidgetItem:
    item = QListWidgetItem(text)
    item.setData(Qt.ItemDataRole.UserRole, key)
    return item


class ProgrammePagesMixin:
    """Bonus periods, challenges, engagement values, expiry and redemption."""

    # Layout ---------------------------------------------------------------------

    def _build_bonus_page(self) -> QWidget:
        self.bonus_list = QListWidget()
        self.bonus_name_input = self._line_edit(self.tr("such as Double Saturday"))
        self.bonus_multiplier_input = self._line_edit(self.tr("such as 2"))
        self.bonus_from_input = self._line_edit(self.tr("2025-12-01, or empty"))
        self.bonus_until_input = self._line_edit(self.tr("2025-12-24, or empty"))
        self.bonus_days_input = self._line_edit(self.tr("sat,sun, or empty for all"))
        self.bonus_start_input = self._line_edit(self.tr("09:00, or empty"))
        self.bonus_end_input = self._line_edit(self.tr("12:00, or empty"))
        self.add_bonus_button = self._push_button(
            self.tr("Add bonus period"), self.add_bonus_period
        )
        self.remove_bonus_button = self._push_button(
            self.tr("Remove selected"), self.remove_bonus_period
        )
        for field in self._bonus_fields():
            field.returnPressed.connect(self.add_bonus_period)

        grid = QGridLayout()
        rows = (
            (self.tr("Name"), self.bonus_name_input),
            (self.tr("Points ×"), self.bonus_multiplier_input),
            (self.tr("From date"), self.bonus_from_input),
            (self.tr("Until date"), self.bonus_until_input),
            (self.tr("Weekdays"), self.bonus_days_input),
            (self.tr("From time"), self.bonus_start_input),
            (self.tr("Until time"), self.bonus_end_input),
        )
        for index, (label, field) in enumerate(rows):
            grid.addWidget(QLabel(label), index // 2, (index % 2) * 2)
            grid.addWidget(field, index // 2, (index % 2) * 2 + 1)
        grid.addWidget(self.add_bonus_button, 4, 0, 1, 2)
        grid.addWidget(self.remove_bonus_button, 4, 2, 1, 2)
        hint = QLabel(
            self.tr(
                "Dates and times are the shop's local time. The until date is"
                " included; the until time is not."
            )
        )
        hint.setWordWrap(True)
        return self._page(self.tr("Bonus periods"), self.bonus_list, grid, hint)

    def _bonus_fields(self) -> tuple[QLineEdit, ...]:
        return (
            self.bonus_name_input,
            self.bonus_multiplier_input,
            self.bonus_from_input,
            self.bonus_until_input,
            self.bonus_days_input,
            self.bonus_start_input,
            self.bonus_end_input,
        )

    def _build_challenge_page(self) -> QWidget:
        self.challenges_list = QListWidget()
        self.challenge_code_input = self._line_edit(self.tr("such as VISITS5"))
        self.challenge_name_input = self._line_edit(self.tr("Five visits a month"))
        self.challenge_goal_input = self._combo(
            (self.tr(_GOAL_LABELS[goal]), goal) for goal in GOAL_KINDS
        )
        self.challenge_target_input = self._line_edit(
            self.tr("visits or products, or an amount")
        )
        self.challenge_period_input = self._combo(
            (self.tr(period), period) for period in PERIODS
        )
        self.challenge_period_input.setCurrentIndex(PERIODS.index("month"))
        self.challenge_bonus_input = self._line_edit(self.tr("points, such as 200"))
        self.add_challenge_button = self._push_button(
            self.tr("Add challenge"), self.add_challenge
        )
        self.remove_challenge_button = self._push_button(
            self.tr("Remove selected"), self.remove_challenge
        )
        for field in (
            self.challenge_code_input,
            self.challenge_name_input,
            self.challenge_target_input,
            self.challenge_bonus_input,
        ):
            field.returnPressed.connect(self.add_challenge)

        grid = QGridLayout()
        grid.addWidget(QLabel(self.tr("Code")), 0, 0)
        grid.addWidget(self.challenge_code_input, 0, 1)
        grid.addWidget(QLabel(self.tr("Name")), 0, 2)
        grid.addWidget(self.challenge_name_input, 0, 3)
        grid.addWidget(QLabel(self.tr("Goal")), 1, 0)
        grid.addWidget(self.challenge_goal_input, 1, 1)
        grid.addWidget(QLabel(self.tr("Target")), 1, 2)
        grid.addWidget(self.challenge_target_input, 1, 3)
        grid.addWidget(QLabel(self.tr("Period")), 2, 0)
        grid.addWidget(self.challenge_period_input, 2, 1)
        grid.addWidget(QLabel(self.tr("Bonus")), 2, 2)
        grid.addWidget(self.challenge_bonus_input, 2, 3)
        grid.addWidget(self.add_challenge_button, 3, 0, 1, 2)
        grid.addWidget(self.remove_challenge_button, 3, 2, 1, 2)
        return self._page(self.tr("Challenges"), self.challenges_list, grid)

    def _build_engagement_page(self) -> QWidget:
        self.engagement_list = QListWidget()
        self.engagement_kind_input = self._combo(
            (self.tr(kind.replace("_", " ")), kind) for kind in ENGAGEMENT_KINDS
        )
        self.engagement_points_input = self._line_edit(self.tr("such as 50"))
        self.engagement_cap_input = self._line_edit(self.tr("0 for no cap"))
        self.engagement_period_input = self._combo(
            (self.tr(period), period) for period in PERIODS
        )
        self.engagement_period_input.setCurrentIndex(PERIODS.index("month"))
        self.set_engagement_button = self._push_button(
            self.tr("Set value"), self.set_engagement
        )
        self.remove_engagement_button = self._push_button(
            self.tr("Stop paying selected"), self.remove_engagement
        )
        for field in (self.engagement_points_input, self.engagement_cap_input):
            field.returnPressed.connect(self.set_engagement)

        grid = QGridLayout()
        grid.addWidget(QLabel(self.tr("Kind")), 0, 0)
        grid.addWidget(self.engagement_kind_input, 0, 1)
        grid.addWidget(QLabel(self.tr("Points")), 0, 2)
        grid.addWidget(self.engagement_points_input, 0, 3)
        grid.addWidget(QLabel(self.tr("Cap per member")), 1, 0)
        grid.addWidget(self.engagement_cap_input, 1, 1)
        grid.addWidget(QLabel(self.tr("per")), 1, 2)
        grid.addWidget(self.engagement_period_input, 1, 3)
        grid.addWidget(self.set_engagement_button, 2, 0, 1, 2)
        grid.addWidget(self.remove_engagement_button, 2, 2, 1, 2)
        return self._page(self.tr("Engagement points"), self.engagement_list, grid)

    def _build_expiry_redemption_page(self) -> QWidget:
        self.expiry_label = QLabel()
        self.expiry_months_input = self._line_edit(self.tr("months, 0 for never"))
        self.save_expiry_button = self._push_button(
            self.tr("Save expiry"), self.save_expiry
        )
        self.expiry_months_input.returnPressed.connect(self.save_expiry)
        expiry = QGroupBox(self.tr("Expiry"))
        expiry_form = QFormLayout(expiry)
        expiry_form.addRow(self.tr("In force"), self.expiry_label)
        expiry_form.addRow(
            self.tr("Months until points expire"), self.expiry_months_input
        )
        expiry_form.addRow(self.save_expiry_button)

        self.redemption_label = QLabel()
        self.redemption_label.setWordWrap(True)
        self.minimum_balance_input = self._line_edit(self.tr("points, such as 500"))
        self.max_share_input = self._line_edit(self.tr("percent, such as 50"))
        self.save_redemption_button = self._push_button(
            self.tr("Save redemption policy"), self.save_redemption
        )
        for field in (self.minimum_balance_input, self.max_share_input):
            field.returnPressed.connect(self.save_redemption)
        redemption = QGroupBox(self.tr("Redemption policy"))
        redemption_form = QFormLayout(redemption)
        redemption_form.addRow(self.tr("In force"), self.redemption_label)
        redemption_form.addRow(self.tr("Minimum balance"), self.minimum_balance_input)
        redemption_form.addRow(
            self.tr("Max share of a basket (%)"), self.max_share_input
        )
        redemption_form.addRow(self.save_redemption_button)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(expiry)
        layout.addWidget(redemption)
        layout.addStretch(1)
        return page

    def _combo(self, choices) -> QComboBox:
        combo = QComboBox()
        for label, value in choices:
            combo.addItem(label, value)
        self._editors.append(combo)
        return combo

    def _page(self, title: str, listing: QListWidget, *parts) -> QWidget:
        box = QGroupBox(title)
        layout = QVBoxLayout(box)
        layout.addWidget(listing, 1)
        for part in parts:
            if isinstance(part, QWidget):
                layout.addWidget(part)
            else:
                layout.addLayout(part)
        page = QWidget()
        QVBoxLayout(page).addWidget(box)
        return page

    # Reading ------------------------------------------------------------------------

    def _show_programme_pages(self, programme: Programme) -> None:
        self.bonus_list.clear()
        for period in programme.bonus_periods:
            self.bonus_list.addItem(_list_item(self._bonus_text(period), period.name))
        self.challenges_list.clear()
        for challenge in programme.challenges:
            self.challenges_list.addItem(
                _list_item(self._challenge_text(challenge), challenge.code)
            )
        self.engagement_list.clear()
        for value in programme.engagement:
            self.engagement_list.addItem(
                _list_item(self._engagement_text(value), value.kind)
            )

        months = programme.expiry_months
        self.expiry_label.setText(
            self.tr("never")
            if months == 0
            else self.tr("{months} months").format(months=months)
        )
        self.expiry_months_input.setText(str(months))
        policy = programme.redemption
        self.redemption_label.setText(
            self.tr(
                "redeem from {minimum} points; points pay at most {share}% of a basket"
            ).format(
                minimum=format_points(policy.minimum_balance, self.ctx.settings.locale),
                share=policy.max_basket_share,
            )
        )
        self.minimum_balance_input.setText(str(policy.minimum_balance))
        self.max_share_input.setText(str(policy.max_basket_share))

    def _bonus_text(self, period: BonusPeriod) -> str:
        dates = self.tr("any date")
        if period.start_date or period.end_date:
            dates = self.tr("{start} to {end}").format(
                start=period.start_date or "…", end=period.end_date or "…"
            )
        days = ",".join(WEEKDAYS[day] for day in period.weekdays) or self.tr(
            "every day"
        )
        hours = self.tr("all day")
        if period.start_time or period.end_time:
            hours = self.tr("{start}–{end}").format(
                start=period.start_time.strftime("%H:%M")
                if period.start_time
                else "00:00",
                end=period.end_time.strftime("%H:%M") if period.end_time else "24:00",
            )
        return self.tr(
            "{name}  ·  points ×{factor}  ·  {dates}  ·  {days}  ·  {hours}"
        ).format(
            name=period.name,
            factor=period.multiplier,
            dates=dates,
            days=days,
            hours=hours,
        )

    def _challenge_text(self, challenge: Challenge) -> str:
        if challenge.goal == "spend":
            target = self.tr("spend {money}").format(
                money=self._money(challenge.target)
            )
        else:
            target = self.tr("{count} {goal}").format(
                count=challenge.target, goal=self.tr(_GOAL_LABELS[challenge.goal])
            )
        return self.tr(
            "{code}  ·  {name}  ·  {target} a {period}  ·  {bonus} points"
        ).format(
            code=challenge.code,
            name=challenge.name,
            target=target,
            period=self.tr(challenge.period),
            bonus=format_points(challenge.bonus, self.ctx.settings.locale),
        )

    def _engagement_text(self, value: EngagementValue) -> str:
        cap = self.tr("no cap")
        if value.cap:
            cap = self.tr("at most {cap} a {period}").format(
                cap=value.cap, period=self.tr(value.period)
            )
        return self.tr("{kind}  ·  {points} points  ·  {cap}").format(
            kind=self.tr(value.kind.replace("_", " ")),
            points=format_points(value.points, self.ctx.settings.locale),
            cap=cap,
        )

    # Changes ------------------------------------------------------------------------

    def add_bonus_period(self) -> None:
        """Add the typed bonus period, or replace the one with the same name."""
        if self._is_busy:
            return
        name = self.bonus_name_input.text().strip()
        if not name:
            self._reject_input(
                self.bonus_name_input,
                self.tr("Missing bonus period name: type one, such as Double days."),
            )
            return
        try:
            weekdays = list(parse_weekdays(self.bonus_days_input.text()))
        except DomainError as error:
            self._reject_input(self.bonus_days_input, str(error))
            return
        item = {
            "name": name,
            "multiplier": self.bonus_multiplier_input.text().strip(),
            "start_date": self.bonus_from_input.text().strip() or None,
            "end_date": self.bonus_until_input.text().strip() or None,
            "weekdays": weekdays,
            "start_time": self.bonus_start_input.text().strip() or None,
            "end_time": self.bonus_end_input.text().strip() or None,
        }
        self._add_item(
            "bonus_periods",
            item,
            self.tr("Bonus period {name} saved.").format(name=name),
            self._bonus_fields(),
        )

    def remove_bonus_period(self) -> None:
        """Remove the bonus period selected in the list."""
        self._remove_selected(
            self.bonus_list,
            "bonus_periods",
            self.tr("Select a bonus period to remove."),
            self.tr("Bonus period {name} removed."),
        )

    def add_challenge(self) -> None:
        """Add the typed challenge, or replace the one with the same code."""
        if self._is_busy:
            return
        code = self.challenge_code_input.text().strip()
        goal = self.challenge_goal_input.currentData()
        target_text = self.challenge_target_input.text().strip()
        target: int | str
        if goal == "spend":
            settings = self.ctx.settings
            try:
                target = parse_amount(
                    target_text, settings.currency, settings.decimal_separator
                )
            except DomainError as error:
                self._reject_input(self.challenge_target_input, str(error))
                return
        else:
            target = _whole_number(target_text)
        item = {
            "code": code,
            "name": self.challenge_name_input.text().strip() or code,
            "goal": goal,
            "target": target,
            "period": self.challenge_period_input.currentData(),
            "bonus": _whole_number(self.challenge_bonus_input.text().strip()),
        }
        self._add_item(
            "challenges",
            item,
            self.tr("Challenge {code} saved.").format(code=code.upper()),
            (
                self.challenge_code_input,
                self.challenge_name_input,
                self.challenge_target_input,
                self.challenge_bonus_input,
            ),
        )

    def remove_challenge(self) -> None:
        """Remove the challenge selected in the list."""
        self._remove_selected(
            self.challenges_list,
            "challenges",
            self.tr("Select a challenge to remove."),
            self.tr("Challenge {name} removed."),
        )

    def set_engagement(self) -> None:
        """Set the points and cap of the chosen engagement kind."""
        if self._is_busy:
            return
        kind = self.engagement_kind_input.currentData()
        item = {
            "kind": kind,
            "points": _whole_number(self.engagement_points_input.text().strip()),
            "cap": _whole_number(self.engagement_cap_input.text().strip() or "0"),
            "period": self.engagement_period_input.currentData(),
        }
        self._add_item(
            "engagement",
            item,
            self.tr("Engagement value for {kind} saved.").format(
                kind=kind.replace("_", " ")
            ),
            (self.engagement_points_input, self.engagement_cap_input),
        )

    def remove_engagement(self) -> None:
        """Stop paying the engagement kind selected in the list."""
        self._remove_selected(
            self.engagement_list,
            "engagement",
            self.tr("Select an engagement kind to stop paying."),
            self.tr("Engagement value for {name} removed."),
        )

    def save_expiry(self) -> None:
        """Save the months after which points expire (0: never)."""
        if self._is_busy or self.snapshot is None:
            return
        months = _whole_number(self.expiry_months_input.text().strip())
        if months == self.snapshot.programme.expiry_months:
            self.show_message(
                self.tr("Nothing to save: the expiry is as shown."), "info"
            )
            return
        self._change(
            "change expiry",
            lambda: programme_service.update_section(
                self.ctx, "expiry_months", {"months": months}, self.staff_name
            ),
            self.tr("Expiry saved."),
        )

    def save_redemption(self) -> None:
        """Save the minimum balance and the largest share of a basket in points."""
        if self._is_busy or self.snapshot is None:
            return
        policy = self.snapshot.programme.redemption
        values: dict[str, Any] = {}
        minimum = _whole_number(self.minimum_balance_input.text().strip())
        if minimum != policy.minimum_balance:
            values["minimum_balance"] = minimum
        share = self.max_share_input.text().strip()
        if share != str(policy.max_basket_share):
            values["max_basket_share"] = share
        if not values:
            self.show_message(
                self.tr("Nothing to save: the redemption policy is as shown."),
                "info",
            )
            return
        self._change(
            "change redemption policy",
            lambda: programme_service.update_section(
                self.ctx, "redemption", values, self.staff_name
            ),
            self.tr("Redemption policy saved."),
        )

    def _add_item(
        self,
        section: str,
        item: dict[str, Any],
        success_text: str,
        fields: tuple[QLineEdit, ...],
    ) -> None:
        def done() -> None:
            for field in fields:
                field.clear()

        self._change(
            f"add {section}",
            lambda: programme_service.add_item(
                self.ctx, section, item, self.staff_name
            ),
            success_text,
            done,
        )

    def _remove_selected(
        self,
        listing: QListWidget,
        section: str,
        missing_text: str,
        success_text: str,
    ) -> None:
        item = listing.currentItem()
        if item is None or self._is_busy:
            self.show_message(missing_text, "error")
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        self._change(
            f"remove {section}",
            lambda: programme_service.remove_item(
                self.ctx, section, name, self.staff_name
            ),
            success_text.format(name=name),
        )

"""Redeem, return, enrol and reprint: one key each, through the inline forms."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout

from posloyalty.domain.cards import mask_card_number
from posloyalty.domain.money import parse_amount
from posloyalty.lazy import lazy_import
from posloyalty.services.views import MemberView, SaleResult, SaleView
from posloyalty.ui.format import (
    format_amount_for_input,
    format_local_time,
    format_money,
    format_points,
)
from posloyalty.ui.tasks import DEVICE_LANE

# Loaded on first use, after the window is shown (see ``TillWindow.start``).
members = lazy_import("posloyalty.services.members")
sales = lazy_import("posloyalty.services.sales")
household = lazy_import("posloyalty.services.household")

if TYPE_CHECKING:
    from posloyalty.ui.forms import TillForm
    from posloyalty.ui.window import TillWindow

logger = logging.getLogger(__name__)

# Sales the return form offers, newest first.
RETURN_CHOICES = 20


class TillActions(QObject):
    """The window's actions beyond the sale, each opened by one key."""

    def __init__(self, window: TillWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self._in_flight = False
        # Created on each use of the programme key (F7).
        self.programme_pin_dialog: QDialog | None = None
        self.programme_dialog: QDialog | None = None

    # Forms ---------------------------------------------------------------------------

    def _open(self, form: TillForm) -> None:
        self.window.forms.setCurrentWidget(form)
        self.window.forms.show()
        form.first_field().setFocus()

    def close_form(self, refocus: bool = True) -> None:
        """Hide the open form and give the focus back to where the cashier was."""
        self.window.forms.hide()
        if not refocus:
            return
        if self.window.member is None:
            self.window.scan_input.setFocus()
        else:
            self.window.amount_input.setFocus()

    def _require_member(self) -> MemberView | None:
        member = self.window.member
        if member is None:
            self.window.show_message(
                self.tr("No member: scan the card or type the phone number first."),
                "error",
            )
            self.window.scan_input.setFocus()
        return member

    def _submit(self, name: str, work, on_success, form: TillForm) -> None:
        if self._in_flight:
            return
        self._in_flight = True
        form.setEnabled(False)

        def succeeded(result: object) -> None:
            self._in_flight = False
            form.setEnabled(True)
            self.window.run_guarded(lambda: on_success(result))

        def failed(error: BaseException) -> None:
            self._in_flight = False
            form.setEnabled(True)
            self.window.show_message(
                self.tr("Nothing was recorded: {error}").format(
                    error=self.window.service_text(error)
                ),
                "error",
            )
            form.first_field().setFocus()

        self.window.runner.submit(name, work, on_success=succeeded, on_failure=failed)

    # Redeem ----------------------------------------------------------------------------

    def open_redeem(self) -> None:
        """Open the redeem form for the attached member."""
        if self._require_member() is None:
            return
        self.window.redeem_form.reset()
        self._open(self.window.redeem_form)
        self.window.show_message(
            self.tr("Type the points to redeem and press Enter; Esc cancels."), "info"
        )

    def submit_redeem(self) -> None:
        """Redeem the typed points for the attached member."""
        member = self._require_member()
        if member is None:
            return
        form = self.window.redeem_form
        text = form.points_input.text().strip()
        if not text.isdecimal() or int(text) <= 0:
            self.window.show_message(
                self.tr(
                    "Invalid points {text!r}: type a whole number above 0, such as 500."
                ).format(text=text),
                "error",
            )
            form.points_input.selectAll()
            return
        points = int(text)
        reason = form.reason_input.text().strip() or None

        def done(result: SaleResult) -> None:
            self.close_form()
            self.window.update_balance(result.balance)
            locale = self.ctx.settings.locale
            self.window.show_message(
                self.tr(
                    "Redeemed {points} points. New balance {balance} points."
                ).format(
                    points=format_points(points, locale),
                    balance=format_points(result.balance, locale),
                ),
                "success",
            )

        self._submit(
            "redeem points",
            lambda: sales.redeem_points(self.ctx, member.id, points, reason=reason),
            done,
            form,
        )

    # Return ------------------------------------------------------------------------------

    def open_return(self) -> None:
        """Open the return form on the member's recent sales.

        The sale selected in the history is chosen, or else the newest sale
        with something left to return; Up and Down choose another.
        """
        from posloyalty.ui.forms import SaleChoice

        member = self._require_member()
        if member is None:
            return
        selected_id = self.window.history_table.selected_sale_id(newest=False)
        if selected_id is not None:
            selected = sales.get_sale(self.ctx, selected_id)
            if selected.amount_minor - selected.returned_minor <= 0:
                self.window.show_message(
                    self.tr("This sale was already returned in full."), "error"
                )
                return
        # NOTE: three indexed reads on the GUI thread, like the history itself.
        recent = [
            sale
            for sale in sales.recent_sales(self.ctx, member.id, RETURN_CHOICES)
            if sale.amount_minor > sale.returned_minor
        ]
        if selected_id is not None and selected_id not in {sale.id for sale in recent}:
            recent.insert(0, selected)
        if not recent:
            self.window.show_message(
                self.tr(
                    "No sale to return: this member's recent sales were already"
                    " returned in full, or there are none."
                ),
                "error",
            )
            return
        settings = self.ctx.settings
        choices = [
            SaleChoice(
                sale.id,
                self._describe_sale(sale),
                format_amount_for_input(
                    sale.amount_minor - sale.returned_minor,
                    settings.currency,
                    settings.decimal_separator,
                ),
            )
            for sale in recent
        ]
        row = next(
            (index for index, sale in enumerate(recent) if sale.id == selected_id), 0
        )
        form = self.window.return_form
        form.load(choices, row)
        self._open(form)
        self.window.show_message(
            self.tr(
                "Up and Down choose the sale. Press Enter to return what is left of"
                " it, or type a smaller amount for part of it; Esc cancels."
            ),
            "info",
        )

    def _describe_sale(self, sale: SaleView) -> str:
        settings = self.ctx.settings

        def money(minor: int) -> str:
            return format_money(minor, settings.currency, settings.locale)

        return self.tr(
            "Sale of {amount} on {when}: {earned} points earned, {returned}"
            " returned so far."
        ).format(
            amount=money(sale.amount_minor),
            when=format_local_time(sale.occurred_at),
            earned=format_points(sale.points_earned, settings.locale),
            returned=money(sale.returned_minor),
        )

    def submit_return(self) -> None:
        """Record the return of the typed amount of the loaded sale."""
        form = self.window.return_form
        if form.sale_id is None:
            return
        settings = self.ctx.settings
        amount = parse_amount(
            form.amount_input.text(), settings.currency, settings.decimal_separator
        )
        sale_id = form.sale_id

        def done(result: SaleResult) -> None:
            self.close_form()
            self.window.update_balance(result.balance)
            locale = settings.locale
            text = self.tr(
                "Return of {amount} recorded: {taken} points taken back, {given}"
                " given back. New balance {balance} points."
            ).format(
                amount=format_money(-result.amount_minor, settings.currency, locale),
                taken=format_points(-result.points_earned, locale),
                given=format_points(-result.points_redeemed, locale),
                balance=format_points(result.balance, locale),
            )
            level = "success"
            # A member below zero is fine while the household wallet is not.
            if (
                result.balance < 0
                and household.wallet_of(self.ctx, result.member_id).is_overdrawn
            ):
                text += " " + self.tr("The balance is below zero: tell a manager.")
                level = "warning"
            self.window.show_message(text, level)

        self._submit(
            "return sale",
            lambda: sales.return_sale(self.ctx, sale_id, amount),
            done,
            form,
        )

    # Enrol ---------------------------------------------------------------------------------

    def open_enrol(self) -> None:
        """Open the enrolment form; the attached member stays until it succeeds."""
        self.window.enrol_form.reset()
        self.window.choice_list.hide()
        self._open(self.window.enrol_form)
        self.window.show_message(
            self.tr(
                "Type the new member's name and a phone or email, tick the consents"
                " given, and press Enter; Esc cancels."
            ),
            "info",
        )

    def submit_enrol(self) -> None:
        """Enrol the member typed in the form and attach them."""
        form = self.window.enrol_form
        new = members.NewMember(
            name=form.name_input.text(),
            phone=form.phone_input.text() or None,
            email=form.email_input.text() or None,
            consent_email=form.consent_email.isChecked(),
            consent_sms=form.consent_sms.isChecked(),
        )

        def done(member: MemberView) -> None:
            self.close_form(refocus=False)
            self.window.attach(member)
            card = mask_card_number(member.card_number) if member.card_number else ""
            text = self.tr(
                "Enrolled {name} with card {card}: type the amount and press Enter."
            ).format(name=member.name, card=card)
            self.window.show_message(text, "success")
            self.window.runner.submit(
                "print card",
                lambda: self.window.backends.print_card(self.ctx, member.id),
                on_failure=lambda error: self.window.show_message(
                    text
                    + " "
                    + self.tr("The card did not print: {error}").format(
                        error=self.window.service_text(error)
                    ),
                    "warning",
                ),
                lane=DEVICE_LANE,
            )

        self._submit(
            "enrol member", lambda: members.enrol_member(self.ctx, new), done, form
        )

    # Manager -------------------------------------------------------------------------------

    def open_manager(self) -> None:
        """Open the manager's panel over the sale: adjust, reverse, undo a redemption.

        The attached member and the open sale stay as they are; each change
        asks for a manager's PIN in place.
        """
        window = self.window
        if window.manager_dialog is None:
            # Loaded here, because the panel brings argon2 and the manager services.
            from posloyalty.ui.manager import ManagerPanel

            dialog = QDialog(window)
            dialog.setWindowTitle(self.tr("Manager"))
            panel = ManagerPanel(self.ctx, window.runner, dialog)
            panel.adjusted.connect(self._after_manager_change)
            panel.reversed.connect(self._after_manager_change)
            close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
            close.rejected.connect(dialog.reject)
            layout = QVBoxLayout(dialog)
            layout.addWidget(panel)
            layout.addWidget(close)
            window.manager_dialog, window.manager_panel = dialog, panel
        panel = window.manager_panel
        panel.set_member(window.member)
        sale_id = window.history_table.selected_sale_id() or window.last_sale_id
        if sale_id is not None:
            panel.set_sale(sale_id)
        window.manager_dialog.open()

    def open_programme(self) -> None:
        """Ask for a manager's PIN, then open the programme settings.

        The PIN is asked again on every opening, and every change made in the
        settings is recorded under the name typed here.
        """
        # Loaded here, because the settings bring argon2 and the rule services.
        from posloyalty.services import rules_settings
        from posloyalty.ui.manager import PinDialog
        from posloyalty.ui.settings import ProgrammeSettingsDialog

        window = self.window
        if self.programme_pin_dialog is not None:
            self.programme_pin_dialog.deleteLater()

        def opened(person) -> None:
            if self.programme_dialog is not None:
                self.programme_dialog.deleteLater()
            dialog = ProgrammeSettingsDialog(
                self.ctx, window.runner, person.name, window
            )
            dialog.changed.connect(self._after_programme_change)
            self.programme_dialog = dialog
            dialog.open()

        pin_dialog = PinDialog(
            self.tr("Manager PIN: programme settings"),
            lambda first, _second: rules_settings.open_rules(self.ctx, first),
            window.runner,
            window,
        )
        pin_dialog.succeeded.connect(
            lambda person: window.run_guarded(lambda: opened(person))
        )
        self.programme_pin_dialog = pin_dialog
        pin_dialog.open()

    def _after_programme_change(self, _snapshot) -> None:
        # Rewards and tiers in reach depend on the programme just saved.
        if self.window.member is not None:
            self.window.reload_history()

    def _after_manager_change(self, result) -> None:
        window = self.window
        if window.member is not None and window.member.id == result.member_id:
            window.update_balance(result.balance)

    # Reprint ---------------------------------------------------------------------------------

    def reprint_receipt(self) -> None:
        """Print the receipt of the last sale again, or of the sale selected."""
        sale_id = self.window.last_sale_id
        if self.window.history_table.hasFocus() or sale_id is None:
            sale_id = self.window.history_table.selected_sale_id() or sale_id
        if sale_id is None:
            self.window.show_message(
                self.tr("No receipt to reprint: record a sale first."), "error"
            )
            return
        self.window.show_message(self.tr("Sending the receipt to the printer…"), "info")

        def failed(error: BaseException) -> None:
            self.window.show_message(
                self.tr("The receipt was not reprinted: {error}").format(
                    error=self.window.service_text(error)
                ),
                "error",
            )

        self.window.runner.submit(
            "reprint receipt",
            lambda: self.window.backends.reprint_receipt(self.ctx, sale_id),
            on_success=lambda _result: self.window.show_message(
                self.tr("The receipt was sent to the printer again."), "success"
            ),
            on_failure=failed,
            lane=DEVICE_LANE,
        )

"""The attached member: name, balance, points this visit and recent history."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from posloyalty.domain.cards import mask_card_number
from posloyalty.services.views import EntryView, MemberView
from posloyalty.ui.format import format_local_time, format_points

if TYPE_CHECKING:
    # Only a type here: the module and the receipt layout behind it load with
    # the loyalty service, after the window is shown.
    from posloyalty.domain.loyalty_block import LoyaltyBlock

logger = logging.getLogger(__name__)


class MemberPanel(QFrame):
    """Shows one member, or a hint when none is attached."""

    def __init__(self, locale: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._locale = locale
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(380)

        self.name_label = QLabel()
        self.name_label.setObjectName("memberName")
        self.name_label.setWordWrap(True)
        self.demo_label = QLabel(self.tr("DEMO MEMBER"))
        self.demo_label.setObjectName("demoBadge")
        self.details_label = QLabel()
        self.details_label.setObjectName("memberDetails")
        self.balance_label = QLabel()
        self.balance_label.setObjectName("balance")
        self.wallet_label = QLabel()
        self.wallet_label.setObjectName("wallet")
        self.wallet_label.setWordWrap(True)
        self.visit_label = QLabel()
        self.visit_label.setObjectName("visitPoints")
        self._member: MemberView | None = None
        self._wallet_balance: int | None = None
        self._wallet_members = 0
        self.standing_label = QLabel()
        self.standing_label.setObjectName("standing")
        self.standing_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.name_label)
        layout.addWidget(self.demo_label)
        layout.addWidget(self.details_label)
        layout.addSpacing(12)
        layout.addWidget(QLabel(self.tr("Balance")))
        layout.addWidget(self.balance_label)
        layout.addWidget(self.wallet_label)
        layout.addWidget(self.visit_label)
        layout.addSpacing(12)
        layout.addWidget(self.standing_label)
        layout.addStretch(1)
        self.show_member(None)

    def show_member(self, member: MemberView | None, visit_points: int = 0) -> None:
        """Show ``member`` and the points earned since they were attached."""
        if member is None or self._member is None or member.id != self._member.id:
            # The wallet shown belongs to the member before; the standing of
            # the new member brings theirs.
            self._wallet_balance = None
            self._wallet_members = 0
        self._member = member
        if member is None:
            self.name_label.setText(self.tr("No member"))
            self.details_label.setText(
                self.tr("Scan a card, or type a phone number or a name.")
            )
            self.demo_label.hide()
            self.balance_label.setText("–")
            self.visit_label.setText("")
            self.show_standing(None)
            return
        self.name_label.setText(member.name)
        self.demo_label.setVisible(member.is_demo)
        card = mask_card_number(member.card_number) if member.card_number else "–"
        self.details_label.setText(
            self.tr("Phone: {phone}\nCard: {card}").format(
                phone=member.phone or "–", card=card
            )
        )
        self._show_balance()
        self.visit_label.setText(
            self.tr("This visit: {points} points").format(
                points=format_points(visit_points, self._locale, signed=True)
            )
        )

    def _show_balance(self) -> None:
        """Show the member's balance and, in a household, the shared wallet.

        In a household only the wallet is flagged when below zero: a member's
        own balance goes below zero whenever they spend points that another
        card of the household earned.
        """
        member = self._member
        if member is None:
            self.balance_label.setText("–")
            self.wallet_label.hide()
            return
        balance = self.tr("{points} points").format(
            points=format_points(member.balance, self._locale)
        )
        if self._wallet_balance is None:
            if member.is_overdrawn:
                balance += "  " + self.tr("(below zero: tell a manager)")
            self.balance_label.setText(balance)
            self.wallet_label.hide()
            return
        self.balance_label.setText(balance)
        wallet = self.tr("Household wallet: {points} points, {count} cards").format(
            points=format_points(self._wallet_balance, self._locale),
            count=self._wallet_members,
        )
        if self._wallet_balance < 0:
            wallet += "  " + self.tr("(below zero: tell a manager)")
        self.wallet_label.setText(wallet)
        self.wallet_label.show()

    def show_standing(self, block: LoyaltyBlock | None) -> None:
        """Show the wallet, tier, rewards in reach, expiring points and challenges."""
        self._wallet_balance = None if block is None else block.wallet_balance
        self._wallet_members = 0 if block is None else block.wallet_members
        self._show_balance()
        if block is None or block.is_empty:
            self.standing_label.setText("")
            self.standing_label.hide()
            return
        lines = []
        if block.tier_name or block.next_tier_name:
            tier = block.tier_name or self.tr("no tier yet")
            if block.next_tier_name:
                lines.append(
                    self.tr("Tier: {tier}, {missing} to {next}").format(
                        tier=tier, missing=block.to_next_tier, next=block.next_tier_name
                    )
                )
            else:
                lines.append(self.tr("Tier: {tier}").format(tier=tier))
        if block.rewards_ready:
            lines.append(
                self.tr("Rewards now: {names}").format(
                    names=", ".join(block.rewards_ready)
                )
            )
        if block.next_reward_name:
            lines.append(
                self.tr("Next reward: {name} in {points} points").format(
                    name=block.next_reward_name,
                    points=format_points(block.to_next_reward, self._locale),
                )
            )
        if block.pending:
            lines.append(
                self.tr("Pending: {points} points").format(
                    points=format_points(block.pending, self._locale)
                )
            )
        for day, points in block.expiring:
            lines.append(
                self.tr("Expiring {day}: {points} points").format(
                    day=day.isoformat(), points=format_points(points, self._locale)
                )
            )
        for challenge in block.challenges:
            mark = " ✓" if challenge.completed else ""
            lines.append(f"{challenge.name}: {challenge.progress}{mark}")
        self.standing_label.setText("\n".join(lines))
        self.standing_label.show()


class HistoryTable(QTableWidget):
    """A member's recent ledger entries, newest first; a row may name a sale."""

    KIND_NAMES = {
        "earn": QT_TRANSLATE_NOOP("HistoryTable", "earned"),
        "redeem": QT_TRANSLATE_NOOP("HistoryTable", "redeemed"),
        "adjust": QT_TRANSLATE_NOOP("HistoryTable", "adjusted"),
        "reverse": QT_TRANSLATE_NOOP("HistoryTable", "returned"),
        "expire": QT_TRANSLATE_NOOP("HistoryTable", "expired"),
        "bonus": QT_TRANSLATE_NOOP("HistoryTable", "bonus"),
    }

    def __init__(self, locale: str, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self._locale = locale
        self._entries: list[EntryView] = []
        self.setHorizontalHeaderLabels(
            [self.tr("When"), self.tr("What"), self.tr("Points"), self.tr("Where")]
        )
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    def show_entries(self, entries: list[EntryView]) -> None:
        """Replace the rows with ``entries``."""
        self._entries = list(entries)
        self.clearContents()
        self.setRowCount(len(self._entries))
        for row, entry in enumerate(self._entries):
            kind = self.tr(self.KIND_NAMES.get(entry.kind, entry.kind))
            cells = (
                format_local_time(entry.created_at),
                kind,
                format_points(entry.points, self._locale, signed=True),
                f"{entry.store} / {entry.till}",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setTextAlignment(
                        QtCore.Qt.AlignmentFlag.AlignRight
                        | QtCore.Qt.AlignmentFlag.AlignVCenter
                    )
                self.setItem(row, column, item)

    @property
    def entries(self) -> list[EntryView]:
        """The entries shown, in row order."""
        return list(self._entries)

    def selected_sale_id(self, newest: bool = True) -> str | None:
        """Return the sale of the selected row, or of the newest sale shown.

        Rows are ledger entries, so a sale that earned and redeemed nothing has
        no row; the return form lists sales from ``sales.recent_sales``.
        With ``newest=False``, return None when no row is selected.
        """
        rows = self.selectionModel().selectedRows()
        if rows:
            entry = self._entries[rows[0].row()]
            if entry.sale_id and entry.kind in ("earn", "redeem"):
                return entry.sale_id
            return None
        if not newest:
            return None
        for entry in self._entries:
            if entry.sale_id and entry.kind in ("earn", "redeem"):
                return entry.sale_id
        return None

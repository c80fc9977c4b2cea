"""Household wallets: several members (cards or phones) that share one balance.

Members whose profiles carry the same ``household_id`` form a household. Every
ledger entry still belongs to the member whose card or phone caused it, so
each member keeps their own history and cached balance, and ``verify``
compares each member's cached balance with that member's entries. The
wallet's balance is the sum of its members' balances.

Redemptions check the wallet inside the redeeming transaction (``BEGIN
IMMEDIATE``). A member's own balance may therefore go below zero while the
wallet stays at 0 or above, and only a wallet below zero is flagged for a
manager. A member without a household id, or alone with theirs, is a
household of one and behaves as a single member.

NOTE: the head office's report of members below zero (``server.reports``)
still lists each member on their own balance, not on the wallet's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from posloyalty.services.context import TillContext
from posloyalty.services.errors import NotFoundError

logger = logging.getLogger(__name__)

_HOUSEHOLD_OF_SQL = (
    "SELECT p.household_id, m.id FROM member m"
    " LEFT JOIN member_profile p ON p.member_id = m.id WHERE m.id = ?"
)
_MEMBERS_OF_HOUSEHOLD_SQL = (
    "SELECT member_id FROM member_profile WHERE household_id = ? ORDER BY member_id"
)
_WALLET_MEMBERS_SQL = (
    "SELECT m.id, m.name, m.balance FROM member_profile p"
    " JOIN member m ON m.id = p.member_id WHERE p.household_id = ?"
    " ORDER BY m.created_at, m.rowid"
)
# Members below zero that are not covered by their household's wallet: a
# member without a shared wallet, or one whose wallet is below zero too.
_OVERDRAWN_SQL = (
    "SELECT m.id FROM member m LEFT JOIN member_profile p ON p.member_id = m.id"
    " WHERE m.balance < 0 AND (p.household_id IS NULL OR (SELECT SUM(m2.balance)"
    " FROM member_profile p2 JOIN member m2 ON m2.id = p2.member_id"
    " WHERE p2.household_id = p.household_id) < 0)"
    " ORDER BY m.balance, m.id"
)


def placeholders(values: Sequence[object]) -> str:
    """Return ``?, ?, ...`` with one placeholder per value, for an SQL ``IN``."""
    return ", ".join("?" for _ in values)


def household_member_ids(ctx: TillContext, member_id: str) -> tuple[str, ...]:
    """Return the ids of every member who shares ``member_id``'s wallet.

    Returns:
        The member ids sorted, ``member_id`` included; only ``member_id`` when
        the member has no household id.

    Raises:
        NotFoundError: no such member.
    """
    row = ctx.db.execute_sql(_HOUSEHOLD_OF_SQL, (member_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"member {member_id} not found")
    household_id = row[0]
    if household_id is None:
        return (member_id,)
    rows = ctx.db.execute_sql(_MEMBERS_OF_HOUSEHOLD_SQL, (household_id,)).fetchall()
    return tuple(found for (found,) in rows)


def wallet_balance(ctx: TillContext, member_ids: Sequence[str]) -> int:
    """Return the sum of the cached balances of ``member_ids``, in whole points."""
    row = ctx.db.execute_sql(
        f"SELECT COALESCE(SUM(balance), 0) FROM member"
        f" WHERE id IN ({placeholders(member_ids)})",
        tuple(member_ids),
    ).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class WalletMember:
    """One member of a household wallet and their own balance in whole points."""

    member_id: str
    name: str
    balance: int


@dataclass(frozen=True)
class Wallet:
    """The shared balance of a household.

    Attributes:
        household_id: the id the members share, or ``None`` for a member
            without a household.
        members: every member of the household, earliest enrolled first.
        balance: the sum of the members' balances, in whole points.
    """

    household_id: str | None
    members: tuple[WalletMember, ...]
    balance: int

    @property
    def is_shared(self) -> bool:
        """More than one member spends from this wallet."""
        return len(self.members) > 1

    @property
    def is_overdrawn(self) -> bool:
        """The wallet is below zero, so a manager should review it."""
        return self.balance < 0


def wallet_of(ctx: TillContext, member_id: str) -> Wallet:
    """Read the wallet that ``member_id`` earns into and spends from.

    Raises:
        NotFoundError: no such member.
    """
    with ctx.db.atomic("DEFERRED"):
        row = ctx.db.execute_sql(_HOUSEHOLD_OF_SQL, (member_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"member {member_id} not found")
        household_id = row[0]
        if household_id is None:
            found = ctx.db.execute_sql(
                "SELECT id, name, balance FROM member WHERE id = ?", (member_id,)
            ).fetchall()
        else:
            found = ctx.db.execute_sql(_WALLET_MEMBERS_SQL, (household_id,)).fetchall()
    members = tuple(WalletMember(mid, name, int(bal)) for mid, name, bal in found)
    return Wallet(household_id, members, sum(m.balance for m in members))


def overdrawn_member_ids(ctx: TillContext) -> list[str]:
    """List members below zero whose wallet is below zero too, lowest first.

    A member of a household whose wallet is at 0 or above is left out: the
    wallet paid for what that member spent.
    """
    return [row[0] for row in ctx.db.execute_sql(_OVERDRAWN_SQL).fetchall()]

"""Plain data that services return, so callers never hold database rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MemberView:
    """A member as the till shows it; ``balance`` is whole points."""

    id: str
    name: str
    phone: str | None
    email: str | None
    external_id: str | None
    card_number: str | None
    balance: int
    consent_email: bool = False
    consent_sms: bool = False
    is_demo: bool = False

    @property
    def is_overdrawn(self) -> bool:
        """A negative balance, flagged for a manager after a return of spent points."""
        return self.balance < 0


@dataclass(frozen=True)
class EntryView:
    """One ledger entry of a member's history."""

    id: str
    kind: str
    points: int
    sale_id: str | None
    created_at: datetime
    reason: str | None
    staff: str | None
    reverses: str | None
    store: str
    till: str


@dataclass(frozen=True)
class SaleResult:
    """What recording a sale or a return changed; money in minor units."""

    sale_id: str
    member_id: str
    amount_minor: int
    discount_minor: int
    points_earned: int
    points_redeemed: int
    balance: int
    print_job_id: int | None = None


@dataclass(frozen=True)
class SaleView:
    """A recorded sale and what is left of it to return; money in minor units."""

    id: str
    member_id: str | None
    amount_minor: int
    returned_minor: int
    points_earned: int
    points_redeemed: int
    occurred_at: datetime
    source: str
    external_ref: str
    original_sale_id: str | None

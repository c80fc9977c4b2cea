"""Manager functions on points: adjust a balance, reverse a sale or a redemption.

Each function checks the PIN first (a failure commits its own audit row), then
makes its change in one transaction together with its audit row.

NOTE: nothing here updates or deletes a ledger entry. A reversal is a new
``reverse`` entry whose ``reverses`` column names the entry it cancels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from posloyalty.domain.staff import Permission, Role
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError, NotFoundError, RejectedError
from posloyalty.services.ledger import append_audit, append_entry, parse_time
from posloyalty.services.members import check_characters, check_length
from posloyalty.services.staff import (
    Credentials,
    StaffView,
    authorize,
    format_till_time,
    staff_setting,
    staff_setting_int,
)
from posloyalty.services.views import MemberView

logger = logging.getLogger(__name__)

DEFAULT_REVERSE_REASON = "recorded in error"

_BALANCE_SQL = "SELECT balance FROM member WHERE id = ?"
# Each entry with the sum of the reverse entries that point at it, so a
# reversal restores only what earlier returns or reversals left in place.
_ENTRY_WITH_REVERSED_SQL = (
    "SELECT e.id, e.member_id, e.kind, e.points, e.sale_id, e.store, e.till,"
    " e.created_at, (SELECT COALESCE(SUM(r.points), 0) FROM ledger_entry r"
    " WHERE r.reverses_id = e.id) FROM ledger_entry e"
)


class ApprovalRequiredError(RejectedError):
    """An adjustment is above the person's limit and needs a second manager's PIN."""

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class AdjustmentResult:
    """A recorded adjustment; ``points`` and ``balance`` are whole points."""

    entry_id: str
    member_id: str
    points: int
    balance: int
    reason: str
    staff: str
    approved_by: str | None = None


@dataclass(frozen=True)
class ReversalResult:
    """The outcome of a reversal.

    Attributes:
        target_id: the sale or ledger entry that was reversed.
        member_id: the member whose points changed.
        points: the net change of the balance, in whole points.
        balance: the balance afterwards; it may be below zero.
        entry_ids: the new ``reverse`` entries.
        staff: who reversed it.
    """

    target_id: str
    member_id: str
    points: int
    balance: int
    entry_ids: tuple[str, ...]
    staff: str

    @property
    def is_overdrawn(self) -> bool:
        """A balance below zero, listed for a manager by ``overdrawn_members``."""
        return self.balance < 0


# Free text after the listed reason, such as an order number or a complaint.
MAX_REASON_LENGTH = 500


def adjust_reasons(ctx: TillContext) -> list[str]:
    """Return the reasons a person may choose for an adjustment, in order."""
    return staff_setting(ctx, "adjust_reasons").split(",")


def parse_reason(ctx: TillContext, text: str) -> tuple[str, str]:
    """Split ``"reason: free text"`` and check the reason against the list.

    Returns:
        The listed reason, lower case, and the free text (possibly empty).

    Raises:
        InvalidInputError: the reason is missing or not in the list.
    """
    code, _, note = text.partition(":")
    return check_reason(ctx, code, note)


def check_reason(ctx: TillContext, reason: str, note: str = "") -> tuple[str, str]:
    """Check a reason against the configured list; see ``parse_reason``."""
    code = " ".join(reason.split()).lower()
    allowed = adjust_reasons(ctx)
    if code not in allowed:
        shown = repr(reason.strip()) if reason.strip() else "missing"
        raise InvalidInputError(
            f"adjustment reason {shown} is not in the list: use one of"
            f" {', '.join(allowed)}, optionally followed by ': free text'"
        )
    note = " ".join(note.split())
    check_characters("reason", note)
    check_length("reason", note, MAX_REASON_LENGTH)
    return code, note


def _adjust_limit(ctx: TillContext, role: Role) -> int:
    if role is Role.ADMIN:
        return staff_setting_int(ctx, "adjust_limit_admin")
    return staff_setting_int(ctx, "adjust_limit_manager")


def _balance(ctx: TillContext, member_id: str) -> int:
    row = ctx.db.execute_sql(_BALANCE_SQL, (member_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"member {member_id} not found")
    return int(row[0])


def _check_approver(
    ctx: TillContext, person: StaffView, points: int, second: Credentials | None
) -> str | None:
    """Return who approved an adjustment above the person's limit, if it needs one.

    Raises:
        ApprovalRequiredError: above the limit and no second PIN was given.
        RejectedError: the second PIN is the same person's.
    """
    limit = _adjust_limit(ctx, person.role)
    if abs(points) <= limit:
        return None
    if second is None:
        raise ApprovalRequiredError(
            f"an adjustment of {points:+d} points is above the {limit} a"
            f" {person.role.value} may make alone: a second manager must enter"
            " their PIN",
            limit,
        )
    approver = authorize(ctx, second, Permission.APPROVE)
    if approver.id == person.id:
        raise RejectedError(
            f"{person.name} cannot approve their own adjustment: a second manager"
            " must enter their PIN"
        )
    return approver.name


def adjust_balance(
    ctx: TillContext,
    member_id: str,
    points: int,
    reason: str,
    credentials: Credentials,
    *,
    note: str = "",
    second: Credentials | None = None,
) -> AdjustmentResult:
    """Add or take away points with a reason; a new ``adjust`` entry.

    Args:
        points: whole points, positive to add and negative to take away.
        reason: one of ``adjust_reasons``; ``note`` adds free text to it.
        credentials: a manager's or admin's name and PIN.
        second: another manager's PIN, needed above the role's limit.

    Raises:
        InvalidInputError: ``points`` is 0 or the reason is not in the list.
        AuthenticationError: a PIN is wrong or an account locked.
        PermissionDeniedError: the role may not adjust (a cashier).
        ApprovalRequiredError: above the limit without a second PIN.
        RejectedError: taking away more points than the member has.
        NotFoundError: no such member.
    """
    if points == 0:
        raise InvalidInputError(
            "invalid adjustment of 0 points: give the points to add or take away,"
            " such as 80 or -20"
        )
    code, free_text = check_reason(ctx, reason, note)
    stored_reason = f"{code}: {free_text}" if free_text else code
    person = authorize(ctx, credentials, Permission.ADJUST)
    approved_by = _check_approver(ctx, person, points, second)

    with ctx.db.atomic():
        balance = _balance(ctx, member_id)
        if balance + points < 0:
            raise RejectedError(
                f"cannot take away {-points} points: the member has {balance}; take"
                f" away at most {balance}"
            )
        entry_id = append_entry(
            ctx,
            member_id,
            "adjust",
            points,
            staff=person.name,
            reason=stored_reason,
        )
        append_audit(
            ctx,
            "adjust",
            staff=person.name,
            member_id=member_id,
            reason=stored_reason,
            details={"points": points, "entry": entry_id, "approved_by": approved_by},
        )
    logger.info(
        "%s adjusted member %s by %+d points (%s)",
        person.name,
        member_id,
        points,
        code,
    )
    return AdjustmentResult(
        entry_id,
        member_id,
        points,
        balance + points,
        stored_reason,
        person.name,
        approved_by,
    )


def _sale_row(ctx: TillContext, sale_id: str) -> tuple[str, str | None, str | None]:
    row = ctx.db.execute_sql(
        "SELECT id, member_id, original_sale_id FROM sale WHERE id = ?",
        (sale_id.strip(),),
    ).fetchone()
    if row is None:
        raise NotFoundError(
            f"sale {sale_id!r} not found: use the sale_id printed when it was recorded"
        )
    return row[0], row[1], row[2]


def _reverse_entries(
    ctx: TillContext,
    member_id: str,
    rows: list[tuple],
    staff: str,
    reason: str,
) -> tuple[list[str], int]:
    """Write one ``reverse`` entry for what is left of each entry in ``rows``."""
    entry_ids: list[str] = []
    total = 0
    for row in rows:
        entry_id, points, sale_id, reversed_points = row[0], row[3], row[4], row[8]
        remaining = points + reversed_points
        if remaining == 0:
            continue
        entry_ids.append(
            append_entry(
                ctx,
                member_id,
                "reverse",
                -remaining,
                sale_id=sale_id,
                staff=staff,
                reason=reason,
                reverses=entry_id,
            )
        )
        total -= remaining
    return entry_ids, total


def _log_overdrawn(member_id: str, balance: int, target: str) -> None:
    if balance < 0:
        logger.warning(
            "member %s is below zero (%d) after reversing %s",
            member_id,
            balance,
            target,
        )


def reverse_sale(
    ctx: TillContext,
    sale_id: str,
    credentials: Credentials,
    reason: str = DEFAULT_REVERSE_REASON,
) -> ReversalResult:
    """Reverse a sale recorded in error: cancel what each of its entries left.

    Points the sale earned are taken back and points spent on it are given
    back, less whatever earlier returns already took back or gave back. The
    balance may go below zero when the earned points were spent; it is then
    flagged (see ``overdrawn_members``) instead of clamped.

    Raises:
        AuthenticationError: the PIN is wrong or the account locked.
        PermissionDeniedError: the role may not reverse (a cashier).
        NotFoundError: no such sale.
        RejectedError: the sale is a return, has no member, or has nothing left
            to reverse.
    """
    person = authorize(ctx, credentials, Permission.REVERSE)
    reason = " ".join(reason.split()) or DEFAULT_REVERSE_REASON
    with ctx.db.atomic():
        sale, member_id, original = _sale_row(ctx, sale_id)
        if original is not None:
            # TODO(manager): reversing a return recorded in error is not supported;
            # until it is, record a new sale for the goods that were not returned.
            raise RejectedError(
                f"sale {sale} is a return: a return cannot be reversed here; record"
                " the sale again instead"
            )
        if member_id is None:
            raise RejectedError(f"sale {sale} has no member, so it has no points")
        rows = ctx.db.execute_sql(
            _ENTRY_WITH_REVERSED_SQL
            + " WHERE e.sale_id = ? AND e.kind IN ('earn', 'redeem', 'bonus')"
            " ORDER BY e.rowid",
            (sale,),
        ).fetchall()
        entry_ids, total = _reverse_entries(ctx, member_id, rows, person.name, reason)
        if not entry_ids:
            raise RejectedError(
                f"sale {sale} has nothing left to reverse: it earned and spent no"
                " points, or was already reversed or returned in full"
            )
        balance = _balance(ctx, member_id)
        append_audit(
            ctx,
            "reverse_sale",
            staff=person.name,
            member_id=member_id,
            sale_id=sale,
            reason=reason,
            details={"points": total, "overdrawn": balance < 0},
        )
    _log_overdrawn(member_id, balance, f"sale {sale}")
    logger.info("%s reversed sale %s: %+d points", person.name, sale, total)
    return ReversalResult(
        sale, member_id, total, balance, tuple(entry_ids), person.name
    )


def _redeem_entry(ctx: TillContext, entry_id: str) -> tuple:
    row = ctx.db.execute_sql(
        _ENTRY_WITH_REVERSED_SQL + " WHERE e.id = ?", (entry_id.strip(),)
    ).fetchone()
    if row is None:
        raise NotFoundError(
            f"ledger entry {entry_id!r} not found: use the entry id from the"
            " member's history"
        )
    if row[2] != "redeem":
        raise RejectedError(
            f"ledger entry {row[0]} is a {row[2]} entry, not a redemption"
        )
    return row


def reverse_redemption(
    ctx: TillContext,
    entry_id: str,
    credentials: Credentials,
    reason: str = DEFAULT_REVERSE_REASON,
) -> ReversalResult:
    """Give back the points of a redemption recorded in error.

    A redemption made as payment on a sale is reversed with the whole sale
    (``reverse_sale``), because the points the sale earned depended on it.

    Raises:
        AuthenticationError: the PIN is wrong or the account locked.
        PermissionDeniedError: the role may not reverse (a cashier).
        NotFoundError: no such entry.
        RejectedError: the entry is not a redemption, belongs to a sale, or
            was already reversed.
    """
    person = authorize(ctx, credentials, Permission.REVERSE)
    reason = " ".join(reason.split()) or DEFAULT_REVERSE_REASON
    with ctx.db.atomic():
        row = _redeem_entry(ctx, entry_id)
        if row[4] is not None:
            raise RejectedError(
                f"redemption {row[0]} was payment on sale {row[4]}: reverse the sale"
            )
        return _reverse_one_redemption(ctx, row, person, reason, "reverse_redemption")


def _reverse_one_redemption(
    ctx: TillContext, row: tuple, person: StaffView, reason: str, action: str
) -> ReversalResult:
    member_id = row[1]
    entry_ids, total = _reverse_entries(ctx, member_id, [row], person.name, reason)
    if not entry_ids:
        raise RejectedError(f"redemption {row[0]} was already reversed")
    balance = _balance(ctx, member_id)
    append_audit(
        ctx,
        action,
        staff=person.name,
        member_id=member_id,
        reason=reason,
        details={"entry": row[0], "points": total},
    )
    logger.info("%s reversed redemption %s: %+d points", person.name, row[0], total)
    return ReversalResult(
        row[0], member_id, total, balance, tuple(entry_ids), person.name
    )


def undo_last_redemption(
    ctx: TillContext, member_id: str, credentials: Credentials
) -> ReversalResult:
    """Undo the member's last redemption at this till, within minutes of it.

    A cashier may do this for ``undo_redemption_minutes`` after the redemption;
    later it takes a manager's reversal. When the redemption was payment on a
    sale, the whole sale is reversed, because what it earned depended on the
    points spent. The cashier then records the sale again.

    Raises:
        AuthenticationError: the PIN is wrong or the account locked.
        NotFoundError: the member has no redemption at this till.
        RejectedError: the last redemption is too old or already undone.
    """
    person = authorize(ctx, credentials, Permission.UNDO_REDEMPTION)
    minutes = staff_setting_int(ctx, "undo_redemption_minutes")
    window = timedelta(minutes=minutes)
    reason = "undone at the till"
    with ctx.db.atomic():
        row = ctx.db.execute_sql(
            _ENTRY_WITH_REVERSED_SQL + " WHERE e.member_id = ? AND e.kind = 'redeem'"
            " AND e.store = ? AND e.till = ? ORDER BY e.rowid DESC LIMIT 1",
            (member_id, ctx.settings.store, ctx.settings.till),
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"member {member_id} has no redemption at {ctx.settings.till} to undo"
            )
        redeemed_at = parse_time(row[7])
        if ctx.now() - redeemed_at > window:
            raise RejectedError(
                f"the last redemption was at {format_till_time(ctx, redeemed_at)},"
                f" more than {minutes} minutes ago: ask a manager to"
                " reverse it"
            )
        if row[3] + row[8] == 0:
            raise RejectedError(f"the last redemption ({row[0]}) was already undone")
        if row[4] is None:
            return _reverse_one_redemption(ctx, row, person, reason, "undo_redemption")
        sale_rows = ctx.db.execute_sql(
            _ENTRY_WITH_REVERSED_SQL
            + " WHERE e.sale_id = ? AND e.kind IN ('earn', 'redeem', 'bonus')"
            " ORDER BY e.rowid",
            (row[4],),
        ).fetchall()
        entry_ids, total = _reverse_entries(
            ctx, member_id, sale_rows, person.name, reason
        )
        balance = _balance(ctx, member_id)
        append_audit(
            ctx,
            "undo_redemption",
            staff=person.name,
            member_id=member_id,
            sale_id=row[4],
            reason=reason,
            details={"entry": row[0], "points": total},
        )
    _log_overdrawn(member_id, balance, f"sale {row[4]}")
    logger.info("%s undid sale %s: %+d points", person.name, row[4], total)
    return ReversalResult(
        row[4], member_id, total, balance, tuple(entry_ids), person.name
    )


def overdrawn_members(ctx: TillContext) -> list[MemberView]:
    """List members below zero, lowest first, for a manager.

    A member of a household whose shared wallet is at 0 or above is left out,
    because the wallet paid for what the member spent.
    """
    from posloyalty.services.household import overdrawn_member_ids
    from posloyalty.services.members import get_member

    return [get_member(ctx, member_id) for member_id in overdrawn_member_ids(ctx)]

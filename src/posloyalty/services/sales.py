"""Recording sales, returns and redemptions."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from peewee import DatabaseError

from posloyalty.domain.errors import DomainError
from posloyalty.domain.points import SaleLine
from posloyalty.domain.rewards import check_redemption
from posloyalty.services.context import TillContext
from posloyalty.services.earning import (
    SaleEarningPlan,
    pay_sale_bonuses,
    plan_earning,
    points_taken_back,
)
from posloyalty.services.errors import InvalidInputError, NotFoundError, RejectedError
from posloyalty.services.ledger import append_audit, append_entry, queue_for_sync
from posloyalty.services.loyalty import wallet_funds
from posloyalty.services.programme import current_rules
from posloyalty.services.sync_status import check_offline_redemption
from posloyalty.services.views import SaleResult, SaleView
from posloyalty.storage import models

logger = logging.getLogger(__name__)

_BALANCE_SQL = "SELECT balance FROM member WHERE id = ?"
_INSERT_SALE_SQL = (
    "INSERT INTO sale (id, source, external_ref, member_id, amount_minor,"
    " eligible_minor, currency, original_sale_id, store, till, staff, occurred_at,"
    " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_PRINT_JOB_SQL = (
    "INSERT INTO print_job (kind, sale_id, member_id, status, attempts, created_at,"
    " updated_at) VALUES ('receipt', ?, ?, 'queued', 0, ?, ?)"
)


@dataclass(frozen=True)
class SaleRequest:
    """A sale to record; money in minor units.

    Attributes:
        member_id: the member who earns.
        amount_minor: the basket total before any points are spent.
        lines: the basket's lines, when known, so excluded stock codes earn nothing.
        redeem_points: points the member spends as payment on this sale.
        source: ``till`` for a sale at this till, or the name of an imported journal.
        external_ref: the invoice number in ``source``; a new UUID when omitted.
        occurred_at: when the sale happened; now when omitted.
        print_receipt: queue a receipt in the same transaction.
        reward_code: a reward from the catalogue taken on this sale.
        earns: ``False`` for a sale marked to earn nothing.
    """

    member_id: str
    amount_minor: int
    lines: Sequence[SaleLine] = ()
    redeem_points: int = 0
    source: str = "till"
    external_ref: str | None = None
    occurred_at: datetime | None = None
    staff: str | None = None
    print_receipt: bool = False
    reward_code: str | None = None
    earns: bool = True


def _balance(ctx: TillContext, member_id: str) -> int:
    row = ctx.db.execute_sql(_BALANCE_SQL, (member_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"member {member_id} not found")
    return int(row[0])


def _insert_sale(
    ctx: TillContext,
    sale_id: str,
    request: SaleRequest,
    eligible: int,
    original_sale_id: str | None,
    now: datetime,
) -> None:
    stamp = models.Sale.occurred_at.db_value
    ctx.db.execute_sql(
        _INSERT_SALE_SQL,
        (
            sale_id,
            request.source,
            request.external_ref or sale_id,
            request.member_id,
            request.amount_minor,
            eligible,
            ctx.settings.currency.code,
            original_sale_id,
            ctx.settings.store,
            ctx.settings.till,
            request.staff,
            stamp(request.occurred_at or now),
            stamp(now),
        ),
    )
    queue_for_sync(ctx, "sale", sale_id)


def _queue_receipt(
    ctx: TillContext, sale_id: str, member_id: str, now: datetime
) -> int:
    stamp = models.PrintJob.created_at.db_value(now)
    cursor = ctx.db.execute_sql(
        _INSERT_PRINT_JOB_SQL, (sale_id, member_id, stamp, stamp)
    )
    return int(cursor.lastrowid)


def _try_queue_receipt(
    ctx: TillContext, sale_id: str, member_id: str, now: datetime
) -> int | None:
    """Queue a receipt in a savepoint, so that a failure here does not roll back the sale."""
    try:
        with ctx.db.atomic():
            return _queue_receipt(ctx, sale_id, member_id, now)
    except DatabaseError:
        logger.exception("could not queue the receipt of sale %s", sale_id)
        return None


def record_sale(ctx: TillContext, request: SaleRequest) -> SaleResult:
    """Record a sale, the points it earns and any points spent on it; one transaction.

    The programme of the current rule version decides the points: excluded and
    multiplied stock codes and categories, the tier, bonus periods and the
    birthday bonus, rounded once toward zero. By default points are earned on
    what the member pays in money: the eligible total less the value of the
    points and reward spent. Challenge and referral bonuses are paid in the
    same transaction.

    Raises:
        InvalidInputError: the amount is not positive or the points are negative.
        RejectedError: the member has fewer spendable points than the sale
            spends, the points are worth more than the basket or than the
            policy's share of it, or the reward's tier or dates do not allow it.
        NotFoundError: the member or the reward does not exist.
    """
    if request.amount_minor <= 0:
        raise InvalidInputError(
            "invalid sale amount: use more than 0, or record a return for money given back"
        )
    if request.redeem_points < 0:
        raise InvalidInputError("invalid points to redeem: use 0 or more")
    rules = current_rules(ctx)

    sale_id = str(uuid.uuid4())
    with ctx.db.atomic():
        now = ctx.now()
        balance = _balance(ctx, request.member_id)
        try:
            plan = plan_earning(ctx, rules, request, now)
        except DomainError as error:
            raise RejectedError(str(error)) from error
        check_offline_redemption(
            ctx, request.member_id, request.redeem_points + plan.reward_points
        )
        _insert_sale(ctx, sale_id, request, plan.earning.eligible_minor, None, now)
        _write_sale_entries(ctx, sale_id, request, plan, rules.version)
        bonus_points = pay_sale_bonuses(ctx, sale_id, request, plan, rules)
        append_audit(
            ctx,
            "sale",
            staff=request.staff,
            member_id=request.member_id,
            sale_id=sale_id,
        )
        job_id = None
        if request.print_receipt:
            job_id = _try_queue_receipt(ctx, sale_id, request.member_id, now)
        earned = plan.earning.total_points + bonus_points
        spent = request.redeem_points + plan.reward_points
        new_balance = balance + earned - spent
    logger.info(
        "recorded sale %s: %d points earned, %d redeemed", sale_id, earned, spent
    )
    return SaleResult(
        sale_id,
        request.member_id,
        request.amount_minor,
        plan.points_discount_minor + plan.reward_discount_minor,
        earned,
        spent,
        new_balance,
        job_id,
    )


def _write_sale_entries(
    ctx: TillContext,
    sale_id: str,
    request: SaleRequest,
    plan: SaleEarningPlan,
    version: int,
) -> None:
    entry = {"sale_id": sale_id, "staff": request.staff, "rule_version": version}
    if request.redeem_points:
        append_entry(ctx, request.member_id, "redeem", -request.redeem_points, **entry)
    if plan.reward is not None:
        append_entry(
            ctx,
            request.member_id,
            "redeem",
            -plan.reward_points,
            reason=f"reward {plan.reward.code}",
            **entry,
        )
    if plan.earning.points:
        append_entry(ctx, request.member_id, "earn", plan.earning.points, **entry)
    for label, points in plan.earning.bonuses:
        append_entry(
            ctx,
            request.member_id,
            "bonus",
            points,
            reason=plan.bonus_reasons.get(label, label),
            **entry,
        )


def _sale_entries(ctx: TillContext, sale_id: str) -> list[tuple]:
    return ctx.db.execute_sql(
        "SELECT e.id, e.kind, e.points, e.rule_version,"
        " (SELECT COALESCE(SUM(r.points), 0) FROM ledger_entry r"
        "  WHERE r.reverses_id = e.id)"
        " FROM ledger_entry e WHERE e.sale_id = ?"
        " AND e.kind IN ('earn', 'redeem', 'bonus') ORDER BY e.rowid",
        (sale_id,),
    ).fetchall()


def get_sale(ctx: TillContext, sale_id: str) -> SaleView:
    """Show a sale with what it earned and redeemed and how much was returned."""
    sale = models.Sale.get_or_none(models.Sale.id == sale_id.strip())
    if sale is None:
        raise NotFoundError(
            f"sale {sale_id!r} not found: use the sale_id printed when it was recorded"
        )
    returned = -sum(r.amount_minor for r in sale.returns)
    earned = redeemed = 0
    for _entry_id, kind, points, _version, _reversed in _sale_entries(ctx, sale.id):
        if kind in ("earn", "bonus"):
            earned += points
        else:
            redeemed += -points
    return SaleView(
        sale.id,
        sale.member_id,
        sale.amount_minor,
        returned,
        earned,
        redeemed,
        sale.occurred_at,
        sale.source,
        sale.external_ref,
        sale.original_sale_id,
    )


def return_sale(
    ctx: TillContext,
    sale_id: str,
    amount_minor: int | None = None,
    staff: str | None = None,
    reason: str | None = None,
) -> SaleResult:
    """Record a return of all or part of a sale; one transaction.

    The return takes back the points that the returned part earned, with the
    same rounding as earning, even when the member has spent them: the balance
    may then go below zero, and the member is listed for a manager. When the
    whole sale is returned, points spent on it are given back.

    Raises:
        NotFoundError: no such sale.
        RejectedError: the sale is itself a return, or was already returned in full.
        InvalidInputError: the amount is not positive or exceeds what is left.
    """
    with ctx.db.atomic():
        now = ctx.now()
        sale = get_sale(ctx, sale_id)
        if sale.original_sale_id is not None:
            raise RejectedError(f"sale {sale.id} is a return: return the original sale")
        if sale.member_id is None:
            raise RejectedError(f"sale {sale.id} has no member, so it has no points")
        remaining = sale.amount_minor - sale.returned_minor
        if remaining <= 0:
            raise RejectedError(f"sale {sale.id} was already returned in full")
        currency = ctx.settings.currency
        returning = remaining if amount_minor is None else amount_minor
        if returning <= 0 or returning > remaining:
            raise InvalidInputError(
                f"invalid return amount {currency.format_plain(returning)}: use more"
                f" than 0 and at most {currency.format_plain(remaining)}, what is left"
                " of the sale"
            )
        is_complete = returning == remaining

        return_id = str(uuid.uuid4())
        request = SaleRequest(sale.member_id, -returning, staff=staff)
        eligible_row = ctx.db.execute_sql(
            "SELECT eligible_minor, (SELECT COALESCE(-SUM(eligible_minor), 0) FROM sale"
            " WHERE original_sale_id = ?) FROM sale WHERE id = ?",
            (sale.id, sale.id),
        ).fetchone()
        sale_eligible, eligible_returned = eligible_row
        eligible_returning = min(returning, sale_eligible - eligible_returned)
        if is_complete:
            eligible_returning = sale_eligible - eligible_returned
        _insert_sale(ctx, return_id, request, -eligible_returning, sale.id, now)

        taken = given = 0
        for entry_id, kind, points, version, reversed_points in _sale_entries(
            ctx, sale.id
        ):
            if kind == "earn":
                back = points_taken_back(
                    ctx,
                    sale.id,
                    version,
                    sale_eligible,
                    points,
                    eligible_returned,
                    eligible_returning,
                )
                back = min(back, points + reversed_points)
                if is_complete:
                    back = points + reversed_points
                if back:
                    append_entry(
                        ctx,
                        sale.member_id,
                        "reverse",
                        -back,
                        sale_id=return_id,
                        staff=staff,
                        reason=reason,
                        reverses=entry_id,
                    )
                    taken += back
            elif kind == "bonus" and is_complete and points + reversed_points > 0:
                back = points + reversed_points
                append_entry(
                    ctx,
                    sale.member_id,
                    "reverse",
                    -back,
                    sale_id=return_id,
                    staff=staff,
                    reason=reason,
                    reverses=entry_id,
                )
                taken += back
            elif kind == "redeem" and is_complete and points + reversed_points < 0:
                give = -(points + reversed_points)
                append_entry(
                    ctx,
                    sale.member_id,
                    "reverse",
                    give,
                    sale_id=return_id,
                    staff=staff,
                    reason=reason,
                    reverses=entry_id,
                )
                given += give
        append_audit(
            ctx,
            "return",
            staff=staff,
            member_id=sale.member_id,
            sale_id=return_id,
            reason=reason,
            details={"original_sale": sale.id, "amount_minor": returning},
        )
        balance = _balance(ctx, sale.member_id)
    if balance < 0:
        logger.warning(
            "member %s is below zero (%d) after return %s",
            sale.member_id,
            balance,
            return_id,
        )
    logger.info(
        "recorded return %s of sale %s: %d points taken back, %d given back",
        return_id,
        sale.id,
        taken,
        given,
    )
    return SaleResult(return_id, sale.member_id, -returning, 0, -taken, -given, balance)


def return_unlinked(
    ctx: TillContext,
    member_id: str,
    amount_minor: int,
    lines: Sequence[SaleLine] = (),
    source: str = "till",
    external_ref: str | None = None,
    occurred_at: datetime | None = None,
    staff: str | None = None,
) -> SaleResult:
    """Record a return that names no sale: it takes back what its amount would earn.

    ``amount_minor`` is the money given back, as a positive number.
    """
    rules, currency = current_rules(ctx), ctx.settings.currency
    rule = rules.rule
    eligible = rule.eligible_total(lines) if lines else amount_minor
    points = rule.points_for(eligible, currency)
    return_id = str(uuid.uuid4())
    request = SaleRequest(
        member_id,
        -amount_minor,
        source=source,
        external_ref=external_ref,
        occurred_at=occurred_at,
        staff=staff,
    )
    with ctx.db.atomic():
        now = ctx.now()
        _balance(ctx, member_id)
        _insert_sale(ctx, return_id, request, -eligible, None, now)
        if points:
            append_entry(
                ctx,
                member_id,
                "reverse",
                -points,
                sale_id=return_id,
                staff=staff,
                rule_version=rules.version,
            )
        append_audit(ctx, "return", staff=staff, member_id=member_id, sale_id=return_id)
        balance = _balance(ctx, member_id)
    return SaleResult(return_id, member_id, -amount_minor, 0, -points, 0, balance)


def redeem_points(
    ctx: TillContext,
    member_id: str,
    points: int,
    staff: str | None = None,
    reason: str | None = None,
) -> SaleResult:
    """Spend points outside a sale, such as on a reward; never beyond the wallet.

    The programme's redemption policy applies: a minimum balance before any
    redemption, and points still pending until a sale's return window ends
    cannot be spent.

    The points come from the member's household wallet: the check is against
    the wallet, the entry is the member's own, so the member's balance may go
    below zero while the wallet does not. The check and the debit run in one
    ``BEGIN IMMEDIATE`` transaction, so two tills or threads cannot both
    spend the same points of a wallet.

    Raises:
        InvalidInputError: ``points`` is not positive.
        RejectedError: the member's wallet has fewer points than asked.
    """
    if points <= 0:
        raise InvalidInputError(f"invalid points {points}: redeem 1 or more")
    rules = current_rules(ctx)
    programme = rules.programme
    with ctx.db.atomic():
        balance = _balance(ctx, member_id)
        funds = wallet_funds(ctx, member_id, programme, ctx.now())
        try:
            check_redemption(
                programme.redemption,
                funds.spendable,
                points,
                funds.pending,
                funds.holder,
            )
        except DomainError as error:
            raise RejectedError(str(error)) from error
        check_offline_redemption(ctx, member_id, points)
        append_entry(
            ctx,
            member_id,
            "redeem",
            -points,
            staff=staff,
            reason=reason,
            rule_version=rules.version,
        )
        append_audit(
            ctx,
            "redeem",
            staff=staff,
            member_id=member_id,
            reason=reason,
            details={"points": points},
        )
    logger.info("member %s redeemed %d points", member_id, points)
    return SaleResult("", member_id, 0, 0, 0, points, balance - points)


def recent_sales(ctx: TillContext, member_id: str, limit: int = 20) -> list[SaleView]:
    """List a member's latest sales, newest first, whatever they earned.

    Returns are not listed as sales of their own. A sale that earned nothing
    (below the minimum spend, or recorded without earning) is listed too, so
    it can still be returned.

    Args:
        ctx: the open till.
        member_id: the member's id.
        limit: the maximum number of sales to list.

    Returns:
        One ``SaleView`` per sale, with the amount returned of it so far (minor
        units) and the points it earned and redeemed.
    """
    from peewee import fn

    sale, entry = models.Sale, models.LedgerEntry
    found = list(
        sale.select()
        .where((sale.member == member_id) & sale.original_sale.is_null())
        .order_by(sale.occurred_at.desc(), sale.recorded_at.desc())
        .limit(limit)
    )
    ids = [row.id for row in found]
    if not ids:
        return []
    returned = {
        original_id: -total
        for original_id, total in sale.select(
            sale.original_sale, fn.SUM(sale.amount_minor)
        )
        .where(sale.original_sale.in_(ids))
        .group_by(sale.original_sale)
        .tuples()
    }
    earned: dict[str, int] = {}
    redeemed: dict[str, int] = {}
    for sale_id, kind, points in (
        entry.select(entry.sale, entry.kind, fn.SUM(entry.points))
        .where(entry.sale.in_(ids) & entry.kind.in_(("earn", "redeem", "bonus")))
        .group_by(entry.sale, entry.kind)
        .tuples()
    ):
        if kind == "redeem":
            redeemed[sale_id] = redeemed.get(sale_id, 0) - points
        else:
            earned[sale_id] = earned.get(sale_id, 0) + points
    return [
        SaleView(
            row.id,
            member_id,
            row.amount_minor,
            returned.get(row.id, 0),
            earned.get(row.id, 0),
            redeemed.get(row.id, 0),
            row.occurred_at,
            row.source,
            row.external_ref,
            None,
        )
        for row in found
    ]

"""Receipts and member cards built from the committed ledger, reprints, printer state.

A receipt is always built here, from the sale's rows and ledger entries as
committed, never from what a window computed: a reprint a week later shows
the same points and the balance right after the sale.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from posloyalty.domain.errors import DomainError
from posloyalty.domain.loyalty_block import loyalty_blocks
from posloyalty.domain.money import Currency
from posloyalty.domain.receipt import Block, MemberCard, Receipt, render_receipt_text
from posloyalty.services import print_jobs
from posloyalty.services.config import rule_from_values
from posloyalty.services.context import TillContext
from posloyalty.services.errors import NotFoundError, RejectedError, ServiceError
from posloyalty.services.loyalty import receipt_loyalty_block
from posloyalty.services.print_jobs import PrintJobView
from posloyalty.storage import models

logger = logging.getLogger(__name__)

_SALE_ENTRIES_SQL = (
    "SELECT kind, points, rule_version, rowid FROM ledger_entry WHERE sale_id = ?"
)
_BALANCE_UP_TO_ROW_SQL = (
    "SELECT COALESCE(SUM(points), 0) FROM ledger_entry"
    " WHERE member_id = ? AND rowid <= ?"
)
_BALANCE_UP_TO_TIME_SQL = (
    "SELECT COALESCE(SUM(points), 0) FROM ledger_entry"
    " WHERE member_id = ? AND created_at <= ?"
)
_CARD_SQL = (
    "SELECT number FROM card WHERE member_id = ?"
    " ORDER BY blocked_at IS NOT NULL, issued_at DESC LIMIT 1"
)


def _get_sale(ctx: TillContext, sale_id: str) -> models.Sale:
    sale = models.Sale.get_or_none(models.Sale.id == sale_id.strip())
    if sale is None:
        raise NotFoundError(
            f"sale {sale_id!r} not found: use the sale_id printed when it was recorded"
        )
    if sale.member_id is None:
        raise RejectedError(f"sale {sale.id} has no member, so it has no receipt")
    return sale


def _card_number(ctx: TillContext, member_id: str) -> str | None:
    row = ctx.db.execute_sql(_CARD_SQL, (member_id,)).fetchone()
    return row[0] if row else None


def _discount(ctx: TillContext, redeemed: int, version: int | None, currency) -> int:
    """Recompute the money the redeemed points paid, with the rule of that sale."""
    if not redeemed:
        return 0
    row = models.RuleVersion.get_or_none(models.RuleVersion.version == version)
    rule = rule_from_values(json.loads(row.rule)) if row else ctx.settings.earning_rule
    return rule.value_of_points(redeemed, currency)


def build_receipt(ctx: TillContext, sale_id: str, is_copy: bool = False) -> Receipt:
    """Build the receipt of a sale or return from its committed ledger entries.

    The balance is the member's balance right after the sale: the sum of
    their entries up to the sale's last entry, or, for a sale that wrote no
    entry, up to the time it was recorded.

    Raises:
        NotFoundError: no such sale.
        RejectedError: the sale has no member.
    """
    sale = _get_sale(ctx, sale_id)
    member = models.Member.get_by_id(sale.member_id)
    earned = redeemed = reversed_points = 0
    redeem_version = None
    last_row = None
    for kind, points, version, rowid in ctx.db.execute_sql(
        _SALE_ENTRIES_SQL, (sale.id,)
    ):
        if kind in ("earn", "bonus"):
            earned += points
        elif kind == "redeem":
            redeemed -= points
            redeem_version = version
        elif kind == "reverse":
            reversed_points += points
        last_row = rowid if last_row is None else max(last_row, rowid)
    if last_row is not None:
        balance_row = ctx.db.execute_sql(
            _BALANCE_UP_TO_ROW_SQL, (member.id, last_row)
        ).fetchone()
    else:
        stamp = models.Sale.recorded_at.db_value(sale.recorded_at)
        balance_row = ctx.db.execute_sql(
            _BALANCE_UP_TO_TIME_SQL, (member.id, stamp)
        ).fetchone()

    settings = ctx.settings
    currency = (
        settings.currency
        if sale.currency == settings.currency.code
        else Currency.from_code(sale.currency)
    )
    is_return = sale.original_sale_id is not None or sale.amount_minor < 0
    reference = sale.external_ref if sale.source != "till" else sale.id[:8].upper()
    return Receipt(
        store=sale.store,
        till=sale.till,
        occurred_at=sale.occurred_at.astimezone(),
        sale_id=sale.id,
        sale_reference=reference,
        amount_minor=sale.amount_minor,
        discount_minor=_discount(ctx, redeemed, redeem_version, currency),
        currency=currency,
        decimal_separator=settings.decimal_separator,
        points_earned=earned,
        points_redeemed=redeemed,
        points_reversed=reversed_points,
        balance=int(balance_row[0]),
        member_name=member.name,
        card_number=_card_number(ctx, member.id),
        is_return=is_return,
        is_copy=is_copy,
        loyalty=_loyalty_lines(ctx, member.id, sale.id),
    )


def _loyalty_lines(ctx: TillContext, member_id: str, sale_id: str) -> tuple[Block, ...]:
    """Lay out the standing after the sale; the receipt prints without it on error."""
    try:
        return tuple(loyalty_blocks(receipt_loyalty_block(ctx, member_id, sale_id)))
    except (ServiceError, DomainError):
        logger.exception(
            "receipt for member %s printed without its loyalty block", member_id
        )
        return ()


def build_member_card(ctx: TillContext, member_id: str) -> MemberCard:
    """Build a member's card from their newest card that is not blocked.

    Raises:
        NotFoundError: no such member.
        RejectedError: the member has no card that is not blocked.
    """
    member = models.Member.get_or_none(models.Member.id == member_id)
    if member is None:
        raise NotFoundError(f"member {member_id} not found")
    row = ctx.db.execute_sql(
        "SELECT number FROM card WHERE member_id = ? AND blocked_at IS NULL"
        " ORDER BY issued_at DESC LIMIT 1",
        (member_id,),
    ).fetchone()
    if row is None:
        raise RejectedError(
            f"member {member.name!r} has no card that is not blocked: issue a new"
            " card first"
        )
    return MemberCard(ctx.settings.store, member.name, row[0])


def receipt_preview(ctx: TillContext, sale_id: str, columns: int) -> str:
    """Return the receipt of a sale as the plain text the till shows before printing."""
    return render_receipt_text(build_receipt(ctx, sale_id), columns)


def reprint(ctx: TillContext, sale_id: str, staff: str | None = None) -> int:
    """Print a sale's receipt again; one transaction.

    A failed receipt job of the sale is queued again, so the failed list
    empties; otherwise a new job prints a copy marked as such.

    Returns:
        The id of the job that will print.

    Raises:
        NotFoundError: no such sale.
        RejectedError: the sale has no member.
    """
    sale = _get_sale(ctx, sale_id)
    with ctx.db.atomic():
        row = ctx.db.execute_sql(
            "SELECT id FROM print_job WHERE sale_id = ? AND kind = 'receipt'"
            " AND status = ? ORDER BY id DESC LIMIT 1",
            (sale.id, print_jobs.FAILED),
        ).fetchone()
        if row is not None:
            job_id = int(row[0])
            ctx.db.execute_sql(
                "UPDATE print_job SET status = ?, attempts = 0, next_attempt_at ="
                " NULL, updated_at = ? WHERE id = ?",
                (
                    print_jobs.QUEUED,
                    models.PrintJob.updated_at.db_value(ctx.now()),
                    job_id,
                ),
            )
        else:
            job_id = print_jobs.queue_job(
                ctx,
                "receipt",
                sale_id=sale.id,
                member_id=sale.member_id,
                payload={"copy": True, "staff": staff},
            )
    logger.info("receipt of sale %s queued again as job %d", sale.id, job_id)
    return job_id


def print_card(ctx: TillContext, member_id: str) -> int:
    """Queue a member's card for printing.

    Returns:
        The job id.

    Raises:
        NotFoundError: no such member.
        RejectedError: the member has no usable card.
    """
    build_member_card(ctx, member_id)
    return print_jobs.queue_job(ctx, "card", member_id=member_id)


def print_test_page(ctx: TillContext) -> int:
    """Queue a test page: code page sample and a QR code. Returns the job id."""
    return print_jobs.queue_job(ctx, "test")


def wait_for_job(
    ctx: TillContext, job_id: int, timeout_s: float, poll_s: float = 0.05
) -> PrintJobView:
    """Wait until a job printed or failed, or ``timeout_s`` passed; return it.

    A failed job returns at its first failure even if a retry is planned, so
    the caller can show the reason at once.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        job = print_jobs.get_print_job(ctx, job_id)
        if job.status in (print_jobs.PRINTED, print_jobs.FAILED):
            return job
        if time.monotonic() >= deadline:
            return job
        time.sleep(poll_s)


@dataclass(frozen=True)
class PrinterStatus:
    """The printer's state as the status bar shows it.

    Attributes:
        state: ``not_configured``, ``unknown`` (nothing printed yet),
            ``ready``, ``printing`` or ``failed``.
        message: one line for the cashier.
        queued: jobs waiting to print.
        failed_jobs: failed jobs, newest first, each with its reason.
    """

    state: str
    message: str
    queued: int
    failed_jobs: list[PrintJobView] = field(default_factory=list)


def printer_status(ctx: TillContext) -> PrinterStatus:
    """Return the printer's state from the print queue, for the status bar."""
    uri = _setting(ctx, "printer_uri")
    queued = print_jobs.count_jobs(ctx, print_jobs.QUEUED)
    failed = print_jobs.list_jobs(ctx, print_jobs.FAILED)
    if uri.strip().lower() == "none":
        return PrinterStatus(
            "not_configured",
            "no printer configured: receipts wait in the queue",
            queued,
            failed,
        )
    if print_jobs.count_jobs(ctx, print_jobs.PRINTING):
        return PrinterStatus("printing", "printing", queued, failed)
    row = ctx.db.execute_sql(
        "SELECT status, last_error FROM print_job WHERE status IN (?, ?)"
        " ORDER BY updated_at DESC, id DESC LIMIT 1",
        (print_jobs.PRINTED, print_jobs.FAILED),
    ).fetchone()
    if row is None:
        return PrinterStatus("unknown", "nothing printed yet", queued, failed)
    if row[0] == print_jobs.FAILED:
        return PrinterStatus("failed", row[1] or "printing failed", queued, failed)
    message = "ready" if not failed else f"ready; {len(failed)} receipts failed"
    return PrinterStatus("ready", message, queued, failed)


def _setting(ctx: TillContext, key: str) -> str:
    row = ctx.db.execute_sql("SELECT value FROM setting WHERE key = ?", (key,))
    found = row.fetchone()
    return found[0] if found else ""


def printer_setting_values(ctx: TillContext) -> dict[str, str]:
    """Read the printer settings as stored now, even if another process changed them."""
    rows = ctx.db.execute_sql(
        "SELECT key, value FROM setting WHERE key LIKE 'printer%'"
    )
    return {key: value for key, value in rows}

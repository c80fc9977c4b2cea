"""Replaying a sales journal exported by an existing POS into the ledger."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import (
    Decimal,
    DecimalException,
    Inexact,
    InvalidOperation,
    localcontext,
)
from pathlib import Path

from posloyalty.domain.money import MAX_AMOUNT_MINOR
from posloyalty.domain.points import SaleLine
from posloyalty.importing.csvfile import parse_column_map, read_rows, require_columns
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError
from posloyalty.services.ledger import append_audit, append_entry, queue_for_sync
from posloyalty.services.members import NewMember, insert_member
from posloyalty.storage import models

logger = logging.getLogger(__name__)

SALE_FIELDS = {"invoice", "sku", "quantity", "unit_price", "amount", "member", "time"}
REQUIRED_FIELDS = {"invoice", "member", "time"}

ProgressCallback = Callable[[int, int], None]


@dataclass
class Invoice:
    """The lines of one invoice, in minor units."""

    number: str
    member_ref: str
    occurred_at: datetime
    first_line: int
    lines: list[SaleLine] = field(default_factory=list)

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)


@dataclass
class SalesImportReport:
    """What an import recorded and what it skipped, with reasons."""

    rows: int = 0
    invoices: int = 0
    sales: int = 0
    returns: int = 0
    members_enrolled: int = 0
    members: set[str] = field(default_factory=set)
    points: int = 0
    skipped_rows: dict[str, int] = field(default_factory=dict)
    skipped_invoices: dict[str, int] = field(default_factory=dict)

    def skip_rows(self, reason: str, count: int = 1) -> None:
        self.skipped_rows[reason] = self.skipped_rows.get(reason, 0) + count

    def skip_invoice(self, reason: str) -> None:
        self.skipped_invoices[reason] = self.skipped_invoices.get(reason, 0) + 1


def _malformed(
    path: Path, line: int, column: str, value: str, fix: str
) -> InvalidInputError:
    return InvalidInputError(
        f"{path.name} line {line}: invalid {column} {value!r}: {fix}; nothing from"
        " this file was imported"
    )


def _number(text: str) -> Decimal:
    """Read a finite number; raise ``InvalidOperation`` for text, NaN or infinity."""
    value = Decimal(text.strip())
    if not value.is_finite():
        raise InvalidOperation(text)
    return value


def _minor(amount: Decimal, decimals: int) -> int | None:
    """Return ``amount`` in minor units, or None when it has more decimals."""
    # Inexact is trapped, so a digit beyond the currency's decimals, however
    # far out (1e-999999999), is an error instead of being rounded away.
    with localcontext() as context:
        context.traps[Inexact] = True
        try:
            scaled = amount.quantize(Decimal(1).scaleb(-decimals))
        except Inexact:
            return None
    return int(scaled.scaleb(decimals))


def parse_journal(
    ctx: TillContext, path: Path, column_map: str, time_format: str,
    report: SalesImportReport,
) -> list[Invoice]:  # fmt: skip
    """Read and check every row, grouping lines by invoice in file order.

    Raises:
        InvalidInputError: a malformed row, with its line number and value.
    """
    columns = parse_column_map(column_map, SALE_FIELDS)
    missing = REQUIRED_FIELDS - columns.keys()
    if missing:
        raise InvalidInputError(
            f"--map is missing {', '.join(sorted(missing))}: for example"
            " invoice=InvoiceNo,member=CustomerID,time=InvoiceDate"
        )
    if "amount" not in columns and not {"quantity", "unit_price"} <= columns.keys():
        raise InvalidInputError(
            "--map needs amount=Column, or quantity=Column and unit_price=Column"
        )
    header, rows = read_rows(path)
    require_columns(path, header, columns)

    currency = ctx.settings.currency
    zone = ctx.settings.timezone
    invoices: dict[str, Invoice] = {}
    # Lines of one invoice share its time, so each distinct text is parsed once.
    times: dict[str, datetime] = {}
    get = columns.get
    for line, row in rows:
        report.rows += 1
        member_ref = row[columns["member"]].strip()
        if not member_ref:
            report.skip_rows("no member (anonymous sale)")
            continue
        number = row[columns["invoice"]].strip()
        if not number:
            raise _malformed(
                path,
                line,
                columns["invoice"],
                number,
                "every row needs an invoice number",
            )
        try:
            if "amount" in columns:
                amount = _number(row[columns["amount"]])
            else:
                quantity_text = row[columns["quantity"]].strip()
                price_text = row[columns["unit_price"]].strip()
                amount = _number(quantity_text) * _number(price_text)
        except DecimalException:
            bad_column = get("amount") or columns["quantity"]
            value = row[bad_column]
            if "amount" not in columns:
                try:
                    _number(row[columns["quantity"]])
                    bad_column, value = (
                        columns["unit_price"],
                        row[columns["unit_price"]],
                    )
                except DecimalException:
                    pass
            raise _malformed(
                path, line, bad_column, value, "write a number with a dot, like 2.55"
            ) from None
        if amount.copy_abs() > currency.to_decimal(MAX_AMOUNT_MINOR):
            raise _malformed(
                path,
                line,
                get("amount") or columns["unit_price"],
                str(amount),
                "the largest amount is"
                f" {currency.format_plain(MAX_AMOUNT_MINOR)} {currency.code}",
            )
        minor = _minor(amount, currency.decimals)
        if minor is None:
            raise _malformed(
                path,
                line,
                get("amount") or columns["unit_price"],
                str(amount),
                f"{currency.code} amounts have {currency.decimals} decimals",
            )
        time_text = row[columns["time"]].strip()
        occurred_at = times.get(time_text)
        if occurred_at is None:
            try:
                local = datetime.strptime(time_text, time_format)
            except ValueError:
                raise _malformed(
                    path,
                    line,
                    columns["time"],
                    time_text,
                    f"times must match --time-format {time_format!r}",
                ) from None
            if local.tzinfo is None:
                local = local.replace(tzinfo=zone)
            occurred_at = times[time_text] = local.astimezone(UTC)
        sku = row[columns["sku"]].strip() if "sku" in columns else ""

        invoice = invoices.get(number)
        if invoice is None:
            invoice = invoices[number] = Invoice(number, member_ref, occurred_at, line)
        elif invoice.member_ref != member_ref:
            raise _malformed(
                path,
                line,
                columns["member"],
                member_ref,
                f"invoice {number} already belongs to member {invoice.member_ref}",
            )
        invoice.lines.append(SaleLine(sku, minor))
    return list(invoices.values())


def import_sales(
    ctx: TillContext,
    path: Path,
    column_map: str,
    time_format: str,
    enroll_unknown: bool = False,
    source: str = "pos",
    progress: ProgressCallback | None = None,
) -> SalesImportReport:
    """Import a sales journal; the whole file is one transaction.

    Lines are grouped by invoice; an invoice whose total is negative is a
    return, which takes back the points its amount would earn. Rows without a
    member are anonymous sales and are skipped. An invoice already imported
    from ``source`` is skipped, so importing a file twice changes nothing. A
    malformed row stops the import before anything is written.
    """
    report = SalesImportReport()
    invoices = parse_journal(ctx, path, column_map, time_format, report)
    report.invoices = len(invoices)
    rule, currency = ctx.settings.earning_rule, ctx.settings.currency
    version = ctx.settings.rule_version
    member_ids: dict[str, str | None] = {}

    with ctx.db.atomic():
        now = ctx.now()
        stamp = models.Sale.occurred_at.db_value
        for done, invoice in enumerate(invoices, start=1):
            if progress is not None:
                progress(done, len(invoices))
            exists = ctx.db.execute_sql(
                "SELECT 1 FROM sale WHERE source = ? AND external_ref = ?",
                (source, invoice.number),
            ).fetchone()
            if exists:
                report.skip_invoice("already imported")
                continue
            # Checked before the member, so a skipped invoice enrols nobody.
            total = invoice.total_minor
            if total == 0:
                report.skip_invoice("total is zero")
                continue
            member_id = _member_for(
                ctx, invoice.member_ref, enroll_unknown, member_ids, report
            )
            if member_id is None:
                report.skip_invoice("unknown member (use --enroll-unknown)")
                continue
            eligible = rule.eligible_total(invoice.lines)
            if total > 0:
                eligible = max(eligible, 0)
                points = rule.points_for(eligible, currency)
                kind = "earn"
                report.sales += 1
            else:
                eligible = min(eligible, 0)
                points = -rule.points_for(-eligible, currency)
                kind = "reverse"
                report.returns += 1
            sale_id = str(uuid.uuid4())
            ctx.db.execute_sql(
                "INSERT INTO sale (id, source, external_ref, member_id, amount_minor,"
                " eligible_minor, currency, original_sale_id, store, till, staff,"
                " occurred_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?,"
                " NULL, ?, ?)",
                (sale_id, source, invoice.number, member_id, total, eligible,
                 currency.code, ctx.settings.store, ctx.settings.till,
                 stamp(invoice.occurred_at), stamp(now)),
            )  # fmt: skip
            queue_for_sync(ctx, "sale", sale_id)
            if points:
                append_entry(ctx, member_id, kind, points, sale_id=sale_id,
                             reason=f"imported invoice {invoice.number}",
                             rule_version=version)  # fmt: skip
            report.points += points
            report.members.add(member_id)
        append_audit(ctx, "import sales", details={
            "file": path.name, "invoices": report.sales + report.returns,
            "points": report.points})  # fmt: skip
    logger.info("imported %d sales and %d returns from %s", report.sales,
                report.returns, path)  # fmt: skip
    return report


def _member_for(
    ctx: TillContext, ref: str, enroll_unknown: bool, cache: dict[str, str | None],
    report: SalesImportReport,
) -> str | None:  # fmt: skip
    if ref in cache:
        return cache[ref]
    rows = ctx.db.execute_sql(
        "SELECT id FROM member WHERE external_id = ?", (ref,)
    ).fetchall()
    if len(rows) > 1:
        raise InvalidInputError(
            f"{len(rows)} members have external id {ref!r}: merge them before importing"
        )
    member_id = rows[0][0] if rows else None
    if member_id is None and enroll_unknown:
        member = insert_member(ctx, NewMember(f"Customer {ref}", external_id=ref))
        member_id = member.id
        report.members_enrolled += 1
    cache[ref] = member_id
    return member_id


def terminal_progress(done: int, total: int) -> None:
    """Draw a progress bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return
    if done != total and done % 25:
        return
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} invoices"
    )
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()

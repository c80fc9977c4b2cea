"""The day's figures per cashier, and reading the audit trail."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from posloyalty.services.context import TillContext
from posloyalty.services.ledger import append_audit, parse_time
from posloyalty.services.manager import overdrawn_members
from posloyalty.services.views import MemberView
from posloyalty.storage import models

logger = logging.getLogger(__name__)

# 58 mm paper, the narrowest the printers take, fits 32 characters of font A
# (384 dots of 12 each), so slip lines of this width print on every printer.
SLIP_WIDTH = 32

_FIGURES_SQL = (
    "SELECT staff,"
    " COALESCE(SUM(CASE WHEN kind IN ('earn', 'bonus') THEN points END), 0),"
    " COALESCE(SUM(CASE WHEN kind = 'redeem' THEN -points END), 0),"
    " COALESCE(SUM(CASE WHEN kind = 'adjust' THEN points END), 0),"
    " COALESCE(SUM(CASE WHEN kind = 'reverse' THEN points END), 0)"
    " FROM ledger_entry WHERE store = ? AND till = ? AND created_at >= ?"
    " AND created_at < ? GROUP BY staff"
)
_ENROLLED_SQL = (
    "SELECT staff, COUNT(*) FROM audit_entry WHERE action = 'enrol' AND store = ?"
    " AND till = ? AND created_at >= ? AND created_at < ? GROUP BY staff"
)


@dataclass(frozen=True)
class CashierFigures:
    """One cashier's points for a day, in whole points.

    ``staff`` is None for what was recorded without anyone signed in, which
    the report shows under the till's name.
    """

    staff: str | None
    points_issued: int = 0
    points_redeemed: int = 0
    points_adjusted: int = 0
    points_reversed: int = 0
    members_enrolled: int = 0


@dataclass(frozen=True)
class DayReport:
    """The figures of one day at one till, per cashier, and members below zero."""

    day: date
    store: str
    till: str
    cashiers: list[CashierFigures]
    overdrawn: list[MemberView] = field(default_factory=list)

    @property
    def totals(self) -> CashierFigures:
        return CashierFigures(
            None,
            sum(row.points_issued for row in self.cashiers),
            sum(row.points_redeemed for row in self.cashiers),
            sum(row.points_adjusted for row in self.cashiers),
            sum(row.points_reversed for row in self.cashiers),
            sum(row.members_enrolled for row in self.cashiers),
        )


def till_timezone(ctx: TillContext) -> tzinfo:
    """Return the shop's time zone setting, or the computer's local zone."""
    name = ctx.settings.get("timezone")
    if name:
        import zoneinfo

        return zoneinfo.ZoneInfo(name)
    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local


def today(ctx: TillContext) -> date:
    """Return the current date at the till, in its time zone."""
    return ctx.now().astimezone(till_timezone(ctx)).date()


def _day_bounds(ctx: TillContext, day: date) -> tuple[str, str]:
    """Return the stored-time range of a local day, which DST can make 23 or 25 h."""
    zone = till_timezone(ctx)
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    stamp = models.LedgerEntry.created_at.db_value
    return stamp(start), stamp(end)


def day_report(ctx: TillContext, day: date | None = None) -> DayReport:
    """Sum a day's points issued, redeemed, adjusted and reversed per cashier.

    Members enrolled come from the audit trail. The day is the till's local day,
    in the ``timezone`` setting or else the computer's zone. Only entries written
    at this till count, not those pulled from other tills by sync.
    """
    day = day or today(ctx)
    start, end = _day_bounds(ctx, day)
    store, till = ctx.settings.store, ctx.settings.till
    figures: dict[str | None, dict[str, int]] = {}
    with ctx.db.atomic("DEFERRED"):
        for staff, issued, redeemed, adjusted, reversed_ in ctx.db.execute_sql(
            _FIGURES_SQL, (store, till, start, end)
        ):
            figures[staff] = {
                "points_issued": issued,
                "points_redeemed": redeemed,
                "points_adjusted": adjusted,
                "points_reversed": reversed_,
            }
        for staff, count in ctx.db.execute_sql(
            _ENROLLED_SQL, (store, till, start, end)
        ):
            figures.setdefault(staff, {})["members_enrolled"] = count
        overdrawn = overdrawn_members(ctx)
    cashiers = [
        CashierFigures(staff, **values)
        for staff, values in sorted(
            figures.items(), key=lambda item: (item[0] is None, item[0] or "")
        )
    ]
    return DayReport(day, store, till, cashiers, overdrawn)


def day_report_lines(report: DayReport, width: int = SLIP_WIDTH) -> list[str]:
    """Lay out a day report as lines of at most ``width`` characters."""

    def line(label: str, value: int) -> str:
        number = f"{value:d}"
        return (
            f"  {label[: width - len(number) - 3]:<{width - len(number) - 2}}{number}"
        )

    lines = [
        f"End of day {report.day.isoformat()}"[:width],
        f"{report.store} / {report.till}"[:width],
        "-" * width,
    ]
    for row in [*report.cashiers, None]:
        figures = report.totals if row is None else row
        if row is None:
            title = "All staff"
        else:
            title = row.staff or f"{report.till} (nobody signed in)"
        lines.append(title[:width])
        lines.append(line("points issued", figures.points_issued))
        lines.append(line("points redeemed", figures.points_redeemed))
        lines.append(line("points adjusted", figures.points_adjusted))
        lines.append(line("points reversed", figures.points_reversed))
        lines.append(line("members enrolled", figures.members_enrolled))
    if report.overdrawn:
        lines.append("-" * width)
        lines.append(f"Below zero: {len(report.overdrawn)} members"[:width])
        for member in report.overdrawn:
            label = member.name or member.id[:8]
            lines.append(line(label, member.balance))
    return lines


def queue_day_slip(ctx: TillContext, report: DayReport) -> int:
    """Queue the day report on the receipt printer as a ``slip`` print job.

    Returns:
        The print job's id.
    """
    # The print worker lays out a slip's "title" and "lines" as they are.
    payload = {
        "title": f"End of day {report.day.isoformat()}",
        "lines": day_report_lines(report),
    }
    with ctx.db.atomic():
        now = ctx.now()
        job = models.PrintJob.create(
            kind="slip",
            payload=json.dumps(payload, ensure_ascii=False),
            status="queued",
            created_at=now,
            updated_at=now,
        )
        append_audit(ctx, "print_day_report", details={"day": report.day.isoformat()})
    logger.info("queued the day report of %s as print job %d", report.day, job.id)
    return int(job.id)


@dataclass(frozen=True)
class AuditView:
    """One row of the audit trail; ``details`` is decoded JSON or None."""

    id: int
    created_at: datetime
    store: str
    till: str
    staff: str | None
    action: str
    member_id: str | None
    sale_id: str | None
    reason: str | None
    details: dict[str, object] | None


def list_audit(
    ctx: TillContext, since: datetime | None = None, limit: int | None = None
) -> list[AuditView]:
    """Return audit rows from ``since`` on (all when None), oldest first."""
    sql = (
        "SELECT id, created_at, store, till, staff, action, member_id, sale_id,"
        " reason, details FROM audit_entry"
    )
    params: list[object] = []
    if since is not None:
        sql += " WHERE created_at >= ?"
        params.append(models.AuditEntry.created_at.db_value(since))
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [
        AuditView(
            row[0],
            parse_time(row[1]),
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            row[8],
            json.loads(row[9]) if row[9] else None,
        )
        for row in ctx.db.execute_sql(sql, params)
    ]

"""The audit trail: chained rows that show an edit, and the day report."""

from datetime import date

import pytest

from ledger_helpers import enrol, sale
from posloyalty.services import manager, members, reports, sales
from posloyalty.services.ledger import verify
from posloyalty.services.members import NewMember
from staff_helpers import creds


def test_audit_chain_detects_edited_row(shop):
    member = enrol(shop)
    manager.adjust_balance(shop, member.id, 80, "goodwill", creds("Alice"))
    sale(shop, member, 1000)
    assert verify(shop).ok

    adjust_row = shop.db.execute_sql(
        "SELECT id FROM audit_entry WHERE action = 'adjust'"
    ).fetchone()[0]
    with shop.db.atomic():
        shop.db.execute_sql(
            "UPDATE audit_entry SET staff = 'Bob' WHERE id = ?", (adjust_row,)
        )
    report = verify(shop)
    assert report.broken_audit_row == adjust_row
    assert report.broken_ledger_chains == []
    assert report.balance_mismatches == []


def test_audit_chain_detects_deleted_row(shop):
    member = enrol(shop)
    manager.adjust_balance(shop, member.id, 80, "goodwill", creds("Alice"))
    sale(shop, member, 1000)
    rows = [r[0] for r in shop.db.execute_sql("SELECT id FROM audit_entry ORDER BY id")]
    with shop.db.atomic():
        shop.db.execute_sql("DELETE FROM audit_entry WHERE id = ?", (rows[-2],))
    assert verify(shop).broken_audit_row == rows[-1]


def test_ledger_chain_detects_edited_adjustment(shop):
    member = enrol(shop)
    result = manager.adjust_balance(shop, member.id, 80, "goodwill", creds("Alice"))
    with shop.db.atomic():
        shop.db.execute_sql(
            "UPDATE ledger_entry SET reason = 'correction' WHERE id = ?",
            (result.entry_id,),
        )
    chains = verify(shop).broken_ledger_chains
    assert chains == [
        f"ledger chain of Main store / Till 1 breaks at entry {result.entry_id}"
    ]


def test_list_audit_since_filters_and_decodes(shop, clock):
    member = enrol(shop)
    clock.advance(days=1)
    manager.adjust_balance(shop, member.id, 5, "goodwill", creds("Alice"))
    rows = reports.list_audit(shop, since=clock())
    assert [row.action for row in rows] == ["adjust"]
    assert rows[0].details["points"] == 5
    assert rows[0].created_at == clock()
    assert len(reports.list_audit(shop)) > 1


def test_day_report_sums_per_cashier(shop, clock):
    shop.update_settings({"timezone": "Europe/London"})
    first = members.enrol_member(shop, NewMember("Ann Lee", "07700 900123"), "Bob")
    second = members.enrol_member(shop, NewMember("Ben Ode", "07700 900456"), "Bob")
    sale(shop, first, 3000, staff="Bob")
    sale(shop, second, 1200)
    sales.redeem_points(shop, first.id, 10, staff="Bob")
    manager.adjust_balance(shop, second.id, 40, "goodwill", creds("Alice"))
    paid = sale(shop, second, 500, staff="Bob")
    manager.reverse_sale(shop, paid.sale_id, creds("Alice"))
    clock.advance(days=1)
    sale(shop, first, 9900, staff="Bob")  # the next day: not counted

    report = reports.day_report(shop, date(2025, 3, 29))
    by_staff = {row.staff: row for row in report.cashiers}
    assert set(by_staff) == {"Alice", "Bob", None}
    assert by_staff["Bob"].points_issued == 35
    assert by_staff["Bob"].points_redeemed == 10
    assert by_staff["Bob"].members_enrolled == 2
    assert by_staff["Alice"].points_adjusted == 40
    assert by_staff["Alice"].points_reversed == -5
    assert by_staff[None].points_issued == 12
    assert report.totals.points_issued == 47

    lines = reports.day_report_lines(report)
    assert all(len(line) <= reports.SLIP_WIDTH for line in lines)
    assert "Till 1 (nobody signed in)" in lines
    assert reports.today(shop) == date(2025, 3, 30)


def test_day_report_uses_local_day_across_clock_change(shop, clock):
    # On 30 March 2025 London's clocks go forward at 01:00 UTC, so the local
    # day runs from 00:00 UTC to 23:00 UTC.
    shop.update_settings({"timezone": "Europe/London"})
    member = enrol(shop)
    clock.current = clock.current.replace(day=30, hour=22, minute=59)
    sale(shop, member, 1000)
    clock.advance(minutes=2)
    sale(shop, member, 2000)
    day = reports.day_report(shop, date(2025, 3, 30))
    next_day = reports.day_report(shop, date(2025, 3, 31))
    assert day.totals.points_issued == 10
    assert next_day.totals.points_issued == 20


def test_day_report_lists_members_below_zero(shop):
    member = enrol(shop)
    earned = sale(shop, member, 1500)
    sales.redeem_points(shop, member.id, 15)
    manager.reverse_sale(shop, earned.sale_id, creds("Alice"))
    report = reports.day_report(shop, date(2025, 3, 29))
    assert [(m.id, m.balance) for m in report.overdrawn] == [(member.id, -15)]
    assert "Below zero: 1 members" in reports.day_report_lines(report)


@pytest.mark.parametrize("width", [32, 42])
def test_day_slip_is_queued_for_printer(shop, width):
    enrol(shop)
    report = reports.day_report(shop, date(2025, 3, 29))
    job_id = reports.queue_day_slip(shop, report)
    row = shop.db.execute_sql(
        "SELECT kind, status, payload FROM print_job WHERE id = ?", (job_id,)
    ).fetchone()
    assert row[:2] == ("slip", "queued")
    assert "End of day 2025-03-29" in row[2]
    assert all(len(line) <= width for line in reports.day_report_lines(report, width))

from datetime import UTC, date, datetime, timedelta

import pytest

from ledger_helpers import enrol, ledger_sum, sale
from posloyalty.services import sales
from posloyalty.services.expiry import run_expiry
from posloyalty.services.ledger import append_entry, verify
from posloyalty.services.loyalty import loyalty_status
from rules_helpers import set_programme

TIERS = {
    "period_months": 12,
    "grace_days": 30,
    "levels": [
        {"name": "Silver", "threshold": 100},
        {"name": "Gold", "threshold": 500, "multiplier": "2"},
    ],
}


def tier_name(ctx, member):
    tier = loyalty_status(ctx, member.id).tier.tier
    return tier.name if tier else None


def test_tier_progress_and_next(clocked_till):
    set_programme(clocked_till, tiers=TIERS)
    member = enrol(clocked_till)
    sale(clocked_till, member, 15_000)
    status = loyalty_status(clocked_till, member.id).tier
    assert status.tier.name == "Silver"
    assert status.qualifying == 150
    assert status.next_tier.name == "Gold"
    assert status.to_next == 350


def test_tier_falls_after_period_and_grace(clocked_till, clock):
    set_programme(clocked_till, tiers=TIERS)
    member = enrol(clocked_till)
    sale(clocked_till, member, 50_000)
    assert tier_name(clocked_till, member) == "Gold"
    clock.advance(days=366)
    status = loyalty_status(clocked_till, member.id).tier
    assert status.qualified_tier is None
    assert status.tier.name == "Gold"  # kept during the grace period
    assert status.grace_until == datetime(2026, 4, 28, 12, tzinfo=UTC)
    clock.advance(days=30)
    assert tier_name(clocked_till, member) is None


def test_spend_tiers_count_money(clocked_till):
    set_programme(
        clocked_till,
        tiers={"basis": "spend", "levels": [{"name": "Silver", "threshold": 20_000}]},
    )
    member = enrol(clocked_till)
    basket = sale(clocked_till, member, 25_000)
    assert tier_name(clocked_till, member) == "Silver"
    sales.return_sale(clocked_till, basket.sale_id, 10_000)
    assert tier_name(clocked_till, member) is None


def test_expiry_oldest_first_and_once(clocked_till, clock):
    clocked_till.update_settings({"timezone": "Europe/London"})
    set_programme(clocked_till, expiry_months=12)
    member = enrol(clocked_till)
    sale(clocked_till, member, 10_000)  # 100 points on 2025-03-29
    clock.advance(days=60)
    sale(clocked_till, member, 5_000)  # 50 points on 2025-05-28
    sales.redeem_points(clocked_till, member.id, 30)  # uses the oldest lot

    status = loyalty_status(clocked_till, member.id)
    assert status.expiring == ()
    clock.current = datetime(2026, 3, 20, 12, tzinfo=UTC)
    status = loyalty_status(clocked_till, member.id)
    assert status.expiring == ((date(2026, 3, 29), 70),)

    early = run_expiry(clocked_till, date(2026, 3, 28))
    assert early.points == 0
    first = run_expiry(clocked_till, date(2026, 3, 29))
    assert first.points == 70
    again = run_expiry(clocked_till, date(2026, 3, 29))
    assert again.points == 0
    assert ledger_sum(clocked_till, member.id) == 50
    later = run_expiry(clocked_till, date(2026, 6, 1))
    assert later.points == 50
    assert ledger_sum(clocked_till, member.id) == 0
    assert verify(clocked_till).ok


def test_expiry_date_is_local_calendar_date(clocked_till, clock):
    clocked_till.update_settings({"timezone": "Europe/Berlin"})
    set_programme(clocked_till, expiry_months=1)
    member = enrol(clocked_till)
    # 23:30 UTC on 31 January is 00:30 on 1 February in Berlin.
    clock.current = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
    sale(clocked_till, member, 1000)
    assert run_expiry(clocked_till, date(2025, 2, 28)).points == 0
    assert run_expiry(clocked_till, date(2025, 3, 1)).points == 10


def test_expiry_never_below_zero_after_spent_return(clocked_till, clock):
    set_programme(clocked_till, expiry_months=1)
    member = enrol(clocked_till)
    basket = sale(clocked_till, member, 1500)
    sales.redeem_points(clocked_till, member.id, 15)
    sales.return_sale(clocked_till, basket.sale_id)
    clock.advance(days=10)
    sale(clocked_till, member, 1000)  # pays the debt of 15 first
    assert ledger_sum(clocked_till, member.id) == -5
    report = run_expiry(clocked_till, date(2026, 1, 1))
    assert report.points == 0
    assert ledger_sum(clocked_till, member.id) == -5


def test_expire_run_command(cli, data_dir):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    assert cli("rules", "expiry", "set", "12").exit_code == 0
    card = cli("member", "add", "--name", "Ann Lee", "--phone", "07700 900123")
    assert (
        cli("sale", "--member", card.stdout.strip(), "--amount", "12.00").exit_code == 0
    )
    today = datetime.now(UTC).date()
    result = cli("expire", "run", "--date", (today + timedelta(days=400)).isoformat())
    assert result.exit_code == 0
    assert "members=1 points=12" in result.stdout
    again = cli("expire", "run", "--date", (today + timedelta(days=400)).isoformat())
    assert "points=0" in again.stdout
    bad = cli("expire", "run", "--date", "31/01/2026")
    assert bad.exit_code == 2
    assert "invalid --date '31/01/2026'" in bad.stderr


@pytest.mark.parametrize("months", [0, 24])
def test_no_expiry_until_due(clocked_till, months):
    set_programme(clocked_till, expiry_months=months)
    member = enrol(clocked_till)
    give = 40
    with clocked_till.db.atomic():
        append_entry(clocked_till, member.id, "adjust", give, reason="opening")
    assert run_expiry(clocked_till, date(2026, 12, 31)).points == 0

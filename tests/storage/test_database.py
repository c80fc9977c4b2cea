import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from peewee import OperationalError

from ledger_helpers import enrol, ledger_sum, sale
from posloyalty.services import members, sales
from posloyalty.services.ledger import append_entry
from posloyalty.storage import models


def test_pragmas_wal_full_foreign_keys(till):
    db = till.db
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_no_real_columns_anywhere(till):
    tables = [row[0] for row in till.db.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    )]  # fmt: skip
    for table in tables:
        for column in till.db.execute_sql(f"PRAGMA table_info({table})"):
            assert column[2].upper() not in ("REAL", "FLOAT", "DOUBLE"), (table, column)


def test_amounts_sum_exactly_in_query(till):
    member = enrol(till)
    for _ in range(3):
        sale(till, member, 10)
    total = till.db.execute_sql(
        "SELECT SUM(amount_minor) FROM sale WHERE member_id = ?", (member.id,)
    ).fetchone()[0]
    assert total == 30
    assert till.settings.currency.format_plain(total) == "0.30"


def test_earn_rate_stored_as_written(till):
    till.update_settings({"earn_rate": "0.015"})
    stored = models.Setting.get_by_id("earn_rate").value
    assert stored == "0.015"
    version = models.RuleVersion.get_by_id(till.settings.rule_version)
    assert '"earn_rate": "0.015"' in version.rule


def test_aware_and_naive_times_query_together(till):
    member = enrol(till)
    # 30 March 2025: clocks in Europe go forward at 01:00 UTC.
    aware = datetime(2025, 3, 30, 2, 30, tzinfo=timezone(timedelta(hours=2)))  # 00:30Z
    from_server = "2025-03-30T01:15:00"  # naive ISO with a T, taken as UTC
    late = datetime(2025, 3, 30, 23, 59, tzinfo=UTC)
    next_day = datetime(2025, 3, 31, 0, 0, 1, tzinfo=UTC)
    with till.db.atomic():
        for stamp, points in ((late, 3), (from_server, 2), (aware, 1), (next_day, 9)):
            entry_id = append_entry(till, member.id, "bonus", points)
            models.LedgerEntry.update(created_at=stamp).where(
                models.LedgerEntry.id == entry_id
            ).execute()
    day = (models.LedgerEntry.select()
           .where(models.LedgerEntry.created_at >= datetime(2025, 3, 30, tzinfo=UTC),
                  models.LedgerEntry.created_at < datetime(2025, 3, 31, tzinfo=UTC))
           .order_by(models.LedgerEntry.created_at))  # fmt: skip
    rows = list(day)
    assert [row.points for row in rows] == [1, 2, 3]
    assert all(isinstance(row.created_at, datetime) for row in rows)
    assert rows[0].created_at == datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
    assert rows[1].created_at == datetime(2025, 3, 30, 1, 15, tzinfo=UTC)


def test_sale_commits_while_batch_writer_holds_lock(till):
    member = enrol(till)
    other = enrol(till, "Sync Target", "07700 900888")
    started = threading.Event()
    errors = []

    def write_batch():
        try:
            with till.db.atomic():
                for _ in range(500):
                    append_entry(till, other.id, "bonus", 1)
                started.set()
                threading.Event().wait(0.5)  # hold the write lock a while
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            started.set()
            till.db.close()

    writer = threading.Thread(target=write_batch)
    writer.start()
    started.wait(10)
    result = sale(till, member, 2500)
    writer.join()
    assert errors == []
    assert result.balance == 25
    assert ledger_sum(till, other.id) == 500


def test_failed_optional_row_keeps_sale(till):
    member = enrol(till)
    till.db.execute_sql("DROP TABLE print_job")
    result = sales.record_sale(
        till, sales.SaleRequest(member.id, 1200, print_receipt=True)
    )
    assert result.print_job_id is None
    assert not till.db.in_transaction()
    assert members.get_member(till, member.id).balance == 12
    assert ledger_sum(till, member.id) == 12
    row = till.db.execute_sql(
        "SELECT COUNT(*) FROM sale WHERE id = ?", (result.sale_id,)
    )
    assert row.fetchone()[0] == 1


def test_failed_sale_leaves_nothing(till):
    member = enrol(till)
    till.db.execute_sql("DROP TABLE audit_entry")
    with pytest.raises(OperationalError):
        sale(till, member, 1200)
    assert not till.db.in_transaction()
    assert ledger_sum(till, member.id) == 0
    assert till.db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0] == 0
    assert members.get_member(till, member.id).balance == 0


def test_migrations_run_once(data_dir):
    from posloyalty.services.context import TillContext

    first = TillContext(data_dir)
    versions = [row.version for row in models.SchemaVersion.select()]
    first.close()
    second = TillContext(data_dir)
    assert [row.version for row in models.SchemaVersion.select()] == versions
    second.close()


def test_default_setting_keys_match_defaults():
    from posloyalty.services.config import DEFAULT_SETTING_KEYS, default_settings

    assert set(default_settings()) == DEFAULT_SETTING_KEYS

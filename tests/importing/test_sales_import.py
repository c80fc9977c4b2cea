import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA_DIR, run_console_script
from posloyalty.importing.sales import import_sales
from posloyalty.services import members
from posloyalty.services.errors import InvalidInputError
from posloyalty.services.ledger import verify

JOURNAL = DATA_DIR / "online_retail_2010-12.csv"
MAP = (
    "invoice=InvoiceNo,sku=StockCode,quantity=Quantity,unit_price=UnitPrice,"
    "member=CustomerID,time=InvoiceDate"
)
TIME_FORMAT = "%m/%d/%y %H:%M"
EXCLUDED = "POST,DOT,M,AMAZONFEE,C2,D,BANK CHARGES,S,CRUK,PADS"
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID\n"


@pytest.fixture
def journal_till(till):
    till.update_settings({"earn_rate": "1", "excluded_skus": EXCLUDED})
    return till


def balances(ctx):
    return dict(
        ctx.db.execute_sql("SELECT external_id, balance FROM member").fetchall()
    )


def test_real_journal_balances(journal_till):
    report = import_sales(journal_till, JOURNAL, MAP, TIME_FORMAT, enroll_unknown=True)
    assert report.members_enrolled == 713
    assert len(report.members) == 713
    assert report.skipped_rows == {"no member (anonymous sale)": 10003}
    assert report.returns > 0
    assert members.resolve_member(journal_till, "12347").balance == 711
    assert members.resolve_member(journal_till, "12429").balance == 1137
    assert verify(journal_till).ok

    before = balances(journal_till)
    again = import_sales(journal_till, JOURNAL, MAP, TIME_FORMAT, enroll_unknown=True)
    assert again.sales == 0
    assert again.returns == 0
    assert again.members_enrolled == 0
    assert balances(journal_till) == before
    assert verify(journal_till).ok


def test_return_invoice_takes_back_points(journal_till, tmp_path):
    path = tmp_path / "j.csv"
    path.write_text(
        HEADER
        + "1,A,x,3,12/1/10 8:00,10.00,555\n"
        + "C2,A,x,-1,12/2/10 9:00,10.00,555\n"
        + "C3,POST,x,-1,12/2/10 9:00,18.00,555\n",
        encoding="utf-8",
    )
    import_sales(journal_till, path, MAP, TIME_FORMAT, enroll_unknown=True)
    assert members.resolve_member(journal_till, "555").balance == 20


def test_unknown_member_skipped_without_enroll(journal_till, tmp_path):
    path = tmp_path / "j.csv"
    path.write_text(HEADER + "1,A,x,3,12/1/10 8:00,10.00,555\n", encoding="utf-8")
    report = import_sales(journal_till, path, MAP, TIME_FORMAT)
    assert report.skipped_invoices == {"unknown member (use --enroll-unknown)": 1}
    assert journal_till.db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("bad_row", "fragment"),
    [
        pytest.param("2,A,x,three,12/1/10 8:00,1.00,555", "invalid Quantity 'three'",
                     id="quantity"),
        pytest.param("2,A,x,1,12/1/10 8:00,1.2.3,555", "invalid UnitPrice '1.2.3'",
                     id="price"),
        pytest.param("2,A,x,1,2010-12-01,1.00,555", "invalid InvoiceDate '2010-12-01'",
                     id="time"),
        pytest.param("2,A,x,1,12/1/10 8:00,0.001,555", "GBP amounts have 2 decimals",
                     id="fraction-of-penny"),
    ],
)  # fmt: skip
def test_malformed_row_stops_whole_file(journal_till, tmp_path, bad_row, fragment):
    path = tmp_path / "j.csv"
    path.write_text(HEADER + "1,A,x,3,12/1/10 8:00,10.00,555\n" + bad_row + "\n",
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(InvalidInputError) as error:
        import_sales(journal_till, path, MAP, TIME_FORMAT, enroll_unknown=True)
    assert "line 3" in str(error.value)
    assert fragment in str(error.value)
    assert journal_till.db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0] == 0
    assert journal_till.db.execute_sql("SELECT COUNT(*) FROM member").fetchone()[0] == 0


def test_map_must_name_required_fields(journal_till):
    with pytest.raises(InvalidInputError, match="missing member"):
        import_sales(journal_till, JOURNAL, "invoice=InvoiceNo,time=InvoiceDate,"
                     "amount=UnitPrice", TIME_FORMAT)  # fmt: skip


@pytest.mark.slow
def test_kill_during_import_leaves_no_half_invoice(tmp_path):
    data_dir = tmp_path / "till"
    base = ["--data-dir", str(data_dir)]
    assert run_console_script("posloyalty", *base, "init", "--region", "GB",
                              "--currency", "GBP").exit_code == 0  # fmt: skip
    assert run_console_script("posloyalty", *base, "rules", "set", "--earn-rate", "1",
                              "--exclude-sku", EXCLUDED).exit_code == 0  # fmt: skip
    script = Path(sys.executable).parent / "posloyalty"
    command = [str(script), *base, "import", "sales", str(JOURNAL), "--map", MAP,
               "--time-format", TIME_FORMAT, "--enroll-unknown"]  # fmt: skip
    # Kill at several points: before, during and after the write transaction.
    for delay in (0.3, 0.6, 0.9, 1.2):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        check = run_console_script("posloyalty", *base, "verify")
        assert check.exit_code == 0, check.stdout + check.stderr

    counts = _counts(data_dir)
    assert counts["sale"] in (0, 1071)
    assert counts["entries_without_sale"] == 0
    finished = run_console_script("posloyalty", *command[1:])
    assert finished.exit_code == 0, finished.stderr
    assert _counts(data_dir)["sale"] == 1071
    shown = run_console_script("posloyalty", *base, "member", "show", "12347")
    assert "balance=711" in shown.stdout


def _counts(data_dir):
    import sqlite3

    with sqlite3.connect(data_dir / "till.sqlite3") as raw:
        sales_count = raw.execute("SELECT COUNT(*) FROM sale").fetchone()[0]
        orphans = raw.execute(
            "SELECT COUNT(*) FROM ledger_entry e LEFT JOIN sale s ON s.id = e.sale_id"
            " WHERE e.sale_id IS NOT NULL AND s.id IS NULL"
        ).fetchone()[0]
    return {"sale": sales_count, "entries_without_sale": orphans}


def test_zero_total_invoice_enrols_nobody(journal_till, tmp_path):
    path = tmp_path / "j.csv"
    path.write_text(
        HEADER
        + "1,A,x,1,12/1/10 8:00,10.00,777\n"
        + "1,A,x,-1,12/1/10 8:00,10.00,777\n",
        encoding="utf-8",
    )
    report = import_sales(journal_till, path, MAP, TIME_FORMAT, enroll_unknown=True)
    assert report.skipped_invoices == {"total is zero": 1}
    assert report.members_enrolled == 0
    assert journal_till.db.execute_sql("SELECT COUNT(*) FROM member").fetchone()[0] == 0

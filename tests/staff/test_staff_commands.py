"""The staff, manager, audit, report and backup commands, run as ``posloyalty``."""

import csv
import io
import re
import sqlite3

import pytest

from conftest import run_console_script
from posloyalty.paths import DATABASE_FILE, KEYS_FILE, LOG_FILE


@pytest.fixture
def run(cli, monkeypatch):
    """Run a command with ``stdin`` as its standard input."""

    def run_with(*args, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return cli(*args)

    return run_with


@pytest.fixture
def card(run):
    """A till with manager Alice (1234), Dave (2468), cashier Bob (5555), one member."""
    assert run("init", "--region", "GB", "--currency", "GBP").exit_code == 0
    for name, role, pin in (
        ("Alice", "manager", "1234"),
        ("Dave", "manager", "2468"),
        ("Bob", "cashier", "5555"),
    ):
        added = run("staff", "add", name, "--role", role, "--pin-stdin", stdin=pin)
        assert added.exit_code == 0, added.stderr
    result = run("member", "add", "--name", "Ann Lee", "--phone", "07700 900123")
    return result.stdout.strip()


def balance_of(run, ref):
    shown = run("member", "show", ref)
    return int(re.search(r"^balance=(-?\d+)$", shown.stdout, re.M).group(1))


def adjust(run, ref, points, pin="1234", staff="Alice", *extra):
    return run(
        "adjust",
        "--member",
        ref,
        "--points",
        str(points),
        "--reason",
        "goodwill: late parcel",
        "--staff",
        staff,
        "--pin-stdin",
        *extra,
        stdin=pin + "\n",
    )


def test_staff_add_asks_pin_twice(run, monkeypatch):
    answers = iter(["2580", "2580", "2580", "2581"])
    prompts = []

    def fake_getpass(prompt):
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert run("staff", "add", "Erin", "--role", "cashier").exit_code == 0
    mismatch = run("staff", "add", "Finn", "--role", "cashier")
    assert mismatch.exit_code == 2
    assert "the two PINs differ" in mismatch.stderr
    assert prompts[:2] == ["New PIN for Erin (4 to 8 digits): ", "Repeat the PIN: "]
    listed = run("staff", "list").stdout
    assert "Erin\tcashier\tactive" in listed
    assert "Finn" not in listed


def test_staff_add_rejects_bad_pin_without_echo(run):
    result = run(
        "staff", "add", "Erin", "--role", "cashier", "--pin-stdin", stdin="12x"
    )
    assert result.exit_code == 2
    assert "invalid PIN: use 4 to 8 digits" in result.stderr
    assert "12x" not in result.stderr


def test_adjust_and_redeem_through_cli(run, card):
    result = adjust(run, card, 80)
    assert result.exit_code == 0, result.stderr
    assert "points=+80 balance=80" in result.stdout
    assert run("redeem", "--member", card, "--points", "50").exit_code == 0
    assert balance_of(run, card) == 30

    refused = run("redeem", "--member", card, "--points", "31")
    assert refused.exit_code == 1
    assert "the member has 30" in refused.stderr
    assert balance_of(run, card) == 30


def test_cashier_pin_cannot_adjust_cli(run, card):
    result = adjust(run, card, 80, "5555", "Bob")
    assert result.exit_code == 1
    assert "Bob is a cashier and may not adjust" in result.stderr
    assert balance_of(run, card) == 0


def test_adjust_rejects_unlisted_reason(run, card):
    result = run(
        "adjust", "--member", card, "--points", "5", "--reason", "felt like it",
        "--staff", "Alice", "--pin-stdin", stdin="1234\n",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "adjustment reason 'felt like it' is not in the list" in result.stderr


def test_adjust_above_limit_with_second_manager(run, card):
    alone = adjust(run, card, 800)
    assert alone.exit_code == 1
    assert "--second-staff NAME" in alone.stderr
    approved = adjust(run, card, 800, "1234\n2468", "Alice", "--second-staff", "Dave")
    assert approved.exit_code == 0, approved.stderr
    assert balance_of(run, card) == 800


def test_wrong_pin_exits_3_with_tries_left(run, card, data_dir):
    result = adjust(run, card, 80, "97531")
    assert result.exit_code == 3
    assert "wrong PIN for 'Alice': 4 tries left" in result.stderr
    assert "97531" not in result.stderr

    log = (data_dir / LOG_FILE).read_text(encoding="utf-8")
    assert "wrong PIN for staff account Alice, 4 tries left" in log
    assert "97531" not in log
    audit = run("audit", "--format", "csv").stdout
    assert "pin_failed" in audit
    assert "97531" not in audit


def test_locked_account_exits_3_with_time(run, card):
    for _ in range(4):
        assert adjust(run, card, 80, "0000").exit_code == 3
    locked = adjust(run, card, 80, "0000")
    assert locked.exit_code == 3
    assert re.search(r"locked until \d{4}-\d\d-\d\d \d\d:\d\d", locked.stderr)
    again = adjust(run, card, 80)
    assert again.exit_code == 3
    assert "is locked until" in again.stderr
    assert "locked until" in run("staff", "list").stdout
    assert balance_of(run, card) == 0

    assert (
        run("staff", "reset-pin", "Alice", "--pin-stdin", stdin="1357").exit_code == 0
    )
    assert adjust(run, card, 80, "1357").exit_code == 0


def test_missing_pin_on_stdin(run, card):
    result = run("reverse", "--sale", "x", "--staff", "Alice", "--pin-stdin", stdin="")
    assert result.exit_code == 2
    assert "missing PIN on standard input" in result.stderr
    empty_line = adjust(run, card, 80, "")
    assert empty_line.exit_code == 2
    assert "missing PIN: type the PIN of Alice" in empty_line.stderr
    assert "4 tries left" in adjust(run, card, 80, "0000").stderr


def test_reverse_sale_through_cli(run, card):
    sold = run("sale", "--member", card, "--amount", "15.00")
    sale_id = re.search(r"sale_id=(\S+)", sold.stdout).group(1)
    assert run("redeem", "--member", card, "--points", "15").exit_code == 0

    result = run(
        "reverse", "--sale", sale_id, "--staff", "Dave", "--pin-stdin", stdin="2468"
    )
    assert result.exit_code == 0, result.stderr
    assert "points=-15 balance=-15" in result.stdout
    assert "below zero" in result.stderr
    assert balance_of(run, card) == -15
    overdrawn = run("member", "overdrawn").stdout
    assert "\t-15\tAnn Lee" in overdrawn

    again = run(
        "reverse", "--sale", sale_id, "--staff", "Dave", "--pin-stdin", stdin="2468"
    )
    assert again.exit_code == 1
    assert "nothing left to reverse" in again.stderr
    assert run("verify").exit_code == 0


def test_merge_and_erase_keep_verify_green(run, card):
    other = run("member", "add", "--name", "Ann Lee", "--phone", "07700 900456")
    other_card = other.stdout.strip()
    run("sale", "--member", card, "--amount", "10.00")
    run("sale", "--member", other_card, "--amount", "25.00")

    merged = run(
        "member", "merge", card, other_card, "--staff", "Alice", "--pin-stdin",
        stdin="1234",
    )  # fmt: skip
    assert merged.exit_code == 0, merged.stderr
    assert "balance=35" in merged.stdout
    assert run("verify").exit_code == 0

    erased = run(
        "member", "erase", card, "--staff", "Alice", "--pin-stdin", stdin="1234"
    )
    assert erased.exit_code == 0, erased.stderr
    verified = run("verify")
    assert verified.exit_code == 0
    assert verified.stdout.startswith("ok")
    gone = run("member", "show", "07700 900123")
    assert gone.exit_code == 1


def test_verify_reports_edited_audit_row(run, card, data_dir):
    assert adjust(run, card, 80).exit_code == 0
    connection = sqlite3.connect(data_dir / DATABASE_FILE)
    with connection:
        connection.execute(
            "UPDATE audit_entry SET reason = 'goodwill' WHERE action = 'adjust'"
        )
        row_id = connection.execute(
            "SELECT id FROM audit_entry WHERE action = 'adjust'"
        ).fetchone()[0]
    connection.close()
    result = run("verify")
    assert result.exit_code == 1
    assert f"audit chain breaks at row {row_id}" in result.stdout


def test_audit_table_and_csv(run, card):
    adjust(run, card, 80)
    table = run("audit").stdout.splitlines()
    assert table[0].split()[:5] == ["id", "created_at", "till", "staff", "action"]
    assert any("Alice" in line and "adjust" in line for line in table)

    rows = list(csv.DictReader(io.StringIO(run("audit", "--format", "csv").stdout)))
    adjusted = [row for row in rows if row["action"] == "adjust"]
    assert adjusted[0]["staff"] == "Alice"
    assert adjusted[0]["reason"] == "goodwill: late parcel"
    assert '"points": 80' in adjusted[0]["details"]

    later = run("audit", "--since", "2999-01-01", "--format", "csv").stdout
    assert later.splitlines() == [",".join(rows[0].keys())]
    bad = run("audit", "--since", "yesterday")
    assert bad.exit_code == 2
    assert "invalid --since 'yesterday'" in bad.stderr


def test_report_day_prints_and_queues_slip(run, card, data_dir):
    run("sale", "--member", card, "--amount", "12.00")
    adjust(run, card, 80)
    result = run("report", "day", "--print")
    assert result.exit_code == 0, result.stderr
    assert "Alice" in result.stdout
    assert re.search(r"points adjusted +80$", result.stdout, re.M)
    assert "queued as print job" in result.stderr
    bad = run("report", "day", "--date", "29/03/2025")
    assert bad.exit_code == 2
    assert "invalid --date '29/03/2025'" in bad.stderr


def test_backup_while_till_runs_and_restore(run, card, data_dir, tmp_path):
    adjust(run, card, 80)
    archive = tmp_path / "till-backup.zip"
    env = {"POSLOYALTY_DATA_DIR": str(data_dir)}

    # The backup runs in a second process while this one has the database open.
    from posloyalty.services.context import TillContext

    open_till = TillContext(data_dir)
    try:
        done = run_console_script("posloyalty", "backup", str(archive), env=env)
    finally:
        open_till.close()
    assert done.exit_code == 0, done.stderr
    assert "1 members and 1 ledger entries" in done.stdout
    assert archive.stat().st_mode & 0o777 == 0o600

    new_machine = tmp_path / "new-machine"
    restored = run("--data-dir", str(new_machine), "restore", str(archive))
    assert restored.exit_code == 0, restored.stderr
    assert (new_machine / KEYS_FILE).read_bytes() == (data_dir / KEYS_FILE).read_bytes()
    shown = run("--data-dir", str(new_machine), "member", "show", card)
    assert "balance=80" in shown.stdout
    assert run("--data-dir", str(new_machine), "verify").exit_code == 0

    again = run("--data-dir", str(new_machine), "restore", str(archive))
    assert again.exit_code == 1
    assert "pass --replace" in again.stderr
    replaced = run("--data-dir", str(new_machine), "restore", str(archive), "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    assert list(new_machine.glob(f"{DATABASE_FILE}.before-restore-*"))


def test_restore_rejects_file_that_is_not_backup(run, tmp_path):
    bogus = tmp_path / "notes.zip"
    bogus.write_text("not a zip", encoding="utf-8")
    result = run("--data-dir", str(tmp_path / "fresh"), "restore", str(bogus))
    assert result.exit_code == 2
    assert f"cannot read backup {bogus}" in result.stderr
    assert not (tmp_path / "fresh" / DATABASE_FILE).exists()

"""A damaged, busy or unusable data folder ends a command with one line, not a traceback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from peewee import OperationalError

from conftest import run_console_script
from posloyalty.cli import faults
from posloyalty.storage import database


@pytest.fixture
def card(cli) -> str:
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    result = cli("member", "add", "--name", "Ann Lee", "--phone", "07700 900123")
    assert result.exit_code == 0
    return result.stdout.strip()


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_data_dir_that_is_a_file(cli, data_dir):
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    data_dir.write_text("not a folder")

    result = cli("config", "show")

    assert result.exit_code == 2
    line = _one_line(result.stderr)
    assert str(data_dir) in line
    assert "is a file, not a folder" in line
    assert data_dir.read_text() == "not a folder"


def test_data_dir_that_cannot_be_written(cli, data_dir):
    # A folder where the log file belongs fails like a folder without write
    # permission, also for root, which ignores permission bits.
    (data_dir / "posloyalty.log").mkdir(parents=True)

    result = cli("config", "show")

    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert f"cannot write to data folder {data_dir}" in line
    assert "--data-dir" in line


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"this is not SQLite at all\n" * 40, id="garbage"),
        pytest.param(lambda data: data[:8192], id="truncated"),
    ],
)
def test_damaged_database_is_left_alone(cli, data_dir, card, damage):
    path = data_dir / "till.sqlite3"
    cli("verify")  # closes the database, so the file is complete on disk
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    damaged = damage(path.read_bytes())
    path.write_bytes(damaged)

    result = cli("sale", "--member", card, "--amount", "5.00")

    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert f"the till database {path} is damaged" in line
    assert "posloyalty restore" in line
    assert path.read_bytes() == damaged


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{{{", id="not-json"),
        pytest.param("", id="empty"),
        pytest.param('{"active": "10", "keys": {"10": "zz"}}', id="bad-hex"),
        pytest.param("[1, 2]", id="list"),
    ],
)
def test_damaged_card_keys(cli, data_dir, card, content):
    keys = data_dir / "card_keys.json"
    keys.write_text(content)

    result = cli("member", "show", card)

    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert f"card key file {keys} is damaged" in line
    assert "restore it from a backup" in line
    assert keys.read_text() == content


def test_busy_database_records_nothing(cli, data_dir, card, monkeypatch):
    monkeypatch.setitem(database.SQLITE_PRAGMAS, "busy_timeout", 200)
    holder = sqlite3.connect(data_dir / "till.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = cli("sale", "--member", card, "--amount", "5.00")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert "is busy: another posloyalty process held it" in line
    assert "nothing was recorded" in line
    assert "balance=0" in cli("member", "show", card).stdout


def test_read_only_database_message(data_dir):
    error = OperationalError("attempt to write a readonly database")

    failure = faults.database_error(data_dir, error)

    assert failure.exit_code == 1
    assert str(data_dir / "till.sqlite3") in str(failure)
    assert "fix the permissions" in str(failure)


def test_bug_errors_are_not_storage_faults():
    from peewee import IntegrityError

    assert not faults.is_storage_fault(IntegrityError("UNIQUE constraint failed"))
    assert faults.is_storage_fault(OperationalError("database is locked"))


def test_output_closed_by_reader(tmp_path):
    data = str(tmp_path / "till")
    script = Path(sys.executable).parent / "posloyalty"
    assert run_console_script("posloyalty", "--data-dir", data, "init").exit_code == 0

    process = subprocess.Popen(
        [str(script), "--data-dir", data, "config", "show"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # like `| head` that has read enough
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 1
    assert b"Traceback" not in stderr

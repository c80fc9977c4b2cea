"""``posloyalty till`` as a separate process: screenshot, demo, exit codes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from conftest import run_console_script

OFFSCREEN = {"QT_QPA_PLATFORM": "offscreen"}


def _count(data_dir: Path, sql: str) -> int:
    with sqlite3.connect(data_dir / "till.sqlite3") as db:
        return db.execute(sql).fetchone()[0]


@pytest.mark.slow
def test_screenshot_saves_window_and_exits(tmp_path):
    data_dir, shot = tmp_path / "till", tmp_path / "till.png"

    result = run_console_script(
        "posloyalty", "--data-dir", str(data_dir), "till", "--screenshot", str(shot),
        env=OFFSCREEN,
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    image = QImage(str(shot))
    assert not image.isNull()
    assert image.width() >= 1024
    assert image.height() >= 700
    assert _count(data_dir, "SELECT COUNT(*) FROM member") == 0


@pytest.mark.slow
def test_demo_fills_empty_till_and_records_sale(tmp_path):
    data_dir, shot = tmp_path / "till", tmp_path / "till.png"

    result = run_console_script(
        "posloyalty", "--data-dir", str(data_dir), "till", "--demo",
        "--screenshot", str(shot), "--lookup", "+44 7700 900003", "--sale", "12.50",
        env=OFFSCREEN,
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert "demo remove" in result.stderr
    assert _count(data_dir, "SELECT COUNT(*) FROM member WHERE is_demo = 1") == 300
    assert _count(data_dir, "SELECT COUNT(*) FROM member WHERE is_demo = 0") == 0
    assert _count(data_dir, "SELECT COUNT(*) FROM sale WHERE amount_minor = 1250") == 1
    assert (
        _count(data_dir, "SELECT COUNT(*) FROM setting WHERE key = 'printer_uri'") == 1
    )
    assert list((data_dir / "receipts").glob("*.escpos")) != []

    again = run_console_script(
        "posloyalty", "--data-dir", str(data_dir), "till", "--demo",
        "--screenshot", str(shot), env=OFFSCREEN,
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr
    assert _count(data_dir, "SELECT COUNT(*) FROM member") == 300

    removed = run_console_script(
        "posloyalty", "--data-dir", str(data_dir), "demo", "remove"
    )
    assert removed.exit_code == 0, removed.stderr
    assert "removed 300 demo members" in removed.stdout
    assert _count(data_dir, "SELECT COUNT(*) FROM member") == 0
    assert _count(data_dir, "SELECT COUNT(*) FROM ledger_entry") == 0

    verified = run_console_script("posloyalty", "--data-dir", str(data_dir), "verify")
    assert verified.exit_code == 0, verified.stdout + verified.stderr


def test_sale_option_needs_lookup(cli):
    result = cli("till", "--sale", "3.00")

    assert result.exit_code == 2
    assert "--sale needs --lookup" in result.stderr


def test_demo_add_and_remove_commands(cli):
    added = cli("demo", "add", "--members", "25")
    assert added.exit_code == 0, added.stderr
    assert "added 25 demo members" in added.stdout

    refused = cli("demo", "add")
    assert refused.exit_code == 1
    assert "already has members" in refused.stderr

    removed = cli("demo", "remove")
    assert removed.exit_code == 0, removed.stderr
    assert "removed 25 demo members" in removed.stdout


def test_demo_add_rejects_bad_count(cli):
    result = cli("demo", "add", "--members", "5000")

    assert result.exit_code == 2
    assert "invalid --members 5000" in result.stderr

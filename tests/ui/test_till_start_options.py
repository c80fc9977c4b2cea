"""``posloyalty till --lookup --sale`` when the lookup finds nobody."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from conftest import run_console_script

OFFSCREEN = {"QT_QPA_PLATFORM": "offscreen"}


def _sales(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "till.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM sale").fetchone()[0]


@pytest.mark.slow
def test_sale_skipped_when_lookup_fails(tmp_path):
    data_dir, shot = tmp_path / "till", tmp_path / "till.png"
    base = ("posloyalty", "--data-dir", str(data_dir))
    run_console_script(*base, "init", "--region", "US", "--currency", "USD")

    result = run_console_script(
        *base, "till", "--screenshot", str(shot),
        "--lookup", "07700 900003", "--sale", "12.50",
        env=OFFSCREEN,
    )  # fmt: skip

    assert result.exit_code == 1
    assert "sale not recorded" in result.stderr
    assert "'07700 900003'" in result.stderr
    assert "invalid phone number" in result.stderr
    assert "Traceback" not in result.stderr
    assert not QImage(str(shot)).isNull()
    assert _sales(data_dir) == 0

"""The export command writing to a file."""

from __future__ import annotations


def test_export_writes_balances_file(cli, tmp_path):
    target = tmp_path / "balances.csv"

    result = cli("export", "balances", str(target))

    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("member_id,")


def test_export_to_missing_folder_fails_cleanly(cli, tmp_path):
    target = tmp_path / "missing" / "balances.csv"

    result = cli("export", "balances", str(target))

    assert result.exit_code == 2
    assert str(target) in result.stderr
    assert "folder that exists" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not target.parent.exists()

import csv
import io
import re

import pytest

SALE_LINE = re.compile(r"^sale_id=([0-9a-f-]{36}) points=(-?\d+) balance=(-?\d+)$")


@pytest.fixture
def gb(cli):
    result = cli("init", "--currency", "GBP", "--region", "GB")
    assert result.exit_code == 0
    return cli


def test_member_add_prints_card_only(gb):
    result = gb("member", "add", "--name", "Ann Lee", "--phone", "07700 900123")
    assert result.exit_code == 0
    assert re.fullmatch(r"\d{22}\n", result.stdout)


def test_sale_line_contract_and_return(gb):
    card = gb(
        "member", "add", "--name", "Ann", "--phone", "07700 900123"
    ).stdout.strip()
    result = gb("sale", "--member", card, "--amount", "45.00")
    assert result.exit_code == 0
    match = SALE_LINE.match(result.stdout.strip())
    assert match, result.stdout
    assert match.group(2) == "45"
    assert match.group(3) == "45"

    returned = gb("return", "--sale", match.group(1), "--amount", "15.00")
    assert returned.exit_code == 0
    assert SALE_LINE.match(returned.stdout.strip()).group(2) == "-15"
    assert SALE_LINE.match(returned.stdout.strip()).group(3) == "30"


def test_data_dir_after_command(cli, data_dir):
    result = cli("config", "show")
    assert result.exit_code == 0
    from posloyalty.cli.main import main

    assert main(["config", "show", "--data-dir", str(data_dir)]) == 0


def test_defaults_without_init(cli):
    result = cli("config", "show")
    assert "earn_rate=1" in result.stdout
    assert "excluded_skus=" in result.stdout
    assert "minimum_spend=0" in result.stdout


def test_sale_works_without_rules(gb):
    card = gb("member", "add", "--name", "Ann", "--email", "ann@example.com").stdout
    result = gb("sale", "--member", card.strip(), "--amount", "9.99")
    assert SALE_LINE.match(result.stdout.strip()).group(2) == "9"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        pytest.param(["sale", "--member", "07700 900123", "--amount", "12,34"], 2,
                     "invalid amount '12,34'", id="comma-amount"),
        pytest.param(["sale", "--member", "07700 900999", "--amount", "1"], 1,
                     "no member with phone", id="unknown-phone"),
        pytest.param(["sale", "--member", "1234567890123456789012", "--amount", "1"], 1,
                     "card not readable", id="bad-card"),
        pytest.param(["redeem", "--member", "07700 900123", "--points", "5"], 1,
                     "not enough points", id="not-enough"),
        pytest.param(["return", "--sale", "nope"], 1, "sale 'nope' not found",
                     id="unknown-sale"),
        pytest.param(["rules", "set", "--earn-rate", "-1"], 2, "invalid earn rate",
                     id="negative-rate"),
        pytest.param(["config", "set", "colour", "red"], 2, "unknown setting 'colour'",
                     id="unknown-setting"),
    ],
)  # fmt: skip
def test_errors_one_line_with_exit_code(gb, args, code, fragment):
    gb("member", "add", "--name", "Ann", "--phone", "07700 900123")
    result = gb(*args)
    assert result.exit_code == code
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_shared_phone_lists_members_exit_4(gb):
    gb("member", "add", "--name", "Zofia", "--phone", "+44 7700 900456")
    gb("member", "add", "--name", "Krzysztof", "--phone", "+44 7700 900456")
    result = gb("sale", "--member", "07700 900456", "--amount", "5")
    assert result.exit_code == 4
    assert "Zofia" in result.stderr
    assert "Krzysztof" in result.stderr


def test_card_typo_never_looked_up_as_other_kind(gb):
    card = gb(
        "member", "add", "--name", "Ann", "--phone", "07700 900123"
    ).stdout.strip()
    typo = card[:-1] + str((int(card[-1]) + 1) % 10)
    result = gb("member", "show", typo)
    assert result.exit_code == 1
    assert "card not readable" in result.stderr


def test_export_balances_header_and_rows(gb):
    card = gb(
        "member", "add", "--name", "Ann", "--phone", "07700 900123"
    ).stdout.strip()
    gb("sale", "--member", card, "--amount", "12.00")
    result = gb("export", "balances")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "member_id",
        "external_id",
        "card_number",
        "phone",
        "name",
        "balance",
    ]
    assert rows[1][2:] == [card, "+447700900123", "Ann", "12"]


def test_verify_detects_tampered_balance(gb, data_dir):
    card = gb(
        "member", "add", "--name", "Ann", "--phone", "07700 900123"
    ).stdout.strip()
    gb("sale", "--member", card, "--amount", "12.00")
    assert gb("verify").exit_code == 0
    import sqlite3

    with sqlite3.connect(data_dir / "till.sqlite3") as raw:
        raw.execute("UPDATE member SET balance = balance + 5")
    result = gb("verify")
    assert result.exit_code == 1
    assert "cached balance 17, ledger sum 12" in result.stdout


def test_verify_detects_edited_entry(gb, data_dir):
    card = gb(
        "member", "add", "--name", "Ann", "--phone", "07700 900123"
    ).stdout.strip()
    gb("sale", "--member", card, "--amount", "12.00")
    gb("sale", "--member", card, "--amount", "3.00")
    import sqlite3

    with sqlite3.connect(data_dir / "till.sqlite3") as raw:
        raw.execute("UPDATE ledger_entry SET points = 13 WHERE points = 12")
        raw.execute("UPDATE member SET balance = 16")
    result = gb("verify")
    assert result.exit_code == 1
    assert "ledger chain" in result.stdout


def test_member_show_by_external_id_and_history(gb):
    gb(
        "member",
        "add",
        "--name",
        "Ann",
        "--phone",
        "07700 900123",
        "--external-id",
        "12347",
    )
    gb("sale", "--member", "12347", "--amount", "7.50")
    result = gb("member", "show", "12347", "--external-id")
    assert "balance=7" in result.stdout
    assert "earn" in result.stdout


def test_rules_set_writes_audit_row(gb, data_dir):
    import json
    import sqlite3

    assert gb("rules", "set", "--earn-rate", "2").exit_code == 0
    assert gb("config", "set", "store", "Leeds").exit_code == 0
    with sqlite3.connect(data_dir / "till.sqlite3") as raw:
        rows = raw.execute(
            "SELECT action, details FROM audit_entry"
            " WHERE action IN ('rules change', 'settings change') ORDER BY id"
        ).fetchall()
    assert [action for action, _ in rows][-2:] == ["rules change", "settings change"]
    assert json.loads(rows[-2][1])["changed"] == ["earn_rate"]
    assert json.loads(rows[-1][1]) == {"changed": ["store"]}
    assert gb("verify").exit_code == 0

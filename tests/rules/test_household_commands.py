"""Household wallets through the command line."""

import pytest


@pytest.fixture
def shop(cli):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    return cli


def enrol(cli, name, phone):
    result = cli("member", "add", "--name", name, "--phone", phone)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def fields(output):
    return dict(
        line.split("=", 1) for line in output.splitlines() if line.count("=") == 1
    )


def test_household_shares_wallet_in_commands(shop):
    ann = enrol(shop, "Ann Smith", "07700 900001")
    bob = enrol(shop, "Bob Smith", "07700 900002")
    for card in (ann, bob):
        joined = shop("member", "extras", card, "--household", "SMITH")
        assert joined.exit_code == 0, joined.stderr
    assert shop("sale", "--member", ann, "--amount", "150.00").exit_code == 0

    redeemed = shop("redeem", "--member", bob, "--points", "100")
    assert redeemed.exit_code == 0, redeemed.stderr
    assert "balance=-100" in redeemed.stdout

    shown = shop("member", "show", bob)
    assert shown.exit_code == 0, shown.stderr
    values = fields(shown.stdout)
    assert values["balance"] == "-100"
    assert values["household"] == "SMITH"
    assert values["wallet_balance"] == "50"
    assert "flag" not in values
    assert shown.stdout.count("wallet_member=") == 2

    status = shop("member", "status", bob)
    assert status.exit_code == 0, status.stderr
    assert "household=SMITH wallet_balance=50 members=2" in status.stdout
    assert "spendable=50" in status.stdout

    too_much = shop("redeem", "--member", ann, "--points", "51")
    assert too_much.exit_code != 0
    assert "the household wallet has 50 to spend, asked for 51" in too_much.stderr
    assert shop("verify").exit_code == 0


def test_wallet_below_zero_flagged_in_show(shop):
    ann = enrol(shop, "Ann Smith", "07700 900001")
    bob = enrol(shop, "Bob Smith", "07700 900002")
    for card in (ann, bob):
        assert shop("member", "extras", card, "--household", "SMITH").exit_code == 0
    sold = shop("sale", "--member", ann, "--amount", "50.00")
    sale_id = sold.stdout.split()[0].split("=")[1]
    assert shop("redeem", "--member", bob, "--points", "50").exit_code == 0
    assert shop("return", "--sale", sale_id).exit_code == 0
    shown = shop("member", "show", ann)
    values = fields(shown.stdout)
    assert values["wallet_balance"] == "-50"
    assert "household wallet" in values["flag"]


def test_member_alone_shows_no_wallet(shop):
    card = enrol(shop, "Cat Jones", "07700 900003")
    assert shop("member", "extras", card, "--household", "JONES").exit_code == 0
    shown = shop("member", "show", card)
    assert "household=" not in shown.stdout
    assert "wallet_balance=" not in shown.stdout
    status = shop("member", "status", card)
    assert "household=" not in status.stdout


def test_household_id_with_control_character_rejected(shop):
    card = enrol(shop, "Cat Jones", "07700 900003")
    result = shop("member", "extras", card, "--household", "A\x01B")
    assert result.exit_code == 2
    assert "invalid household id" in result.stderr
    assert "Traceback" not in result.stderr


def test_reprint_after_later_sales_keeps_block(shop):
    card = enrol(shop, "Ann Smith", "07700 900001")
    shop("rules", "tier", "add", "Silver", "--threshold", "100")
    sold = shop("sale", "--member", card, "--amount", "30.00")
    sale_id = sold.stdout.split()[0].split("=")[1]
    first = shop("receipt", "show", sale_id, "--format", "text")
    assert first.exit_code == 0, first.stderr
    assert "To Silver" in first.stdout
    assert shop("sale", "--member", card, "--amount", "200.00").exit_code == 0
    status = shop("member", "status", card)
    assert "tier=Silver" in status.stdout
    again = shop("receipt", "show", sale_id, "--format", "text")
    assert again.stdout == first.stdout

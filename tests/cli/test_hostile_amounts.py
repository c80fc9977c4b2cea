"""Amounts typed badly at the command line: one line, exit 2, nothing recorded."""

from __future__ import annotations

import pytest

from posloyalty.domain.errors import InvalidAmountError
from posloyalty.domain.money import MAX_AMOUNT_MINOR, Currency, parse_amount


@pytest.fixture
def gb(cli):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    return cli


@pytest.fixture
def card(gb) -> str:
    result = gb("member", "add", "--name", "Ann Lee", "--phone", "07700 900123")
    return result.stdout.strip()


def _no_sales(cli, card: str) -> None:
    shown = cli("member", "show", card).stdout
    assert "balance=0" in shown
    assert " earn " not in shown
    assert cli("verify").exit_code == 0


@pytest.mark.parametrize(
    ("amount", "fragment"),
    [
        pytest.param("1e3", "invalid amount '1e3'", id="exponent"),
        pytest.param("NaN", "invalid amount 'NaN'", id="nan"),
        pytest.param("-0", "invalid sale amount", id="minus-zero"),
        pytest.param("0.001", "GBP has 2 decimals", id="too-many-decimals"),
        pytest.param("", "missing amount", id="empty"),
        pytest.param("1 2", "invalid amount '1 2'", id="inner-space"),
        pytest.param("-5", "invalid sale amount: use more than 0", id="negative"),
        pytest.param("99999999999999999", "the largest amount is", id="huge"),
        pytest.param("9" * 5000, "the largest amount is", id="thousands-of-digits"),
    ],
)
def test_sale_rejects_amount(gb, card, amount, fragment):
    result = gb("sale", "--member", card, "--amount", amount)

    assert result.exit_code == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(result.stderr) < 300
    _no_sales(gb, card)


def test_sale_negative_amount_with_sku(gb, card):
    result = gb("sale", "--member", card, "--amount", "-5", "--sku", "A=1")

    assert result.exit_code == 2
    assert "invalid sale amount: use more than 0" in result.stderr
    _no_sales(gb, card)


def test_largest_amount_is_recorded(gb, card):
    largest = Currency.from_code("GBP").format_plain(MAX_AMOUNT_MINOR)

    result = gb("sale", "--member", card, "--amount", largest)

    assert result.exit_code == 0
    assert f"points={MAX_AMOUNT_MINOR // 100}" in result.stdout
    assert gb("verify").exit_code == 0


def test_parse_amount_bound_both_ways():
    gbp = Currency.from_code("GBP")
    assert parse_amount("-10000000000.00", gbp) == -MAX_AMOUNT_MINOR
    with pytest.raises(InvalidAmountError, match="the largest amount is"):
        parse_amount("-10000000000.01", gbp)


def test_return_empty_amount_returns_nothing(gb, card):
    sale = gb("sale", "--member", card, "--amount", "30.00").stdout
    sale_id = sale.split()[0].removeprefix("sale_id=")

    result = gb("return", "--sale", sale_id, "--amount", "")

    assert result.exit_code == 2
    assert "missing amount" in result.stderr
    assert "balance=30" in gb("member", "show", card).stdout


@pytest.mark.parametrize("amount", ["0", "-1", "30.01", "0.001", "1e3", "x"])
def test_return_rejects_amount(gb, card, amount):
    sale = gb("sale", "--member", card, "--amount", "30.00").stdout
    sale_id = sale.split()[0].removeprefix("sale_id=")

    result = gb("return", "--sale", sale_id, "--amount", amount)

    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "balance=30" in gb("member", "show", card).stdout

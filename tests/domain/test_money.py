from decimal import Decimal

import pytest

from posloyalty.domain.errors import InvalidAmountError
from posloyalty.domain.money import Currency, parse_amount, parse_decimal

GBP = Currency("GBP", 2)


@pytest.mark.parametrize(
    ("text", "separator", "expected"),
    [
        pytest.param("12.34", ".", 1234, id="dot"),
        pytest.param("12,34", ",", 1234, id="comma-locale"),
        pytest.param(" 7 ", ".", 700, id="whole-with-spaces"),
        pytest.param("0.1", ".", 10, id="one-decimal"),
        pytest.param("-2.50", ".", -250, id="negative"),
        pytest.param("19.99", ".", 1999, id="nineteen-ninety-nine"),
    ],
)
def test_parse_amount_accepts(text, separator, expected):
    assert parse_amount(text, GBP, separator) == expected


@pytest.mark.parametrize(
    ("text", "separator", "fragment"),
    [
        pytest.param("", ".", "missing amount", id="empty"),
        pytest.param("12,34", ".", "decimal mark", id="comma-in-dot-locale"),
        pytest.param("1,234.50", ".", "invalid amount", id="grouping"),
        pytest.param("12.345", ".", "2 decimals", id="too-many-decimals"),
        pytest.param("abc", ".", "invalid amount", id="letters"),
        pytest.param("1e3", ".", "invalid amount", id="exponent"),
        pytest.param("12.34", ",", "decimal mark", id="dot-in-comma-locale"),
    ],
)
def test_parse_amount_rejects_with_value(text, separator, fragment):
    with pytest.raises(InvalidAmountError) as error:
        parse_amount(text, GBP, separator)
    assert fragment in str(error.value)


def test_parse_amount_zero_decimal_currency():
    yen = Currency.from_code("JPY")
    assert yen.decimals == 0
    assert parse_amount("1500", yen) == 1500
    with pytest.raises(InvalidAmountError):
        parse_amount("15.5", yen)


def test_earn_rate_reads_back_exactly():
    assert parse_decimal("0.015", "earn rate") == Decimal("0.015")
    assert str(parse_decimal("0.015", "earn rate")) == "0.015"


def test_currency_code_validated():
    with pytest.raises(InvalidAmountError, match="three-letter"):
        Currency.from_code("POUNDS")


def test_format_plain_keeps_trailing_zeros():
    assert GBP.format_plain(1990) == "19.90"
    assert GBP.format_plain(-5) == "-0.05"

"""Money as whole minor units (pence, cents) of one configured currency.

NOTE: money never passes through ``float``. Amounts are ``int`` minor units, and
rates are ``Decimal``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from posloyalty.domain.errors import InvalidAmountError

# Currencies whose minor unit is not two digits; everything else uses two.
_DECIMALS_BY_CURRENCY = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0,
    "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0,
    "XAF": 0, "XOF": 0,
}  # fmt: skip


@dataclass(frozen=True)
class Currency:
    """An ISO 4217 currency and the number of digits of its minor unit."""

    code: str
    decimals: int = 2

    @classmethod
    def from_code(cls, code: str, decimals: int | None = None) -> Currency:
        """Build a currency from its ISO code, looking up its usual decimals."""
        normalised = code.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", normalised):
            raise InvalidAmountError(
                f"invalid currency code {code!r}: use a three-letter ISO 4217 code"
                " such as GBP or EUR"
            )
        if decimals is None:
            decimals = _DECIMALS_BY_CURRENCY.get(normalised, 2)
        return cls(normalised, decimals)

    @property
    def minor_per_unit(self) -> int:
        """Minor units in one major unit (100 for GBP, 1 for JPY)."""
        return 10**self.decimals

    def to_decimal(self, minor: int) -> Decimal:
        """Return ``minor`` units as an exact ``Decimal`` of major units."""
        return Decimal(minor).scaleb(-self.decimals)

    def format_plain(self, minor: int) -> str:
        """Format ``minor`` units with a dot and no grouping, as scripts read it."""
        return f"{self.to_decimal(minor):.{self.decimals}f}"


_PLAIN_AMOUNT = re.compile(r"[+-]?\d+(?:[.,]\d+)?")

# The largest amount the till reads, in minor units (10,000,000,000.00 in a
# currency with two decimals): far above any basket, and far enough below
# SQLite's 64-bit integers that the totals of millions of sales stay exact.
MAX_AMOUNT_MINOR = 10**12


def parse_amount(text: str, currency: Currency, decimal_separator: str = ".") -> int:
    """Parse an amount typed by a person into minor units.

    Args:
        text: what was typed, such as ``12.34``, or ``12,34`` where the locale
            writes a decimal comma. Surrounding spaces are ignored.
        currency: the currency whose number of decimals applies.
        decimal_separator: ``"."`` or ``","``; the other mark is rejected, so a
            grouping mark is never misread as a decimal point.

    Returns:
        The amount in minor units, which may be negative.

    Raises:
        InvalidAmountError: the text is empty, is not a plain number, uses the
            wrong decimal mark, has more decimals than the currency allows, or
            is larger than ``MAX_AMOUNT_MINOR`` either way.
    """
    stripped = text.strip()
    hint = f"write it like 12{decimal_separator}34"
    if not stripped:
        raise InvalidAmountError(f"missing amount: {hint}")
    if not _PLAIN_AMOUNT.fullmatch(stripped):
        raise InvalidAmountError(f"invalid amount {text!r}: {hint}")

    other_separator = "," if decimal_separator == "." else "."
    if other_separator in stripped:
        raise InvalidAmountError(
            f"invalid amount {text!r}: the decimal mark here is"
            f" {decimal_separator!r}, {hint}"
        )
    value = Decimal(stripped.replace(decimal_separator, "."))

    minor = value.scaleb(currency.decimals)
    if minor != minor.to_integral_value():
        raise InvalidAmountError(
            f"invalid amount {text!r}: {currency.code} has {currency.decimals} decimals"
        )
    check_amount_range(minor, text, currency)
    return int(minor)


def check_amount_range(minor: Decimal | int, text: str, currency: Currency) -> None:
    """Reject an amount beyond ``MAX_AMOUNT_MINOR`` either way.

    Args:
        minor: the amount in minor units.
        text: the amount as written, for the message.
        currency: the amount's currency, for the message.

    Raises:
        InvalidAmountError: the amount is too large to be a sale or a return.
    """
    if abs(minor) > MAX_AMOUNT_MINOR:
        raise InvalidAmountError(
            f"invalid amount {text[:30]!r}: the largest amount is"
            f" {currency.format_plain(MAX_AMOUNT_MINOR)} {currency.code}; check"
            " the digits"
        )


def parse_decimal(text: str, what: str) -> Decimal:
    """Parse a non-negative decimal setting such as an earn rate, exactly as written."""
    stripped = text.strip()
    if not re.fullmatch(r"\d+(?:\.\d+)?", stripped):
        raise InvalidAmountError(
            f"invalid {what} {text!r}: write a non-negative number with a dot,"
            " like 1 or 0.015"
        )
    return Decimal(stripped)


def multiply_to_minor(minor: int, factor: Decimal) -> int:
    """Multiply an amount by ``factor`` and round toward zero to whole minor units."""
    return int((Decimal(minor) * factor).to_integral_value(rounding=ROUND_DOWN))

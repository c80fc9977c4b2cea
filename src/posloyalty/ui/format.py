"""Money, points and times as the till's locale writes them.

``babel`` is imported on first use: it costs tens of milliseconds, and the
first window shows no amount.
"""

from __future__ import annotations

from datetime import datetime

from posloyalty.domain.money import Currency


def format_money(minor: int, currency: Currency, locale: str) -> str:
    """Format an amount in minor units with the currency sign, as ``locale`` does."""
    from babel.numbers import format_currency

    return format_currency(currency.to_decimal(minor), currency.code, locale=locale)


def format_points(points: int, locale: str, signed: bool = False) -> str:
    """Format whole points with the locale's grouping; ``signed`` adds a plus sign."""
    from babel.numbers import format_decimal

    text = format_decimal(points, locale=locale)
    return f"+{text}" if signed and points > 0 else text


def format_amount_for_input(minor: int, currency: Currency, separator: str) -> str:
    """Write an amount the way a cashier types it: no sign, no grouping."""
    return currency.format_plain(minor).replace(".", separator)


def format_local_time(moment: datetime) -> str:
    """Show a UTC time in the till's local time zone, day and minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")

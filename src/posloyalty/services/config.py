"""The till's settings: stored as text in the database, validated when set."""

from __future__ import annotations

import json
import locale
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from posloyalty.domain.errors import DomainError
from posloyalty.domain.money import Currency, parse_amount, parse_decimal
from posloyalty.domain.points import EarningRule, normalize_skus
from posloyalty.services.errors import InvalidInputError


def _system_locale() -> str:
    """Return the system locale as ``language_TERRITORY``, or ``en_GB`` when unset."""
    name = locale.getlocale()[0] or os.environ.get("LANG", "")
    name = name.split(".")[0]
    if "_" in name and name.split("_")[1].isalpha() and len(name.split("_")[1]) == 2:
        return name
    return "en_GB"


def default_settings() -> dict[str, str]:
    """Return settings for a new till: currency and region from the system locale."""
    from babel.numbers import get_territory_currencies  # deferred: slow import

    locale_name = _system_locale()
    region = locale_name.split("_")[1].upper()
    currencies = get_territory_currencies(region)
    currency = Currency.from_code(currencies[0] if currencies else "GBP")
    return {
        "currency": currency.code,
        "currency_decimals": str(currency.decimals),
        "region": region,
        "locale": locale_name,
        "store": "Main store",
        "till": "Till 1",
        "earn_rate": "1",
        "excluded_skus": "",
        "minimum_spend": "0",
        "point_value": "0.01",
        "rule_version": "1",
    }


def _check_region(value: str) -> str:
    import phonenumbers

    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInputError(
            f"invalid region {value!r}: use a two-letter ISO 3166 code such as GB or FR"
        )
    return region


def _check_currency(value: str) -> str:
    try:
        return Currency.from_code(value).code
    except DomainError as error:
        raise InvalidInputError(str(error)) from error


def _check_locale(value: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value.strip())
    except (UnknownLocaleError, ValueError) as error:
        raise InvalidInputError(
            f"invalid locale {value!r}: use a name such as en_GB or fr_FR"
        ) from error
    return value.strip()


def _check_name(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value.strip():
            raise InvalidInputError(f"missing {what}: give it a name")
        return value.strip()

    return check


def _check_decimal(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            return str(parse_decimal(value, what))
        except DomainError as error:
            raise InvalidInputError(str(error)) from error

    return check


def _check_skus(value: str) -> str:
    return ",".join(sorted(normalize_skus(value)))


# Setting keys a person may change with ``config set``, and how each is checked.
# Other layers (printing, sync) add their keys here at import time.
VALIDATORS: dict[str, Callable[[str], str]] = {
    "currency": _check_currency,
    "region": _check_region,
    "locale": _check_locale,
    "store": _check_name("store"),
    "till": _check_name("till"),
    "earn_rate": _check_decimal("earn rate"),
    "minimum_spend": _check_decimal("minimum spend"),
    "point_value": _check_decimal("point value"),
    "excluded_skus": _check_skus,
}

# Settings never printed by ``config show``.
SECRET_KEYS = {"server_token"}


@dataclass(frozen=True)
class Settings:
    """The validated settings the services use."""

    values: dict[str, str]

    @property
    def currency(self) -> Currency:
        return Currency(self.values["currency"], int(self.values["currency_decimals"]))

    @property
    def region(self) -> str:
        return self.values["region"]

    @property
    def locale(self) -> str:
        return self.values["locale"]

    @property
    def store(self) -> str:
        return self.values["store"]

    @property
    def till(self) -> str:
        return self.values["till"]

    @property
    def decimal_separator(self) -> str:
        """The decimal mark people type at this till, from its locale."""
        from babel.numbers import get_decimal_symbol

        return get_decimal_symbol(self.locale)

    @property
    def rule_version(self) -> int:
        return int(self.values["rule_version"])

    @property
    def earning_rule(self) -> EarningRule:
        return rule_from_values(self.values)

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)


def rule_from_values(values: dict[str, str]) -> EarningRule:
    """Build the earning rule from stored setting values."""
    currency = Currency(values["currency"], int(values["currency_decimals"]))
    minimum = parse_amount(values["minimum_spend"], currency)
    return EarningRule(
        earn_rate=Decimal(values["earn_rate"]),
        excluded_skus=normalize_skus(values["excluded_skus"]),
        minimum_spend_minor=minimum,
        point_value=Decimal(values["point_value"]),
    )


def rule_to_json(values: dict[str, str]) -> str:
    """Serialise the settings that make up the earning rule, for ``RuleVersion``."""
    keys = (
        "currency",
        "currency_decimals",
        "earn_rate",
        "excluded_skus",
        "minimum_spend",
        "point_value",
    )
    return json.dumps({key: values[key] for key in keys}, sort_keys=True)

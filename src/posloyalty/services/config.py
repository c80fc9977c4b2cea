"""The till's settings: stored as text in the database, validated when set."""

from __future__ import annotations

import json
import locale
import os
import zoneinfo
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


def _system_timezone() -> str:
    """Return the IANA name of the system's time zone, or ``UTC`` when unknown."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            target = os.readlink("/etc/localtime")
        except OSError:
            target = ""
        name = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


# The keys ``default_settings`` fills in. A till that has them all never needs
# the defaults, which import babel's territory data.
DEFAULT_SETTING_KEYS = frozenset({
    "currency", "currency_decimals", "region", "locale", "timezone", "store", "till",
    "earn_rate", "excluded_skus", "minimum_spend", "point_value", "rule_version",
})  # fmt: skip


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
        "timezone": _system_timezone(),
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


def _check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidInputError(
            f"unknown time zone {value!r}: use an IANA name such as Europe/London"
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


def _check_count(what: str, minimum: int, maximum: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or not (
            minimum <= int(text) <= maximum
        ):
            raise InvalidInputError(
                f"invalid {what} {value!r}: use a whole number from {minimum}"
                f" to {maximum}"
            )
        return str(int(text))

    return check


def _check_switch(value: str) -> str:
    text = value.strip().lower()
    if text in ("on", "yes", "true", "1"):
        return "on"
    if text in ("off", "no", "false", "0"):
        return "off"
    raise InvalidInputError(f"invalid switch {value!r}: use on or off")


def _check_reason_list(value: str) -> str:
    reasons = [" ".join(part.split()).lower() for part in value.split(",")]
    reasons = list(dict.fromkeys(reason for reason in reasons if reason))
    if not reasons:
        raise InvalidInputError(
            "missing adjustment reasons: give a comma-separated list such as"
            " goodwill,correction,other"
        )
    if any(":" in reason for reason in reasons):
        raise InvalidInputError(
            f"invalid adjustment reasons {value!r}: a reason cannot contain ':'"
        )
    return ",".join(reasons)


# Setting keys a person may change with ``config set``, and how each is checked.
# Other layers (printing, sync) add their keys here at import time.
VALIDATORS: dict[str, Callable[[str], str]] = {
    "currency": _check_currency,
    "region": _check_region,
    "locale": _check_locale,
    "timezone": _check_timezone,
    "store": _check_name("store"),
    "till": _check_name("till"),
    "earn_rate": _check_decimal("earn rate"),
    "minimum_spend": _check_decimal("minimum spend"),
    "point_value": _check_decimal("point value"),
    "excluded_skus": _check_skus,
    "pin_max_attempts": _check_count("number of PIN attempts", 1, 20),
    "pin_lockout_minutes": _check_count("lockout in minutes", 1, 1440),
    "staff_sign_in": _check_switch,
    "adjust_limit_manager": _check_count("manager adjustment limit", 1, 10**9),
    "adjust_limit_admin": _check_count("admin adjustment limit", 1, 10**9),
    "undo_redemption_minutes": _check_count("undo time in minutes", 0, 60),
    "adjust_reasons": _check_reason_list,
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
    def timezone(self) -> zoneinfo.ZoneInfo:
        """The shop's time zone, for times typed or imported as local time."""
        return zoneinfo.ZoneInfo(self.values["timezone"])

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

"""Column types that keep time and money exact in every backend."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import Field

# Fixed-width text sorts in time order, so range queries on it are exact.
_STORED_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def to_utc_naive(value: datetime) -> datetime:
    """Convert an aware time to UTC; take a naive time as UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 time (``T`` or space, with or without an offset) as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return to_utc_naive(value).replace(tzinfo=UTC)


class UTCDateTimeField(Field):
    """A UTC time stored as fixed-width text and read back as an aware datetime.

    Aware times are converted to UTC; naive ones and ISO strings with a ``T``
    (as a server may send them) are taken as UTC, so all stored values compare
    and sort the same way.
    """

    field_type = "TEXT"

    def db_value(self, value: datetime | str | None) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = parse_utc(value)
        return to_utc_naive(value).strftime(_STORED_FORMAT)

    def python_value(self, value: str | None) -> datetime | None:
        if value is None:
            return None
        return parse_utc(value)

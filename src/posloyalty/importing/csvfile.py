"""Reading CSV exports: encoding, byte order mark, column maps."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from posloyalty.services.errors import InvalidInputError


def parse_column_map(text: str | None, fields: set[str]) -> dict[str, str]:
    """Parse ``field=Column,field=Column`` into a dict, checking the field names.

    Raises:
        InvalidInputError: a pair has no ``=`` or names an unknown field.
    """
    mapping: dict[str, str] = {}
    if not text:
        return mapping
    for pair in text.split(","):
        field, sep, column = pair.partition("=")
        field = field.strip()
        if not sep or not field or not column.strip():
            raise InvalidInputError(
                f"invalid --map entry {pair!r}: write field=Column, for example"
                " invoice=InvoiceNo"
            )
        if field not in fields:
            known = ", ".join(sorted(fields))
            raise InvalidInputError(
                f"unknown --map field {field!r}: use one of {known}"
            )
        mapping[field] = column.strip()
    return mapping


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Open a CSV file and return its header and its rows with their line numbers.

    The file is read as UTF-8 with any byte order mark removed, so Excel's
    "CSV UTF-8" files read the same as the original export.

    Raises:
        InvalidInputError: the file is missing, not UTF-8, or has no header.
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
        reader = csv.reader(handle)
        header = next(reader, None)
    except FileNotFoundError as error:
        raise InvalidInputError(f"file not found: {path}") from error
    except UnicodeDecodeError as error:
        raise InvalidInputError(
            f"{path} is not UTF-8 text: export it again as CSV UTF-8"
        ) from error
    if not header:
        handle.close()
        raise InvalidInputError(f"{path} is empty: it needs a header row")
    header = [name.strip() for name in header]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with handle:
            try:
                for values in reader:
                    if not any(value.strip() for value in values):
                        continue
                    yield reader.line_num, dict(zip(header, values, strict=False))
            except UnicodeDecodeError as error:
                raise InvalidInputError(
                    f"{path} line {reader.line_num + 1} is not UTF-8 text: export the"
                    " file again as CSV UTF-8"
                ) from error

    return header, rows()


def require_columns(path: Path, header: list[str], columns: dict[str, str]) -> None:
    """Check that every mapped column is in the header."""
    missing = [column for column in columns.values() if column not in header]
    if missing:
        raise InvalidInputError(
            f"{path} has no column {missing[0]!r}: its columns are"
            f" {', '.join(header)}; fix --map"
        )

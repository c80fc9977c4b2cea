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
        InvalidInputError: the file is missing, unreadable, not UTF-8, not CSV,
            or has no header. An error in a row is raised while iterating.
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError as error:
        raise InvalidInputError(f"file not found: {path}") from error
    except OSError as error:
        raise InvalidInputError(
            f"cannot read {path} ({error.strerror or type(error).__name__}):"
            " give the path of a CSV file this user can read"
        ) from error
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except UnicodeDecodeError as error:
        handle.close()
        raise InvalidInputError(
            f"{path} is not UTF-8 text: export it again as CSV UTF-8"
        ) from error
    except csv.Error as error:
        handle.close()
        raise _not_csv(path, reader.line_num, error) from error
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
            except csv.Error as error:
                raise _not_csv(path, reader.line_num, error) from error

    return header, rows()


def _not_csv(path: Path, line: int, error: csv.Error) -> InvalidInputError:
    # The csv module stops at a field longer than its limit (128 KiB by
    # default), which only a file that is not a CSV export, or an unclosed
    # quote, produces.
    return InvalidInputError(
        f"{path} line {line} is not valid CSV ({error}): check for an unclosed"
        " quote, or export the file again as CSV"
    )


def require_columns(path: Path, header: list[str], columns: dict[str, str]) -> None:
    """Check that every mapped column is in the header exactly once."""
    missing = [column for column in columns.values() if column not in header]
    if missing:
        raise InvalidInputError(
            f"{path} has no column {missing[0]!r}: its columns are"
            f" {', '.join(header)}; fix --map"
        )
    repeated = [column for column in columns.values() if header.count(column) > 1]
    if repeated:
        raise InvalidInputError(
            f"{path} has {header.count(repeated[0])} columns named {repeated[0]!r},"
            " so it is unclear which one to read: rename or remove the others"
        )

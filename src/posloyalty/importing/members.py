"""Importing customer lists exported by Shopify, Square or any CSV with a column map."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from posloyalty.importing.csvfile import parse_column_map, read_rows, require_columns
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError
from posloyalty.services.ledger import append_audit
from posloyalty.services.members import (
    NewMember,
    insert_member,
    name_key,
    validate_new_member,
)

logger = logging.getLogger(__name__)

MEMBER_FIELDS = {
    "external_id", "name", "first_name", "last_name", "email", "phone",
    "phone_fallback", "consent_email", "consent_sms",
}  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """A known export layout: the columns that identify it and the field map."""

    name: str
    signature: frozenset[str]
    columns: dict[str, str]


# Column names are matched by name, never position: newer exports add columns.
LAYOUTS = [
    Layout(
        "Shopify",
        frozenset({"Customer ID", "Accepts Email Marketing", "Default Address Phone"}),
        {"external_id": "Customer ID", "first_name": "First Name",
         "last_name": "Last Name", "email": "Email", "phone": "Phone",
         "phone_fallback": "Default Address Phone",
         "consent_email": "Accepts Email Marketing",
         "consent_sms": "Accepts SMS Marketing"},
    ),
    Layout(
        "Shopify (older layout)",
        frozenset({"Accepts Marketing", "Address1", "Phone"}),
        {"first_name": "First Name", "last_name": "Last Name", "email": "Email",
         "phone": "Phone", "consent_email": "Accepts Marketing"},
    ),
    Layout(
        "Square",
        frozenset({"Square Customer ID", "Email Address", "Phone Number"}),
        {"external_id": "Square Customer ID", "first_name": "First Name",
         "last_name": "Last Name", "email": "Email Address", "phone": "Phone Number",
         "consent_email": "Email Subscription Status"},
    ),
]  # fmt: skip

_TRUE = {"yes", "true", "1", "y", "subscribed"}
_FALSE = {"no", "false", "0", "n", "", "unsubscribed", "not subscribed"}


@dataclass
class MemberImportReport:
    """The outcome of one member import; rejected rows carry line number and reason."""

    layout: str
    imported: int = 0
    already_present: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _clean(value: str | None) -> str:
    """Strip spaces and the apostrophe Shopify writes so spreadsheets keep text."""
    text = (value or "").strip()
    if text.startswith("'"):
        text = text[1:].strip()
    return text


def _consent(value: str, column: str) -> bool:
    text = _clean(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInputError(
        f"invalid consent {value!r} in column {column!r}: use yes or no"
    )


def detect_layout(header: list[str]) -> Layout | None:
    """Recognise a known export by its header."""
    names = set(header)
    for layout in LAYOUTS:
        if layout.signature <= names:
            return layout
    return None


def _row_to_member(row: dict[str, str], columns: dict[str, str]) -> NewMember:
    def get(field_name: str) -> str:
        column = columns.get(field_name)
        return _clean(row.get(column)) if column else ""

    name = get("name") or " ".join(
        p for p in (get("first_name"), get("last_name")) if p
    )
    phone = get("phone") or get("phone_fallback")
    consent_email = (
        _consent(row.get(columns["consent_email"], ""), columns["consent_email"])
        if "consent_email" in columns
        else False
    )
    consent_sms = (
        _consent(row.get(columns["consent_sms"], ""), columns["consent_sms"])
        if "consent_sms" in columns
        else False
    )
    return NewMember(name, phone or None, get("email") or None,
                     get("external_id") or None, consent_email, consent_sms)  # fmt: skip


def _is_present(ctx: TillContext, member: NewMember) -> bool:
    """Tell whether the member is already enrolled.

    The same external id matches. So does the same name with the same email or
    the same phone, because each shop system has its own customer ids: a shop
    moving from Shopify to Square exports the same people under new ids.
    """
    db = ctx.db
    key = name_key(member.name)
    checks = []
    if member.external_id:
        checks.append(
            ("SELECT 1 FROM member WHERE external_id = ?", (member.external_id,))
        )
    if member.email:
        checks.append(
            (
                "SELECT 1 FROM member WHERE email = ? AND name_key = ?",
                (member.email, key),
            )
        )
    if member.phone:
        checks.append(
            (
                "SELECT 1 FROM member WHERE phone = ? AND name_key = ?",
                (member.phone, key),
            )
        )
    return any(
        db.execute_sql(sql, params).fetchone() is not None for sql, params in checks
    )


def import_members(
    ctx: TillContext, path: Path, column_map: str | None = None
) -> MemberImportReport:
    """Import a customer CSV; one transaction for the whole file.

    A row that cannot be imported as written (no phone and no email, a phone
    that is not possible, a malformed email or consent) is rejected with its
    line number and reason, and never guessed at. Members already present
    (same external id, or same name with the same email or phone) are skipped,
    so importing a file twice adds nobody.
    """
    header, rows = read_rows(path)
    overrides = parse_column_map(column_map, MEMBER_FIELDS)
    layout = detect_layout(header)
    if layout is None and not overrides:
        raise InvalidInputError(
            f"{path} is not a Shopify or Square customer export: give --map, for"
            " example --map name=Name,phone=Mobile,email=Email"
        )
    columns = {**(layout.columns if layout else {}), **overrides}
    columns = {
        key: value
        for key, value in columns.items()
        if value in header or key in overrides
    }
    require_columns(path, header, columns)
    if not ({"name", "first_name", "last_name"} & columns.keys()):
        raise InvalidInputError("--map needs name=Column or first_name=/last_name=")

    report = MemberImportReport(
        layout.name if layout and not overrides else "custom map"
    )
    with ctx.db.atomic():
        for line, row in rows:
            try:
                new = validate_new_member(ctx, _row_to_member(row, columns))
            except InvalidInputError as error:
                report.rejected.append((line, str(error)))
                continue
            if _is_present(ctx, new):
                report.already_present += 1
                continue
            insert_member(ctx, new)
            report.imported += 1
        append_audit(ctx, "import members", details={
            "file": path.name, "imported": report.imported,
            "rejected": len(report.rejected)})  # fmt: skip
    logger.info("imported %d members from %s, rejected %d", report.imported, path,
                len(report.rejected))  # fmt: skip
    return report

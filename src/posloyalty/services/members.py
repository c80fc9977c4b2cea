"""Enrolling, finding and showing members."""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass

from posloyalty.domain.cards import CARD_NUMBER_LENGTH, mask_card_number
from posloyalty.domain.errors import (
    CardNotReadableError,
    InvalidPhoneError,
    quote_value,
)
from posloyalty.domain.phones import looks_like_phone, normalize_phone
from posloyalty.domain.receipt import CARD_QR_VERSION, check_qr_payload
from posloyalty.domain.scanner import ScanKind, normalize_input
from posloyalty.services.context import TillContext
from posloyalty.services.errors import (
    AmbiguousMemberError,
    InvalidInputError,
    NotFoundError,
    RejectedError,
)
from posloyalty.services.ledger import append_audit, parse_time, queue_for_sync
from posloyalty.services.views import EntryView, MemberView
from posloyalty.storage import models

logger = logging.getLogger(__name__)

# The lookups below run on every scan, so their SQL is written once here rather
# than built by the query builder each time.
_MEMBER_COLUMNS = (
    "m.id, m.name, m.phone, m.email, m.external_id, c.number, m.balance,"
    " m.consent_email, m.consent_sms, m.is_demo"
)
_BY_CARD_SQL = (
    f"SELECT {_MEMBER_COLUMNS}, c.blocked_at FROM card c"
    " JOIN member m ON m.id = c.member_id WHERE c.number = ?"
)
_BY_PHONE_SQL = (
    f"SELECT {_MEMBER_COLUMNS} FROM member m LEFT JOIN card c"
    " ON c.member_id = m.id AND c.blocked_at IS NULL WHERE m.phone = ?"
    " ORDER BY m.name"
)
_BY_EXTERNAL_ID_SQL = (
    f"SELECT {_MEMBER_COLUMNS} FROM member m LEFT JOIN card c"
    " ON c.member_id = m.id AND c.blocked_at IS NULL WHERE m.external_id = ?"
)
_BY_ID_SQL = (
    f"SELECT {_MEMBER_COLUMNS} FROM member m LEFT JOIN card c"
    " ON c.member_id = m.id AND c.blocked_at IS NULL WHERE m.id = ?"
)
_BY_NAME_SQL = (
    f"SELECT {_MEMBER_COLUMNS} FROM member m LEFT JOIN card c"
    " ON c.member_id = m.id AND c.blocked_at IS NULL"
    " WHERE m.name_key >= ? AND m.name_key < ? ORDER BY m.name_key LIMIT ?"
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# Longer than any real name, short enough to fit a screen line and a receipt.
MAX_NAME_LENGTH = 200
# RFC 5321 limits a mail path to 256 octets, so an address to 254 characters.
MAX_EMAIL_LENGTH = 254
MAX_EXTERNAL_ID_LENGTH = 100
# Embedding, override and isolate controls reorder the text around them on
# screen, so a name that contains one can look like another (CVE-2021-42574).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Unicode categories never typed as part of a name, email or id: control
# characters (NUL, ESC) and lone surrogates.
_UNTYPABLE_CATEGORIES = frozenset({"Cc", "Cs"})

BLOCKED_CARD = (
    "card blocked: this card was reported lost or replaced. Ask the member for"
    " their new card or phone number"
)


def _view(row: tuple) -> MemberView:
    return MemberView(
        id=row[0],
        name=row[1],
        phone=row[2],
        email=row[3],
        external_id=row[4],
        card_number=row[5],
        balance=row[6],
        consent_email=bool(row[7]),
        consent_sms=bool(row[8]),
        is_demo=bool(row[9]),
    )


def name_key(name: str) -> str:
    """Fold a name for prefix search: case and surrounding spaces ignored."""
    return " ".join(name.casefold().split())


def check_characters(what: str, text: str) -> None:
    """Reject typed text with a control character or a bidirectional override."""
    for char in text:
        if unicodedata.category(char) in _UNTYPABLE_CATEGORIES or (
            char in _BIDI_CONTROLS
        ):
            raise InvalidInputError(
                f"invalid {what} {quote_value(text)}: it contains the control"
                f" character U+{ord(char):04X}; type the {what} again"
            )


def check_length(what: str, text: str, limit: int) -> None:
    """Reject typed text longer than ``limit`` characters."""
    if len(text) > limit:
        raise InvalidInputError(
            f"invalid {what} {quote_value(text)}: use at most {limit} characters"
        )


def clean_name(text: str) -> str:
    """Check a member's name and return it in NFC with single spaces.

    Raises:
        InvalidInputError: the name is empty, contains a control character, has
            no letter or digit, or is longer than ``MAX_NAME_LENGTH``.
    """
    name = unicodedata.normalize("NFC", " ".join(text.split()))
    if not name:
        raise InvalidInputError("missing name: type the member's name")
    check_characters("name", name)
    if not any(unicodedata.category(char)[0] in "LN" for char in name):
        raise InvalidInputError(
            f"invalid name {quote_value(name)}: it has no letter or digit; type the"
            " member's name"
        )
    check_length("name", name, MAX_NAME_LENGTH)
    return name


def clean_email(text: str | None) -> str | None:
    """Check an email address; return it without outer spaces, or None when blank.

    Raises:
        InvalidInputError: the address is malformed, contains a control character
            or is longer than ``MAX_EMAIL_LENGTH``.
    """
    email = text.strip() if text else ""
    if not email:
        return None
    check_characters("email", email)
    check_length("email", email, MAX_EMAIL_LENGTH)
    if not _EMAIL.fullmatch(email):
        raise InvalidInputError(
            f"invalid email {quote_value(email)}: write it as name@domain.example"
        )
    return email


def clean_external_id(text: str | None) -> str | None:
    """Check the id of a member in the shop's POS; return it stripped, or None.

    Raises:
        InvalidInputError: the id contains a control character or is longer than
            ``MAX_EXTERNAL_ID_LENGTH``.
    """
    external_id = text.strip() if text else ""
    if not external_id:
        return None
    check_characters("external id", external_id)
    check_length("external id", external_id, MAX_EXTERNAL_ID_LENGTH)
    return external_id


@dataclass(frozen=True)
class NewMember:
    """A person to enrol, before validation."""

    name: str
    phone: str | None = None
    email: str | None = None
    external_id: str | None = None
    consent_email: bool = False
    consent_sms: bool = False
    is_demo: bool = False


def validate_new_member(
    ctx: TillContext, new: NewMember, require_contact: bool = True
) -> NewMember:
    """Check and normalise a new member's fields.

    Args:
        require_contact: reject a member with neither phone nor email, since the
            cashier could not find them. A member enrolled from a sales journal
            is found by the POS's customer id instead.

    Raises:
        InvalidInputError: the name is empty, the phone is not possible in the
            till's region, the email is malformed, or ``require_contact`` is set
            and there is no phone and no email.
    """
    name = clean_name(new.name)
    phone = None
    if new.phone and new.phone.strip():
        try:
            phone = normalize_phone(new.phone, ctx.settings.region)
        except InvalidPhoneError as error:
            raise InvalidInputError(str(error)) from error
    email = clean_email(new.email)
    if phone is None and email is None and require_contact:
        raise InvalidInputError(
            f"member {name!r} has no phone and no email: give at least one so the"
            " member can be found"
        )
    return NewMember(
        name,
        phone,
        email,
        clean_external_id(new.external_id),
        new.consent_email,
        new.consent_sms,
        new.is_demo,
    )


def insert_member(ctx: TillContext, new: NewMember) -> MemberView:
    """Insert a validated member with a new card, inside the caller's transaction."""
    now = ctx.now()
    member_id = str(uuid.uuid4())
    models.Member.insert(
        id=member_id,
        external_id=new.external_id,
        phone=new.phone,
        name=new.name,
        name_key=name_key(new.name),
        email=new.email,
        consent_email=new.consent_email,
        consent_sms=new.consent_sms,
        is_demo=new.is_demo,
        balance=0,
        created_at=now,
        updated_at=now,
    ).execute()
    number = ctx.keyring.issue()
    while ctx.db.execute_sql(
        "SELECT 1 FROM card WHERE number = ?", (number,)
    ).fetchone():
        number = ctx.keyring.issue()
    # A card that cannot be printed as a QR code is rejected before it exists.
    check_qr_payload(number, CARD_QR_VERSION)
    models.Card.insert(number=number, member=member_id, issued_at=now).execute()
    queue_for_sync(ctx, "member", member_id)
    return MemberView(
        member_id,
        new.name,
        new.phone,
        new.email,
        new.external_id,
        number,
        0,
        new.consent_email,
        new.consent_sms,
        new.is_demo,
    )


def enrol_member(
    ctx: TillContext, new: NewMember, staff: str | None = None
) -> MemberView:
    """Enrol a new member and issue a card; one transaction."""
    checked = validate_new_member(ctx, new)
    with ctx.db.atomic():
        member = insert_member(ctx, checked)
        append_audit(ctx, "enrol", staff=staff, member_id=member.id)
    logger.info("enrolled member %s", member.id)
    return member


def get_member(ctx: TillContext, member_id: str) -> MemberView:
    row = ctx.db.execute_sql(_BY_ID_SQL, (member_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"member {member_id} not found")
    return _view(row)


def find_by_card(ctx: TillContext, number: str) -> MemberView:
    """Find the member of a card number.

    A number held in the card table was issued or accepted here, so the table
    lookup runs first and the signature is checked only for a number that is
    not there. That check tells a mistyped or forged number ("card not
    readable") from a genuine card of another store not yet synced.

    Raises:
        RejectedError: the card is not readable, or it is blocked.
        NotFoundError: the card is genuine but not yet known at this till.
    """
    row = None
    if len(number) == CARD_NUMBER_LENGTH and number.isdigit():
        row = ctx.db.execute_sql(_BY_CARD_SQL, (number,)).fetchone()
    if row is None:
        try:
            ctx.keyring.verify(number)
        except CardNotReadableError as error:
            raise RejectedError(str(error)) from error
        raise NotFoundError(
            f"card {mask_card_number(number)} is genuine but not known at this till"
            " yet: sync the till, or find the member by phone"
        )
    if row[10] is not None:
        raise RejectedError(BLOCKED_CARD)
    return _view(row)


def find_by_phone(ctx: TillContext, text: str) -> list[MemberView]:
    """Find every member with this phone number, typed in any usual form."""
    try:
        phone = normalize_phone(text, ctx.settings.region)
    except InvalidPhoneError as error:
        raise InvalidInputError(str(error)) from error
    return [_view(row) for row in ctx.db.execute_sql(_BY_PHONE_SQL, (phone,))]


def find_by_external_id(ctx: TillContext, external_id: str) -> list[MemberView]:
    rows = ctx.db.execute_sql(_BY_EXTERNAL_ID_SQL, (external_id.strip(),))
    return [_view(row) for row in rows]


def search_by_name(ctx: TillContext, text: str, limit: int = 20) -> list[MemberView]:
    """List members whose name starts with ``text``, case ignored."""
    prefix = name_key(text)
    if not prefix:
        return []
    # Every key that starts with the prefix sorts below prefix + U+10FFFF.
    rows = ctx.db.execute_sql(_BY_NAME_SQL, (prefix, prefix + "\U0010ffff", limit))
    return [_view(row) for row in rows]


def resolve_member(ctx: TillContext, ref: str, kind: str | None = None) -> MemberView:
    """Resolve a reference typed by a person or a script to exactly one member.

    Without ``kind``, a card-length number is a card (one that fails its check is
    "card not readable" and nothing else is tried), then an external id that
    exists exactly, then a phone number.

    Raises:
        InvalidInputError: the reference is empty.
        RejectedError: card not readable or blocked.
        NotFoundError: nothing matches.
        AmbiguousMemberError: several members share the phone.
    """
    text = ref.strip()
    if not text:
        raise InvalidInputError(
            "missing member: give a card number, external id or phone number"
        )
    if kind == "card" or (
        kind is None and text.isdigit() and len(text) == CARD_NUMBER_LENGTH
    ):
        return find_by_card(ctx, text)
    if kind in (None, "external-id"):
        matches = find_by_external_id(ctx, text)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AmbiguousMemberError(
                f"{len(matches)} members have external id {quote_value(text)}", matches
            )
        if kind == "external-id":
            raise NotFoundError(f"no member with external id {quote_value(text)}")
    if kind in (None, "phone"):
        if kind is None and not looks_like_phone(text):
            raise NotFoundError(
                f"no member found for {quote_value(text)}: give a card number,"
                " external id or phone number"
            )
        matches = find_by_phone(ctx, text)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AmbiguousMemberError(
                f"{len(matches)} members share phone {matches[0].phone}: choose one"
                " by card number",
                matches,
            )
        raise NotFoundError(f"no member with phone {quote_value(text)}")
    raise InvalidInputError(f"unknown reference kind {kind!r}")


@dataclass(frozen=True)
class LookupResult:
    """The members that one input at the till matched, and how it was read."""

    kind: str  # card, phone, name, empty
    members: list[MemberView]
    message: str = ""


def lookup_input(ctx: TillContext, raw: str) -> LookupResult:
    """Look up whatever the cashier scanned or typed: a card, a phone or a name."""
    scan = normalize_input(raw, ctx.keyring)
    if scan.kind is ScanKind.EMPTY:
        return LookupResult("empty", [])
    if scan.kind is ScanKind.NOT_READABLE:
        logger.info("unreadable scan of %d characters", len(raw))
        return LookupResult("card", [], scan.message)
    if scan.kind is ScanKind.CARD:
        try:
            return LookupResult("card", [find_by_card(ctx, scan.value)])
        except (RejectedError, NotFoundError) as error:
            return LookupResult("card", [], str(error))
    if looks_like_phone(scan.value):
        try:
            members = find_by_phone(ctx, scan.value)
        except InvalidInputError as error:
            return LookupResult("phone", [], str(error))
        message = "" if members else f"no member with phone {scan.value}"
        return LookupResult("phone", members, message)
    members = search_by_name(ctx, scan.value)
    message = "" if members else f"no member named {quote_value(scan.value)}"
    return LookupResult("name", members, message)


def member_history(
    ctx: TillContext, member_id: str, limit: int = 50
) -> list[EntryView]:
    """Return a member's ledger entries, newest first."""
    rows = ctx.db.execute_sql(
        "SELECT id, kind, points, sale_id, created_at, reason, staff, reverses_id,"
        " store, till FROM ledger_entry WHERE member_id = ?"
        " ORDER BY created_at DESC, rowid DESC LIMIT ?",
        (member_id, limit),
    )
    return [
        EntryView(
            r[0], r[1], r[2], r[3], parse_time(r[4]), r[5], r[6], r[7], r[8], r[9]
        )
        for r in rows
    ]

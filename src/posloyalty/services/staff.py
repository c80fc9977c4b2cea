"""Staff accounts, PIN checks with lockout, and signing in at the till.

NOTE: a PIN never leaves this module except as an argon2 hash. No log line,
error message or audit row contains a PIN, and ``Credentials`` hides it from
``repr``.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from posloyalty.domain.errors import DomainError
from posloyalty.domain.staff import (
    Permission,
    Role,
    is_allowed,
    normalize_staff_name,
    parse_role,
    validate_pin,
)
from posloyalty.services.context import TillContext
from posloyalty.services.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    RejectedError,
)
from posloyalty.services.ledger import append_audit
from posloyalty.storage.staff import Shift, Staff

logger = logging.getLogger(__name__)

# Values used until a person changes them with ``config set``.
STAFF_SETTING_DEFAULTS = {
    "pin_max_attempts": "5",
    "pin_lockout_minutes": "5",
    "staff_sign_in": "off",
    "adjust_limit_manager": "500",
    "adjust_limit_admin": "5000",
    "undo_redemption_minutes": "5",
    "adjust_reasons": "goodwill,correction,complaint,missing points,other",
}

# argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB,
# 3 passes). A verification takes a noticeable fraction of a second, which is
# the point: it slows down anyone trying PINs against a copied database.
PIN_HASHER = PasswordHasher()


@functools.cache
def _unknown_name_hash() -> str:
    """Return a hash to verify against when the name is unknown.

    That case then takes as long as a wrong PIN and does not reveal which names
    exist. It is made on first use, because hashing at import would slow the
    start of every command by the cost of one argon2 hash.
    """
    return PIN_HASHER.hash("00000000")


def staff_setting(ctx: TillContext, key: str) -> str:
    """Return a staff setting, or its default when it was never set."""
    return ctx.settings.get(key, STAFF_SETTING_DEFAULTS[key])


def staff_setting_int(ctx: TillContext, key: str) -> int:
    return int(staff_setting(ctx, key))


def format_till_time(ctx: TillContext, moment: datetime) -> str:
    """Format a time for a message, in the till's time zone when one is set."""
    zone_name = ctx.settings.get("timezone")
    if zone_name:
        import zoneinfo

        moment = moment.astimezone(zoneinfo.ZoneInfo(zone_name))
    return moment.strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True)
class Credentials:
    """A staff name and the PIN typed for it; ``repr`` never shows the PIN."""

    name: str
    pin: str = field(repr=False)


@dataclass(frozen=True)
class StaffView:
    """A staff account as the till shows it."""

    id: int
    name: str
    role: Role
    is_disabled: bool
    locked_until: datetime | None
    failed_pins: int

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


class WrongPinError(AuthenticationError):
    """The PIN did not match; ``tries_left`` more are allowed before a lockout."""

    def __init__(self, message: str, tries_left: int) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class AccountLockedError(AuthenticationError):
    """Too many wrong PINs; no PIN is checked until ``locked_until``."""

    def __init__(self, message: str, locked_until: datetime) -> None:
        super().__init__(message)
        self.locked_until = locked_until


class PermissionDeniedError(RejectedError):
    """The PIN was right but the person's role may not carry out the action."""


def _view(row: Staff) -> StaffView:
    return StaffView(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        is_disabled=row.disabled_at is not None,
        locked_until=row.locked_until,
        failed_pins=row.failed_pins,
    )


def _checked(value: str, check) -> str:
    try:
        return check(value)
    except DomainError as error:
        raise InvalidInputError(str(error)) from error


def _get_row(name: str) -> Staff:
    key = " ".join(name.split()).casefold()
    row = Staff.get_or_none(Staff.name_key == key)
    if row is None:
        raise NotFoundError(
            f"no staff member named {name!r}: see `posloyalty staff list`"
        )
    return row


def _check_actor(ctx: TillContext, actor: Credentials | None) -> str | None:
    """Authorise an admin for a change of staff accounts.

    ``actor`` is None when the change comes from the command line, which runs
    as the operating-system account that owns the database file anyway.
    """
    if actor is None:
        return None
    return authorize(ctx, actor, Permission.MANAGE_STAFF).name


def add_staff(
    ctx: TillContext,
    name: str,
    role: str,
    pin: str,
    actor: Credentials | None = None,
) -> StaffView:
    """Create a staff account with a hashed PIN; one transaction.

    Args:
        actor: the admin who adds the account, or None from the command line.

    Raises:
        InvalidInputError: the name, role or PIN is malformed.
        RejectedError: the name is already taken, also by a disabled account.
    """
    clean_name = _checked(name, normalize_staff_name)
    parsed_role = Role(_checked(role, lambda text: parse_role(text).value))
    pin_hash = PIN_HASHER.hash(_checked(pin, validate_pin))
    by = _check_actor(ctx, actor)

    with ctx.db.atomic():
        now = ctx.now()
        key = clean_name.casefold()
        if Staff.get_or_none(Staff.name_key == key) is not None:
            raise RejectedError(
                f"staff name {clean_name!r} is already taken: choose another name,"
                " for example with a surname initial"
            )
        row = Staff.create(
            name=clean_name,
            name_key=key,
            role=parsed_role.value,
            pin_hash=pin_hash,
            created_at=now,
            updated_at=now,
        )
        append_audit(
            ctx,
            "staff_add",
            staff=by,
            details={"name": clean_name, "role": parsed_role.value},
        )
    logger.info("added %s account %s", parsed_role.value, clean_name)
    return _view(row)


def list_staff(ctx: TillContext) -> list[StaffView]:
    """List every staff account, disabled ones included, by name."""
    return [_view(row) for row in Staff.select().order_by(Staff.name_key)]


def get_staff(ctx: TillContext, name: str) -> StaffView:
    """Find a staff account by name, case ignored.

    Raises:
        NotFoundError: no account has this name.
    """
    return _view(_get_row(name))


def disable_staff(
    ctx: TillContext, name: str, actor: Credentials | None = None
) -> StaffView:
    """Disable an account so its PIN is rejected; its name stays on record.

    Raises:
        NotFoundError: no account has this name.
        RejectedError: the account is already disabled.
    """
    by = _check_actor(ctx, actor)
    with ctx.db.atomic():
        row = _get_row(name)
        if row.disabled_at is not None:
            raise RejectedError(f"staff account {row.name!r} is already disabled")
        now = ctx.now()
        Staff.update(disabled_at=now, updated_at=now).where(
            Staff.id == row.id
        ).execute()
        Shift.update(ended_at=now).where(
            (Shift.staff == row.id) & Shift.ended_at.is_null()
        ).execute()
        append_audit(ctx, "staff_disable", staff=by, details={"name": row.name})
    logger.info("disabled staff account %s", row.name)
    return get_staff(ctx, row.name)


def reset_pin(
    ctx: TillContext, name: str, pin: str, actor: Credentials | None = None
) -> StaffView:
    """Set a new PIN and lift any lockout; one transaction.

    Raises:
        NotFoundError: no account has this name.
        InvalidInputError: the PIN is not 4 to 8 digits.
    """
    pin_hash = PIN_HASHER.hash(_checked(pin, validate_pin))
    by = _check_actor(ctx, actor)
    with ctx.db.atomic():
        row = _get_row(name)
        Staff.update(
            pin_hash=pin_hash, failed_pins=0, locked_until=None, updated_at=ctx.now()
        ).where(Staff.id == row.id).execute()
        append_audit(ctx, "pin_reset", staff=by, details={"name": row.name})
    logger.info("reset the PIN of staff account %s", row.name)
    return get_staff(ctx, row.name)


def _pin_matches(pin_hash: str, pin: str) -> bool:
    try:
        return PIN_HASHER.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def _locked_message(ctx: TillContext, name: str, until: datetime) -> str:
    attempts = staff_setting(ctx, "pin_max_attempts")
    return (
        f"account {name!r} is locked until {format_till_time(ctx, until)} after"
        f" {attempts} wrong PINs: try again then, or ask an admin to reset the PIN"
    )


def authenticate(ctx: TillContext, credentials: Credentials) -> StaffView:
    """Check a PIN and return the staff member it belongs to.

    A wrong PIN is counted on the account; the last one allowed locks the
    account for the configured minutes. While locked, no PIN is checked. Each
    failure commits its audit row before the error is raised.

    Raises:
        InvalidInputError: the PIN is empty; this does not count as a try.
        AuthenticationError: unknown name or disabled account.
        WrongPinError: the PIN did not match; the message gives the tries left.
        AccountLockedError: the account is locked; says until when.
    """
    name = " ".join(credentials.name.split())
    if not credentials.pin.strip():
        raise InvalidInputError(f"missing PIN: type the PIN of {name}")
    row = Staff.get_or_none(Staff.name_key == name.casefold())
    if row is None or row.disabled_at is not None:
        _pin_matches(_unknown_name_hash(), credentials.pin)
        cause = "unknown" if row is None else "disabled"
        with ctx.db.atomic():
            append_audit(ctx, "pin_failed", staff=name, details={"cause": cause})
        logger.warning("PIN entered for unknown or disabled staff name %r", name)
        if row is None:
            raise AuthenticationError(
                f"no staff member named {name!r}: check the name, or ask an admin"
                " to add it with `posloyalty staff add`"
            )
        raise AuthenticationError(
            f"staff account {row.name!r} is disabled: ask an admin to add a new one"
        )

    now = ctx.now()
    if row.locked_until is not None and row.locked_until > now:
        with ctx.db.atomic():
            append_audit(
                ctx,
                "pin_failed",
                staff=row.name,
                details={
                    "cause": "locked",
                    "locked_until": row.locked_until.isoformat(),
                },
            )
        logger.warning("PIN entered for locked staff account %s", row.name)
        raise AccountLockedError(
            _locked_message(ctx, row.name, row.locked_until), row.locked_until
        )

    if _pin_matches(row.pin_hash, credentials.pin):
        if row.failed_pins or row.locked_until is not None:
            with ctx.db.atomic():
                Staff.update(failed_pins=0, locked_until=None).where(
                    Staff.id == row.id
                ).execute()
        if PIN_HASHER.check_needs_rehash(row.pin_hash):
            with ctx.db.atomic():
                Staff.update(pin_hash=PIN_HASHER.hash(credentials.pin)).where(
                    Staff.id == row.id
                ).execute()
        return get_staff(ctx, row.name)

    return _record_wrong_pin(ctx, row, now)


def _record_wrong_pin(ctx: TillContext, row: Staff, now: datetime) -> StaffView:
    """Count a wrong PIN, lock the account at the limit, and raise."""
    max_attempts = staff_setting_int(ctx, "pin_max_attempts")
    lockout_minutes = staff_setting_int(ctx, "pin_lockout_minutes")
    lockout = timedelta(minutes=lockout_minutes)
    with ctx.db.atomic():
        # A lockout that has run out starts a fresh count.
        expired = row.locked_until is not None and row.locked_until <= now
        failed = 1 if expired else Staff.get_by_id(row.id).failed_pins + 1
        locked_until = now + lockout if failed >= max_attempts else None
        Staff.update(
            failed_pins=0 if locked_until else failed, locked_until=locked_until
        ).where(Staff.id == row.id).execute()
        append_audit(
            ctx,
            "pin_failed",
            staff=row.name,
            details={"cause": "wrong", "tries_left": max(max_attempts - failed, 0)},
        )
        if locked_until is not None:
            append_audit(
                ctx,
                "lockout",
                staff=row.name,
                details={"locked_until": locked_until.isoformat()},
            )
    if locked_until is not None:
        logger.warning(
            "staff account %s locked until %s after %d wrong PINs",
            row.name,
            locked_until.isoformat(),
            failed,
        )
        raise AccountLockedError(
            f"wrong PIN for {row.name!r}: "
            + _locked_message(ctx, row.name, locked_until),
            locked_until,
        )
    tries_left = max_attempts - failed
    logger.warning(
        "wrong PIN for staff account %s, %d tries left", row.name, tries_left
    )
    raise WrongPinError(
        f"wrong PIN for {row.name!r}: {tries_left} {_tries(tries_left)} left before"
        f" the account is locked for {lockout_minutes} minutes",
        tries_left,
    )


def _tries(count: int) -> str:
    return "try" if count == 1 else "tries"


def authorize(
    ctx: TillContext, credentials: Credentials, permission: Permission
) -> StaffView:
    """Check a PIN and that the person's role allows the action.

    Raises:
        AuthenticationError: see ``authenticate``.
        PermissionDeniedError: the role does not allow the action; an audit row
            records the attempt.
    """
    person = authenticate(ctx, credentials)
    if is_allowed(person.role, permission):
        return person
    with ctx.db.atomic():
        append_audit(
            ctx,
            "permission_denied",
            staff=person.name,
            details={"action": permission.value, "role": person.role.value},
        )
    logger.warning(
        "staff %s (%s) is not allowed to %s",
        person.name,
        person.role.value,
        permission.value,
    )
    raise PermissionDeniedError(
        f"{person.name} is a {person.role.value} and may not"
        f" {permission.value.replace('_', ' ')}: ask a manager to enter their PIN"
    )


def is_sign_in_required(ctx: TillContext) -> bool:
    """Tell whether the shop makes cashiers sign in before recording sales."""
    return staff_setting(ctx, "staff_sign_in") == "on"


def _open_shift(ctx: TillContext) -> Shift | None:
    settings = ctx.settings
    return (
        Shift.select()
        .where(
            (Shift.store == settings.store)
            & (Shift.till == settings.till)
            & Shift.ended_at.is_null()
        )
        .order_by(Shift.id.desc())
        .first()
    )


def sign_in(ctx: TillContext, credentials: Credentials) -> StaffView:
    """Start a shift at this till; whoever was signed in here is signed out.

    Raises:
        AuthenticationError: see ``authenticate``.
    """
    person = authorize(ctx, credentials, Permission.SIGN_IN)
    with ctx.db.atomic():
        now = ctx.now()
        previous = _open_shift(ctx)
        if previous is not None:
            Shift.update(ended_at=now).where(Shift.id == previous.id).execute()
            append_audit(ctx, "sign_out", staff=previous.staff.name)
        Shift.create(
            staff=person.id,
            store=ctx.settings.store,
            till=ctx.settings.till,
            started_at=now,
        )
        append_audit(ctx, "sign_in", staff=person.name)
    logger.info("%s signed in at %s", person.name, ctx.settings.till)
    return person


def sign_out(ctx: TillContext) -> StaffView | None:
    """End the shift open at this till; returns who was signed in, if anyone."""
    with ctx.db.atomic():
        shift = _open_shift(ctx)
        if shift is None:
            return None
        Shift.update(ended_at=ctx.now()).where(Shift.id == shift.id).execute()
        append_audit(ctx, "sign_out", staff=shift.staff.name)
    logger.info("%s signed out at %s", shift.staff.name, ctx.settings.till)
    return _view(shift.staff)


def signed_in_staff(ctx: TillContext) -> StaffView | None:
    """Return who is signed in at this till, or None."""
    shift = _open_shift(ctx)
    return None if shift is None else _view(shift.staff)


def staff_for_sale(ctx: TillContext) -> str | None:
    """Return the name a new sale records as its cashier.

    With sign-in off, a sale records no person: the sale row names the till.

    Raises:
        RejectedError: sign-in is on and no staff member is signed in here.
    """
    if not is_sign_in_required(ctx):
        return None
    person = signed_in_staff(ctx)
    if person is None:
        raise RejectedError(
            f"no staff member is signed in at {ctx.settings.till}: sign in with a PIN"
            " before recording a sale"
        )
    return person.name

"""Staff roles, what each role may do, and the format of names and PINs."""

from __future__ import annotations

import enum

from posloyalty.domain.errors import DomainError

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8
STAFF_NAME_MAX_LENGTH = 40


class StaffError(DomainError):
    """A staff name, role or PIN is malformed."""


class Role(enum.StrEnum):
    """The role of a staff account: cashier, store manager or administrator."""

    CASHIER = "cashier"
    MANAGER = "manager"
    ADMIN = "admin"


class Permission(enum.StrEnum):
    """An action that requires a PIN before it runs."""

    SIGN_IN = "sign_in"
    UNDO_REDEMPTION = "undo_redemption"
    ADJUST = "adjust"
    REVERSE = "reverse"
    EDIT_MEMBER = "edit_member"
    MERGE_MEMBERS = "merge_members"
    ERASE_MEMBER = "erase_member"
    REPLACE_CARD = "replace_card"
    APPROVE = "approve"  # the second PIN on an adjustment above a manager's limit
    MANAGE_STAFF = "manage_staff"
    EDIT_RULES = "edit_rules"  # the programme: earning rule, rewards, tiers


_CASHIER = frozenset({Permission.SIGN_IN, Permission.UNDO_REDEMPTION})
_MANAGER = _CASHIER | {
    Permission.ADJUST,
    Permission.REVERSE,
    Permission.EDIT_MEMBER,
    Permission.MERGE_MEMBERS,
    Permission.ERASE_MEMBER,
    Permission.REPLACE_CARD,
    Permission.APPROVE,
    Permission.EDIT_RULES,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CASHIER: _CASHIER,
    Role.MANAGER: frozenset(_MANAGER),
    Role.ADMIN: frozenset(_MANAGER | {Permission.MANAGE_STAFF}),
}


def parse_role(text: str) -> Role:
    """Read a role name, case ignored.

    Raises:
        StaffError: the name is not cashier, manager or admin.
    """
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = ", ".join(role.value for role in Role)
        raise StaffError(f"invalid role {text!r}: use one of {names}") from None


def is_allowed(role: Role, permission: Permission) -> bool:
    """Tell whether a role may carry out an action."""
    return permission in ROLE_PERMISSIONS[role]


def normalize_staff_name(text: str) -> str:
    """Collapse spaces in a staff name and check its length.

    Raises:
        StaffError: the name is empty, too long or contains control characters.
    """
    name = " ".join(text.split())
    if not name:
        raise StaffError("missing staff name: type the person's name")
    if len(name) > STAFF_NAME_MAX_LENGTH:
        raise StaffError(
            f"staff name {name[:20]!r}... is too long: use at most"
            f" {STAFF_NAME_MAX_LENGTH} characters"
        )
    if not name.isprintable():
        raise StaffError(f"invalid staff name {name!r}: use printable characters only")
    return name


def validate_pin(pin: str) -> str:
    """Check that a PIN has 4 to 8 ASCII digits.

    The message never repeats the PIN, because a PIN typed into the wrong
    field must not end up on screen or in a log.

    Returns:
        The PIN without surrounding whitespace.

    Raises:
        StaffError: the PIN is not 4 to 8 digits.
    """
    digits = pin.strip()
    if not (
        PIN_MIN_DIGITS <= len(digits) <= PIN_MAX_DIGITS
        and digits.isascii()
        and digits.isdigit()
    ):
        raise StaffError(
            f"invalid PIN: use {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits (0-9)"
        )
    return digits

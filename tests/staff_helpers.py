"""Staff accounts and a lighter PIN hasher for the staff, manager and UI tests."""

from __future__ import annotations

from argon2 import PasswordHasher

from posloyalty.services import staff
from posloyalty.services.staff import Credentials

# Real argon2id with lighter parameters than the till's, so the many PIN
# checks in these tests do not take a third of a second each. The hash
# encodes its parameters, so verification works the same way.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

PINS = {
    "Alice": ("manager", "1234"),
    "Dave": ("manager", "2468"),
    "Bob": ("cashier", "5555"),
    "Carol": ("admin", "97531"),
}


def use_fast_hasher(monkeypatch) -> None:
    monkeypatch.setattr(staff, "PIN_HASHER", FAST_HASHER)


def add_people(ctx) -> None:
    """Add the accounts of ``PINS``."""
    for name, (role, pin) in PINS.items():
        staff.add_staff(ctx, name, role, pin)


def creds(name: str, pin: str | None = None) -> Credentials:
    """Credentials for one of ``PINS``, or with the given (wrong) PIN."""
    return Credentials(name, PINS[name][1] if pin is None else pin)


def audit_rows(ctx, action: str | None = None) -> list[tuple]:
    sql = "SELECT staff, action, member_id, sale_id, reason, details FROM audit_entry"
    params: tuple = ()
    if action is not None:
        sql += " WHERE action = ?"
        params = (action,)
    return ctx.db.execute_sql(sql + " ORDER BY id", params).fetchall()

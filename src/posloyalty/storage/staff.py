"""Tables for staff accounts, shifts and merged members.

NOTE: ``Staff.failed_pins`` and ``Staff.locked_until`` live in the database, so a
lockout survives closing and reopening the till.
"""

from __future__ import annotations

from peewee import AutoField, CharField, ForeignKeyField, IntegerField, TextField

from posloyalty.storage.fields import UTCDateTimeField
from posloyalty.storage.models import BaseModel, Member


class Staff(BaseModel):
    """A person who signs in at the till or approves a protected action."""

    id = AutoField()
    name = CharField()
    name_key = CharField(unique=True)  # casefolded name; names are never reused
    role = CharField()  # cashier, manager, admin
    pin_hash = TextField()  # argon2id encoded hash, never the PIN
    failed_pins = IntegerField(default=0)  # wrong PINs since the last good one
    locked_until = UTCDateTimeField(null=True)
    disabled_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class Shift(BaseModel):
    """A staff member signed in at one till, from sign-in to sign-out."""

    id = AutoField()
    staff = ForeignKeyField(Staff, backref="shifts", on_delete="RESTRICT")
    store = CharField()
    till = CharField()
    started_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("store", "till", "ended_at"), False),)


class MemberMerge(BaseModel):
    """A member merged into another; lookups of the merged one lead to the kept one."""

    merged = ForeignKeyField(
        Member, primary_key=True, backref="+", on_delete="RESTRICT"
    )
    kept = ForeignKeyField(Member, backref="merged_members", on_delete="RESTRICT")
    staff = CharField(null=True)
    merged_at = UTCDateTimeField()


STAFF_MODELS = [Staff, Shift, MemberMerge]


def create_staff_tables(db) -> None:
    """Create the staff, shift and member-merge tables (schema migration 3)."""
    db.create_tables(STAFF_MODELS)

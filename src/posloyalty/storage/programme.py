"""Tables for the programme document, what each sale earned on, and member extras.

NOTE: ``ProgrammeVersion`` rows are never updated. The programme of rule version
``v`` is the row with the highest ``version`` not above ``v``, so a change of
the base rule alone (``rules set``) keeps the programme it had.
"""

from __future__ import annotations

from peewee import BooleanField, CharField, IntegerField, TextField

from posloyalty.storage.fields import UTCDateTimeField
from posloyalty.storage.models import BaseModel


class ProgrammeVersion(BaseModel):
    """The programme document (JSON) that took effect at one rule version."""

    version = IntegerField(primary_key=True)
    document = TextField()
    staff = CharField(null=True)
    created_at = UTCDateTimeField()


class SaleEarning(BaseModel):
    """What a sale's points were computed from, as JSON, for ``explain`` and returns.

    ``inputs`` holds the basket lines, the local time, the tier and the money
    paid with points or a reward; ``factor`` is the exact points per minor unit
    of the eligible total, which partial returns take back at.
    """

    sale_id = CharField(primary_key=True)
    rule_version = IntegerField()
    inputs = TextField()
    factor = TextField()


class MemberProfile(BaseModel):
    """Programme details of a member that the core member row does not hold.

    Attributes:
        birth_month_day: ``MM-DD`` of the birthday, or ``None``.
        referred_by: id of the member who referred this one.
        referral_paid: the referral bonus was paid at this member's first sale.
        leaderboard_opt_in: the member agreed to appear on the store leaderboard.
        household_id: members with the same id share one wallet.
    """

    member_id = CharField(primary_key=True)
    birth_month_day = CharField(null=True)
    referred_by = CharField(null=True)
    referral_paid = BooleanField(default=False)
    leaderboard_opt_in = BooleanField(default=False)
    household_id = CharField(null=True, index=True)
    updated_at = UTCDateTimeField()


PROGRAMME_MODELS = [ProgrammeVersion, SaleEarning, MemberProfile]


def create_programme_tables(db) -> None:
    """Create the programme tables (schema migration 5)."""
    db.create_tables(PROGRAMME_MODELS)

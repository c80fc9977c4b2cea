"""The till's tables.

NOTE: rows of ``LedgerEntry`` and ``AuditEntry`` are never updated or deleted.
A correction is a new entry that points at the one it reverses.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DatabaseProxy,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from posloyalty.storage.fields import UTCDateTimeField

database_proxy = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Setting(BaseModel):
    """One configuration value, stored as text exactly as it was set."""

    key = CharField(primary_key=True)
    value = TextField()


class Member(BaseModel):
    """A loyalty member and the cached sum of their ledger entries.

    ``balance`` is updated in the same transaction as every ledger entry, and
    ``posloyalty verify`` checks that it equals the sum of the ledger.
    """

    id = CharField(primary_key=True)  # UUID
    external_id = CharField(null=True, index=True)
    phone = CharField(null=True, index=True)  # E.164
    name = TextField(default="")
    name_key = TextField(default="", index=True)  # casefolded name for search
    email = TextField(null=True)
    consent_email = BooleanField(default=False)
    consent_sms = BooleanField(default=False)
    is_demo = BooleanField(default=False)
    balance = IntegerField(default=0)  # whole points
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()  # last profile edit; later edit wins on sync
    erased_at = UTCDateTimeField(null=True)


class Card(BaseModel):
    """A card number issued to a member; a blocked card is refused at the till."""

    number = CharField(primary_key=True)
    member = ForeignKeyField(Member, backref="cards", on_delete="RESTRICT")
    issued_at = UTCDateTimeField()
    blocked_at = UTCDateTimeField(null=True)


class Sale(BaseModel):
    """A sale or a return recorded at a till or imported from a POS journal.

    Amounts are minor units; a return has a negative amount. ``source`` and
    ``external_ref`` together identify an imported invoice, so importing the
    same journal twice records nothing new.
    """

    id = CharField(primary_key=True)  # UUID
    source = CharField()
    external_ref = CharField()
    member = ForeignKeyField(Member, null=True, backref="sales", on_delete="RESTRICT")
    amount_minor = IntegerField()
    eligible_minor = IntegerField()
    currency = CharField(max_length=3)
    original_sale = ForeignKeyField(
        "self", null=True, backref="returns", on_delete="RESTRICT"
    )
    store = CharField()
    till = CharField()
    staff = CharField(null=True)
    occurred_at = UTCDateTimeField()
    recorded_at = UTCDateTimeField()

    class Meta:
        indexes = ((("source", "external_ref"), True),)


class LedgerEntry(BaseModel):
    """One immutable change of a member's points.

    ``chain_hash`` is a SHA-256 over the entry and the previous entry's hash of
    the same till, so an edited or removed entry breaks its till's chain.
    """

    id = CharField(primary_key=True)  # UUID
    member = ForeignKeyField(Member, backref="entries", on_delete="RESTRICT")
    kind = CharField()  # earn, redeem, adjust, reverse, expire, bonus
    points = IntegerField()  # signed whole points
    sale = ForeignKeyField(Sale, null=True, backref="entries", on_delete="RESTRICT")
    store = CharField()
    till = CharField()
    staff = CharField(null=True)
    reason = TextField(null=True)
    reverses = ForeignKeyField(
        "self", null=True, backref="reversals", on_delete="RESTRICT"
    )
    rule_version = IntegerField(null=True)
    created_at = UTCDateTimeField(index=True)
    prev_hash = CharField(null=True)
    chain_hash = CharField()

    class Meta:
        indexes = ((("store", "till"), False),)


class RuleVersion(BaseModel):
    """One saved version of the earning rule, as JSON; entries name the version."""

    version = IntegerField(primary_key=True)
    rule = TextField()
    created_at = UTCDateTimeField()


class AuditEntry(BaseModel):
    """Who did what, when and at which till; chained like the ledger."""

    id = AutoField()
    created_at = UTCDateTimeField()
    store = CharField()
    till = CharField()
    staff = CharField(null=True)
    action = CharField()
    member_id = CharField(null=True)
    sale_id = CharField(null=True)
    reason = TextField(null=True)
    details = TextField(null=True)  # JSON
    prev_hash = CharField(null=True)
    chain_hash = CharField()


class PrintJob(BaseModel):
    """A receipt or card waiting for the printer, written with the sale it prints."""

    id = AutoField()
    kind = CharField()  # receipt, card, test, slip
    sale = ForeignKeyField(Sale, null=True, backref="print_jobs", on_delete="RESTRICT")
    member = ForeignKeyField(
        Member, null=True, backref="print_jobs", on_delete="RESTRICT"
    )
    payload = TextField(null=True)  # JSON for jobs not built from a sale
    status = CharField(index=True)  # queued, printing, printed, failed
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    next_attempt_at = UTCDateTimeField(null=True)


class OutboxItem(BaseModel):
    """A ledger entry, sale or member not yet acknowledged by the head office."""

    id = AutoField()
    kind = CharField()  # entry, sale, member
    object_id = CharField()
    queued_at = UTCDateTimeField()

    class Meta:
        indexes = ((("kind", "object_id"), True),)


class SchemaVersion(BaseModel):
    """The migrations applied to this database."""

    version = IntegerField(primary_key=True)
    applied_at = UTCDateTimeField()


ALL_MODELS = [
    Setting,
    Member,
    Card,
    Sale,
    LedgerEntry,
    RuleVersion,
    AuditEntry,
    PrintJob,
    OutboxItem,
]

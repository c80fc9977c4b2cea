"""The head office's tables, on PostgreSQL or SQLite.

These models are separate from the till's: they add the server-assigned change
sequence, the till that sent each row and the tills' tokens.

NOTE: rows of ``LedgerEntry`` are never updated or deleted here either.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from posloyalty.storage.fields import UTCDateTimeField

server_proxy = DatabaseProxy()


class ServerModel(Model):
    class Meta:
        database = server_proxy
        legacy_table_names = False


class Till(ServerModel):
    """A till allowed to sync; only the SHA-256 of its token is stored."""

    id = AutoField()
    store = CharField()
    name = CharField()
    token_hash = CharField(unique=True)
    created_at = UTCDateTimeField()
    joined_at = UTCDateTimeField(null=True)
    last_seen_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("store", "name"), True),)


class ChainClaim(ServerModel):
    """The till whose ledger chain a (store, till) pair of names is.

    Each till's entries form one hash chain keyed by these names, so two tills
    must never send entries under the same pair.
    """

    store = CharField()
    till_name = CharField()
    till = ForeignKeyField(Till, on_delete="RESTRICT")

    class Meta:
        primary_key = False
        indexes = ((("store", "till_name"), True),)


class CardKey(ServerModel):
    """One of the programme's card keys (hex), which every joined till receives."""

    key_id = CharField(primary_key=True)
    secret_hex = CharField()
    from_till = ForeignKeyField(Till, null=True, on_delete="RESTRICT")
    created_at = UTCDateTimeField()


class ServerSetting(ServerModel):
    """One head-office setting, such as a part of the earning rule, as text."""

    key = CharField(primary_key=True)
    value = TextField()


class ChangeCounter(ServerModel):
    """The last change sequence number handed out.

    Writers lock this row before numbering rows, so numbers are handed out in
    commit order and a till that pulled up to a number never misses a row
    committed later with a smaller one.
    """

    name = CharField(primary_key=True)
    value = BigIntegerField()


class Member(ServerModel):
    """A member's profile as last edited anywhere, and the cached ledger sum."""

    id = CharField(primary_key=True)
    external_id = CharField(null=True, index=True)
    phone = CharField(null=True, index=True)
    name = TextField(default="")
    name_key = TextField(default="")
    email = TextField(null=True)
    consent_email = BooleanField(default=False)
    consent_sms = BooleanField(default=False)
    is_demo = BooleanField(default=False)
    balance = BigIntegerField(default=0)  # whole points
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    updated_by = IntegerField(null=True)  # the till whose edit this is
    erased_at = UTCDateTimeField(null=True)
    seq = BigIntegerField(index=True)


class Card(ServerModel):
    """A card number issued to a member at some till."""

    number = CharField(primary_key=True)
    member = ForeignKeyField(Member, backref="cards", on_delete="RESTRICT")
    issued_at = UTCDateTimeField()
    blocked_at = UTCDateTimeField(null=True)


class Sale(ServerModel):
    """A sale or return recorded at a till; amounts in minor units."""

    id = CharField(primary_key=True)
    source = CharField()
    external_ref = CharField()
    member_id = CharField(null=True, index=True)
    amount_minor = BigIntegerField()
    eligible_minor = BigIntegerField()
    currency = CharField(max_length=3)
    original_sale_id = CharField(null=True)
    store = CharField()
    till = CharField()
    staff = CharField(null=True)
    occurred_at = UTCDateTimeField()
    recorded_at = UTCDateTimeField()
    origin_till = IntegerField()
    seq = BigIntegerField(index=True)


class LedgerEntry(ServerModel):
    """A ledger entry exactly as the till wrote it, numbered on arrival.

    Only the id and the number are indexed, because every index slows the bulk
    insert of a push.
    """

    id = CharField(primary_key=True)
    member_id = CharField()
    kind = CharField()
    points = BigIntegerField()
    sale_id = CharField(null=True)
    store = CharField()
    till = CharField()
    staff = CharField(null=True)
    reason = TextField(null=True)
    reverses_id = CharField(null=True)
    rule_version = IntegerField(null=True)
    created_at = UTCDateTimeField()
    prev_hash = CharField(null=True)
    chain_hash = CharField()
    origin_till = IntegerField()
    seq = BigIntegerField(unique=True)
    received_at = UTCDateTimeField()


class SchemaVersion(ServerModel):
    """The server migrations applied to this database."""

    version = IntegerField(primary_key=True)
    applied_at = UTCDateTimeField()


ALL_MODELS = [
    Till,
    ChainClaim,
    CardKey,
    ServerSetting,
    ChangeCounter,
    Member,
    Card,
    Sale,
    LedgerEntry,
]

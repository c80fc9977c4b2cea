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
    """One card key per key id, as schema version 1 stored them.

    NOTE: migration 2 copies these rows to ``ProgrammeKey`` and drops the table;
    the model stays for migration 1.
    """

    key_id = CharField(primary_key=True)
    secret_hex = CharField()
    from_till = ForeignKeyField(Till, null=True, on_delete="RESTRICT")
    created_at = UTCDateTimeField()


class ServerSetting(ServerModel):
    """One head-office setting, such as a part of the earning rule, as text."""

    key = CharField(primary_key=True)
    value = TextField()


class ProgrammeKey(ServerModel):
    """One of the programme's card key secrets (hex); every joined till receives all.

    A key id may have several secrets, because shops that ran alone picked key
    ids by themselves. The lowest ``id`` of a key id is the one sent to tills
    that read a single secret per key id.
    """

    id = AutoField()
    key_id = CharField()
    secret_hex = CharField()
    from_till = ForeignKeyField(Till, null=True, on_delete="RESTRICT")
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("key_id", "secret_hex"), True),)


class RuleVersion(ServerModel):
    """One version of the rules set at head office: base rule and programme, as JSON.

    Numbers start at ``HEAD_OFFICE_FIRST_VERSION``, so they never meet the
    numbers a till gives its own versions. Rows are never updated.
    """

    version = IntegerField(primary_key=True)
    rules = TextField()
    programme = TextField()
    created_at = UTCDateTimeField()


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


class MemberProfile(ServerModel):
    """A member's programme details, as last edited anywhere; the later edit wins.

    ``seq`` numbers the row in the change sequence, so tills pull each edit.
    """

    member = ForeignKeyField(Member, primary_key=True, on_delete="RESTRICT")
    birth_month_day = CharField(null=True)
    referred_by = CharField(null=True)
    referral_paid = BooleanField(default=False)
    leaderboard_opt_in = BooleanField(default=False)
    household_id = CharField(null=True)
    updated_at = UTCDateTimeField()
    updated_by = IntegerField(null=True)  # the till whose edit this is
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

# Tables that migration 2 adds.
MODELS_OF_MIGRATION_2 = [ProgrammeKey, RuleVersion, MemberProfile]

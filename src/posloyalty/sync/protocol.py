"""The sync protocol between a till and the head office, shared by both sides.

NOTE: this module imports only the standard library, because the server imports
it and the till must start without the server's packages installed.

Sales and ledger entries travel as JSON arrays in the column order below, which
is much faster to encode and parse than one object per row when a till sends
100,000 entries. Members and cards are few and travel as objects. Times are the
till's stored UTC text (``YYYY-MM-DD HH:MM:SS.ffffff``), so the hash chain of a
ledger entry can be recomputed anywhere from exactly the text it was made from.

Endpoints (every request carries ``Authorization: Bearer <till token>``):

- ``POST /v1/join``: the till's card keys (every secret of every key id) and
  the highest head office rule version it stores in; the programme's keys, the
  till's registered store and till names, and the head office's rule versions
  after that one (base earning rule and programme document) out.
- ``POST /v1/push``: members, member profiles, cards, sales and entries in;
  the ids the server holds out.
- ``GET /v1/pull?after=CURSOR&limit=N``: what other tills recorded after the
  cursor, one bounded page at a time.
"""

from __future__ import annotations

API_PREFIX = "/v1"

ENTRY_COLUMNS = (
    "id",
    "member_id",
    "kind",
    "points",
    "sale_id",
    "store",
    "till",
    "staff",
    "reason",
    "reverses_id",
    "rule_version",
    "created_at",
    "prev_hash",
    "chain_hash",
)

SALE_COLUMNS = (
    "id",
    "source",
    "external_ref",
    "member_id",
    "amount_minor",
    "eligible_minor",
    "currency",
    "original_sale_id",
    "store",
    "till",
    "staff",
    "occurred_at",
    "recorded_at",
)

MEMBER_FIELDS = (
    "id",
    "external_id",
    "phone",
    "name",
    "name_key",
    "email",
    "consent_email",
    "consent_sms",
    "is_demo",
    "created_at",
    "updated_at",
    "updated_by",
    "erased_at",
)

CARD_FIELDS = ("number", "member_id", "issued_at", "blocked_at")

# A member's programme details; the later ``updated_at`` wins, ties broken by
# ``updated_by``, and a referral paid at any till stays paid.
PROFILE_FIELDS = (
    "member_id",
    "birth_month_day",
    "referred_by",
    "referral_paid",
    "leaderboard_opt_in",
    "household_id",
    "updated_at",
    "updated_by",
)

# The most rows of each kind one push may carry, and the largest pull page.
MAX_PUSH_ROWS = 10_000
MAX_PULL_LIMIT = 2_000
DEFAULT_PULL_LIMIT = 500

REVOKED_MESSAGE = (
    "till token rejected: the till was revoked or the token is wrong. Ask head"
    " office for a new token (posloyalty-server add-till) and set it with"
    " posloyalty config set server URL --token TOKEN"
)

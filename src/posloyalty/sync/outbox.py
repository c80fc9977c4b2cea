"""Reading the till's outbox into a push, and removing what the server holds.

NOTE: an outbox item is removed only when the server's reply names its id. A
reply lost on the way (a dropped connection, a timeout) therefore leaves the item
queued, and the next sync sends it again. The server ignores ids it already has.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from posloyalty.services.context import TillContext
from posloyalty.sync.protocol import (
    CARD_FIELDS,
    ENTRY_COLUMNS,
    PROFILE_FIELDS,
    SALE_COLUMNS,
)

logger = logging.getLogger(__name__)

_KIND_OF_KEY = {
    "entries": "entry",
    "sales": "sale",
    "members": "member",
    "profiles": "profile",
}
_ENTRY_SELECT = (
    "SELECT " + ", ".join(ENTRY_COLUMNS) + " FROM ledger_entry"
    " WHERE id IN (SELECT value FROM json_each(?)) ORDER BY rowid"
)
_SALE_SELECT = (
    "SELECT " + ", ".join(SALE_COLUMNS) + " FROM sale"
    " WHERE id IN (SELECT value FROM json_each(?))"
)
_MEMBER_SELECT = (
    "SELECT id, external_id, phone, name, name_key, email, consent_email,"
    " consent_sms, is_demo, created_at, updated_at, updated_by, erased_at"
    " FROM member WHERE id IN (SELECT value FROM json_each(?))"
)
_CARD_SELECT = (
    "SELECT " + ", ".join(CARD_FIELDS) + " FROM card"
    " WHERE member_id IN (SELECT value FROM json_each(?)) ORDER BY issued_at"
)
_PROFILE_SELECT = (
    "SELECT " + ", ".join(PROFILE_FIELDS) + " FROM member_profile"
    " WHERE member_id IN (SELECT value FROM json_each(?))"
)
_QUEUED_SELECT = (
    "SELECT object_id, id FROM outbox_item WHERE kind = ?"
    " AND object_id IN (SELECT value FROM json_each(?))"
)


@dataclass
class PushBatch:
    """One push request and the outbox items it covers.

    Attributes:
        body: the JSON body of ``POST /v1/push``.
        after: the outbox item id the page starts after.
        last_item: the highest outbox item id of the page.
        queued: (kind, object id) to outbox item id, for every queued row sent.
        member_versions: ``updated_at`` of each member sent, as stored text.
        profile_versions: ``updated_at|referral_paid`` of each profile sent.
    """

    body: dict
    after: int = 0
    last_item: int = 0
    queued: dict[tuple[str, str], int] = field(default_factory=dict)
    member_versions: dict[str, str] = field(default_factory=dict)
    profile_versions: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        keys = ("entries", "sales", "members", "profiles")
        return sum(len(self.body.get(key, ())) for key in keys)


def _queued(ctx: TillContext, kind: str, ids: Iterable[str]) -> dict[str, int]:
    rows = ctx.db.execute_sql(_QUEUED_SELECT, (kind, json.dumps(sorted(ids))))
    return dict(rows.fetchall())


def build_push_batch(
    ctx: TillContext,
    limit: int,
    force_members: Iterable[str] = (),
    after: int = 0,
    in_flight: PushBatch | None = None,
) -> PushBatch | None:
    """Read up to ``limit`` outbox items after item ``after``; None when none are left.

    An entry goes with its sale and member when those are still queued, because
    the server already has those that are not. ``force_members`` adds members
    the server reported missing. Sales and members that ``in_flight``, the
    page still on its way, carries are left out.
    """
    sending = set(in_flight.queued) if in_flight is not None else set()
    db = ctx.db
    with db.atomic("DEFERRED"):
        items = db.execute_sql(
            "SELECT id, kind, object_id FROM outbox_item WHERE id > ?"
            " ORDER BY id LIMIT ?",
            (after, limit),
        ).fetchall()
        if not items:
            return None
        queued = {(kind, object_id): item_id for item_id, kind, object_id in items}
        entry_ids = [oid for (kind, oid) in queued if kind == "entry"]
        entries = [
            list(r) for r in db.execute_sql(_ENTRY_SELECT, (json.dumps(entry_ids),))
        ]

        sale_ids = {oid for (kind, oid) in queued if kind == "sale"}
        wanted = {row[4] for row in entries if row[4]} - sale_ids
        for sale_id, item_id in _queued(ctx, "sale", wanted).items():
            if ("sale", sale_id) not in sending:
                queued[("sale", sale_id)] = item_id
                sale_ids.add(sale_id)
        sales = [
            list(r)
            for r in db.execute_sql(_SALE_SELECT, (json.dumps(sorted(sale_ids)),))
        ]
        originals = {row[7] for row in sales if row[7]} - sale_ids
        for sale_id, item_id in _queued(ctx, "sale", originals).items():
            queued[("sale", sale_id)] = item_id
            sales.extend(
                list(r) for r in db.execute_sql(_SALE_SELECT, (json.dumps([sale_id]),))
            )
        # Originals first, so a return never arrives before the sale it names.
        sales.sort(key=lambda row: row[7] is not None)

        profile_ids = sorted(oid for (kind, oid) in queued if kind == "profile")
        profiles = []
        profile_versions = {}
        for row in db.execute_sql(_PROFILE_SELECT, (json.dumps(profile_ids),)):
            profile = dict(zip(PROFILE_FIELDS, row, strict=True))
            profile["referral_paid"] = bool(profile["referral_paid"])
            profile["leaderboard_opt_in"] = bool(profile["leaderboard_opt_in"])
            # None: edited at this till, so the server names the sender.
            profile["updated_by"] = None
            profiles.append(profile)
            profile_versions[profile["member_id"]] = (
                f"{profile['updated_at']}|{int(profile['referral_paid'])}"
            )

        member_ids = {oid for (kind, oid) in queued if kind == "member"}
        wanted = {row[1] for row in entries} | {row[3] for row in sales if row[3]}
        wanted |= set(profile_versions)
        for member_id, item_id in _queued(ctx, "member", wanted - member_ids).items():
            if ("member", member_id) not in sending:
                queued[("member", member_id)] = item_id
                member_ids.add(member_id)
        edited_here = set(member_ids)
        member_ids.update(force_members)
        members = []
        member_versions = {}
        member_rows = db.execute_sql(_MEMBER_SELECT, (json.dumps(sorted(member_ids)),))
        for row in member_rows:
            (member_id, external_id, phone, name, key, email, consent_email,
             consent_sms, is_demo, created_at, updated_at, updated_by,
             erased_at) = row  # fmt: skip
            members.append(
                {
                    "id": member_id,
                    "external_id": external_id,
                    "phone": phone,
                    "name": name,
                    "name_key": key,
                    "email": email,
                    "consent_email": bool(consent_email),
                    "consent_sms": bool(consent_sms),
                    "is_demo": bool(is_demo),
                    "created_at": created_at,
                    "updated_at": updated_at,
                    # None: edited at this till, so the server names the sender.
                    "updated_by": None if member_id in edited_here else updated_by,
                    "erased_at": erased_at,
                }
            )
            member_versions[member_id] = updated_at
        cards = [
            dict(zip(CARD_FIELDS, row, strict=True))
            for row in db.execute_sql(_CARD_SELECT, (json.dumps(sorted(member_ids)),))
        ]
    body = {
        "members": members,
        "profiles": profiles,
        "cards": cards,
        "sales": sales,
        "entries": entries,
    }
    return PushBatch(
        body, after, items[-1][0], queued, member_versions, profile_versions
    )


def acknowledge(ctx: TillContext, batch: PushBatch, held: dict) -> int:
    """Remove the outbox items of rows the server's reply names; returns how many.

    A member or profile edited again while the push was on its way keeps its
    item, so the newer edit is sent next time.
    """
    removable: list[int] = []
    for key, kind in _KIND_OF_KEY.items():
        for object_id in held.get(key) or []:
            item_id = batch.queued.get((kind, object_id))
            if item_id is not None:
                removable.append(item_id)
    if not removable:
        return 0
    db = ctx.db
    with db.atomic():
        cursor = db.execute_sql(
            "DELETE FROM outbox_item WHERE id IN (SELECT value FROM json_each(?))"
            " AND (kind <> 'member' OR EXISTS (SELECT 1 FROM member m"
            " WHERE m.id = outbox_item.object_id AND m.updated_at = json_extract(?,"
            " '$.\"' || outbox_item.object_id || '\"')))"
            " AND (kind <> 'profile' OR EXISTS (SELECT 1 FROM member_profile p"
            " WHERE p.member_id = outbox_item.object_id"
            " AND p.updated_at || '|' || p.referral_paid = json_extract(?,"
            " '$.\"' || outbox_item.object_id || '\"')))",
            (
                json.dumps(removable),
                json.dumps(batch.member_versions),
                json.dumps(batch.profile_versions),
            ),
        )
        removed = cursor.rowcount
    logger.info("server acknowledged %d outbox items", removed)
    return removed

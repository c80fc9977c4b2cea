"""Pushed entries arrive with every text value exactly as the till sent it."""

from __future__ import annotations

import uuid

import pytest

from posloyalty.domain.chain import entry_hash, ledger_entry_fields
from posloyalty.server import models, reports

# Values that the bulk load must escape or keep apart from NULL.
AWKWARD_TEXT = ["tab\there", "two\nlines", "carriage\rreturn", "back\\slash",
                "\\N", "\\.", "", "naïve café", "comma, \"quote\""]  # fmt: skip


def _entry(till, member_id: str, points: int, staff: str | None, reason: str | None):
    entry_id = str(uuid.uuid4())
    created = till.tick()
    fields = ledger_entry_fields(entry_id, member_id, "adjust", points, None,
                                 till.store, till.name, staff, reason, None, created)  # fmt: skip
    chain = entry_hash(till.last_hash, fields)
    row = [entry_id, member_id, "adjust", points, None, till.store, till.name, staff,
           reason, None, None, created, till.last_hash, chain]  # fmt: skip
    till.last_hash = chain
    return row


def _push(api, till, members, entries):
    body = {"members": members, "entries": entries, "sales": [], "cards": []}
    reply = api.post("/v1/push", json=body, headers=till.headers)
    assert reply.status_code == 200, reply.text
    return reply.json()["held"]["entries"]


@pytest.mark.parametrize("awkward", [False, True], ids=["plain", "awkward"])
def test_pushed_text_is_stored_unchanged(api, new_till, awkward):
    till = new_till("Leeds", "Front")
    member = till.member()
    values = AWKWARD_TEXT if awkward else ["plain", "text"]
    entries = [
        _entry(till, member["id"], n + 1, staff, reason)
        for n, (staff, reason) in enumerate(
            [(None, None), *((v, v) for v in values), ("Ann", None)]
        )
    ]
    held = _push(api, till, [member], entries)

    assert held == [row[0] for row in entries]
    stored = {
        row.id: (row.staff, row.reason, row.points, row.rule_version, row.prev_hash)
        for row in models.LedgerEntry.select()
    }
    assert stored == {row[0]: (row[7], row[8], row[3], row[10], row[12])
                      for row in entries}  # fmt: skip
    assert models.Member.get_by_id(member["id"]).balance == sum(r[3] for r in entries)
    assert reports.verify() == []

"""The sync protocol through FastAPI's TestClient, on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest

from posloyalty.domain.rule_versions import HEAD_OFFICE_FIRST_VERSION
from posloyalty.server import models, reports, tills
from posloyalty.sync.protocol import REVOKED_MESSAGE
from server_helpers import free_key_id


def push(api, till, members=(), entries=(), sales=(), cards=()):
    body = {"members": list(members), "entries": list(entries), "sales": list(sales),
            "cards": list(cards)}  # fmt: skip
    return api.post("/v1/push", json=body, headers=till.headers)


def server_balance(member_id: str) -> int:
    return models.Member.get_by_id(member_id).balance


def test_join_returns_keys_names_and_rules(api, new_till):
    till = new_till("Leeds", "Front")
    tills.set_rules({"earn_rate": "2", "excluded_skus": "POST"})
    key_id = free_key_id(api, till)
    reply = api.post(
        "/v1/join", json={"keys": {key_id: "ab" * 32}}, headers=till.headers
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["store"] == "Leeds"
    assert body["till"] == "Front"
    assert body["keys"][key_id] == "ab" * 32
    assert len(body["keys"]) == 2  # the programme's own key and the till's
    assert body["key_conflicts"] == []
    assert body["rules"] == {"earn_rate": "2", "excluded_skus": "POST",
                             "minimum_spend": "0", "point_value": "0.01"}  # fmt: skip
    assert body["rule_version"] == HEAD_OFFICE_FIRST_VERSION
    assert [v["version"] for v in body["rule_versions"]] == [HEAD_OFFICE_FIRST_VERSION]


def test_join_reports_a_clashing_key(api, new_till):
    first, second = new_till(), new_till()
    key_id = free_key_id(api, first)
    api.post("/v1/join", json={"keys": {key_id: "ab" * 32}}, headers=first.headers)
    reply = api.post(
        "/v1/join", json={"keys": {key_id: "cd" * 32}}, headers=second.headers
    )
    assert reply.json()["key_conflicts"] == [key_id]
    assert reply.json()["keys"][key_id] == "ab" * 32


@pytest.mark.parametrize("header", ["", "Bearer nope", "Basic abc"])
def test_unknown_token_gets_401(api, header):
    reply = api.get("/v1/pull", headers={"Authorization": header} if header else {})
    assert reply.status_code == 401
    assert reply.json()["detail"] == REVOKED_MESSAGE


def test_revoked_till_gets_401(api, new_till):
    till = new_till("Leeds", "Old")
    assert api.get("/v1/pull", headers=till.headers).status_code == 200
    tills.revoke_till("Leeds", "Old")
    reply = api.get("/v1/pull", headers=till.headers)
    assert reply.status_code == 401
    assert "revoked" in reply.json()["detail"]


def test_till_added_after_start_is_accepted(api):
    added = tills.add_till("York", "Late")
    reply = api.get("/v1/pull", headers={"Authorization": f"Bearer {added.token}"})
    assert reply.status_code == 200


def test_push_stores_entries_and_lists_held_ids(api, new_till):
    till = new_till()
    member = till.member()
    entries = [till.entry(member["id"], points) for points in (10, 20, 30)]
    reply = push(api, till, [member], entries)
    assert reply.status_code == 200, reply.text
    held = reply.json()["held"]
    assert held["entries"] == [row[0] for row in entries]
    assert held["members"] == [member["id"]]
    assert server_balance(member["id"]) == 60
    seqs = [models.LedgerEntry.get_by_id(row[0]).seq for row in entries]
    assert seqs == sorted(seqs)
    assert reports.verify() == []


def test_same_batch_twice_counts_once(api, new_till):
    till = new_till()
    member = till.member()
    entries = [till.entry(member["id"], 25)]
    first = push(api, till, [member], entries)
    second = push(api, till, [member], entries)
    assert first.json() == second.json()
    assert models.LedgerEntry.select().count() == 1
    assert server_balance(member["id"]) == 25
    assert reports.verify() == []


def test_resend_with_new_entries_inserts_only_new(api, new_till):
    till = new_till()
    member = till.member()
    old = [till.entry(member["id"], 5)]
    push(api, till, [member], old)
    new = [till.entry(member["id"], 7)]
    reply = push(api, till, [], old + new)
    assert reply.json()["held"]["entries"] == [old[0][0], new[0][0]]
    assert server_balance(member["id"]) == 12
    assert reports.verify() == []


def test_push_naming_unknown_member_lists_it(api, new_till):
    till = new_till()
    ghost = till.member()
    reply = push(api, till, [], [till.entry(ghost["id"], 5)])
    assert reply.status_code == 422
    assert reply.json()["missing_members"] == [ghost["id"]]
    assert models.LedgerEntry.select().count() == 0


def test_push_into_another_tills_chain_is_rejected(api, new_till):
    first, second = new_till("Leeds", "A"), new_till("York", "B")
    member = first.member()
    push(api, first, [member], [first.entry(member["id"], 5)])
    second.store, second.name = "Leeds", "A"
    reply = push(api, second, [], [second.entry(member["id"], 5)])
    assert reply.status_code == 409
    assert "another till" in reply.json()["detail"]


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param({3: 1.5}, "points must be whole", id="fractional-points"),
        pytest.param({3: 2**63 - 1}, "points beyond", id="huge-points"),
        pytest.param({2: "gift"}, "unknown kind", id="unknown-kind"),
        pytest.param({11: "2025-03-29"}, "created_at", id="short-time"),
        pytest.param({13: None}, "chain_hash", id="missing-hash"),
    ],
)
def test_malformed_entry_is_rejected(api, new_till, change, message):
    till = new_till()
    member = till.member()
    row = till.entry(member["id"], 5)
    for index, value in change.items():
        row[index] = value
    reply = push(api, till, [member], [row])
    assert reply.status_code == 422
    assert message in reply.json()["detail"]
    assert models.LedgerEntry.select().count() == 0


def test_invalid_json_is_rejected(api, new_till):
    till = new_till()
    reply = api.post("/v1/push", content=b"{not json", headers=till.headers)
    assert reply.status_code == 422
    assert "invalid JSON" in reply.json()["detail"]


def test_pull_returns_other_tills_pages_in_order(api, new_till):
    leeds, york = new_till("Leeds", "A"), new_till("York", "B")
    member = leeds.member()
    entries = [leeds.entry(member["id"], n) for n in range(1, 8)]
    push(api, leeds, [member], entries)

    own = api.get("/v1/pull", params={"after": 0, "limit": 3}, headers=leeds.headers)
    assert own.json()["entries"] == []

    cursor, pulled, pages = 0, [], 0
    while True:
        page = api.get(
            "/v1/pull", params={"after": cursor, "limit": 3}, headers=york.headers
        ).json()
        pages += 1
        assert len(page["entries"]) + len(page["sales"]) <= 3
        assert page["cursor"] >= cursor
        if page["entries"]:
            assert [m["id"] for m in page["members"]] == [member["id"]]
        pulled += page["entries"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert [row[0] for row in pulled] == [row[0] for row in entries]
    assert pages >= 3
    again = api.get("/v1/pull", params={"after": cursor}, headers=york.headers).json()
    assert again["entries"] == []
    assert again["more"] is False


@pytest.mark.parametrize("params", [{"after": -1}, {"limit": 0}, {"limit": 100_000}])
def test_pull_rejects_bad_cursor_or_limit(api, new_till, params):
    reply = api.get("/v1/pull", params=params, headers=new_till().headers)
    assert reply.status_code == 422


def test_later_profile_edit_wins(api, new_till):
    leeds, york = new_till("Leeds", "A"), new_till("York", "B")
    member = leeds.member("Ann Old", updated_at="2025-03-29 12:00:00.000000")
    push(api, leeds, [member])
    newer = {**member, "name": "Ann New", "updated_at": "2025-03-29 13:00:00.000000"}
    push(api, york, [newer])
    older = {**member, "name": "Ann Older", "updated_at": "2025-03-29 11:00:00.000000"}
    push(api, leeds, [older])
    assert models.Member.get_by_id(member["id"]).name == "Ann New"


def test_profile_tie_is_broken_by_till_id(api, new_till):
    low, high = new_till("Leeds", "A"), new_till("York", "B")
    member = low.member("Ann", updated_at="2025-03-29 12:00:00.000000")
    push(api, high, [{**member, "name": "From high"}])
    push(api, low, [{**member, "name": "From low"}])
    assert models.Member.get_by_id(member["id"]).name == "From high"


def test_two_offline_redemptions_flag_the_member(api, new_till):
    leeds, york = new_till("Leeds", "A"), new_till("York", "B")
    member = leeds.member()
    push(api, leeds, [member], [leeds.entry(member["id"], 100, "earn")])
    push(api, leeds, [], [leeds.entry(member["id"], -80, "redeem")])
    push(api, york, [], [york.entry(member["id"], -80, "redeem")])
    assert server_balance(member["id"]) == -60
    rows = reports.members_below_zero()
    assert [(row[0], row[-1]) for row in rows] == [(member["id"], -60)]
    assert reports.verify() == []


def test_export_balances_has_the_tills_columns(api, new_till):
    import io

    from posloyalty.services.exports import BALANCE_COLUMNS

    till = new_till()
    member = till.member()
    card = {"number": "1" * 22, "member_id": member["id"],
            "issued_at": member["created_at"], "blocked_at": None}  # fmt: skip
    push(api, till, [member], [till.entry(member["id"], 42)], cards=[card])
    out = io.StringIO()
    assert reports.write_balances_csv(out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(BALANCE_COLUMNS)
    assert lines[1] == f"{member['id']},,{'1' * 22},+447700900123,Ann,42"


def test_verify_finds_an_edited_entry(api, new_till):
    till = new_till()
    member = till.member()
    entries = [till.entry(member["id"], 10), till.entry(member["id"], 20)]
    push(api, till, [member], entries)
    models.LedgerEntry.update(points=99).where(
        models.LedgerEntry.id == entries[0][0]
    ).execute()
    problems = reports.verify()
    assert any("breaks at entry" in line for line in problems)
    assert any("cached balance 30" in line for line in problems)

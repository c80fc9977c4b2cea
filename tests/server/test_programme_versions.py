"""Head office rule versions, member profiles and card key secrets, via the API and CLI."""

from __future__ import annotations

import json

import pytest

from posloyalty.domain.rule_versions import HEAD_OFFICE_FIRST_VERSION
from posloyalty.server import models, tills
from posloyalty.server.errors import ServerError
from server_helpers import free_key_id
from sync_helpers import check, run

V1 = HEAD_OFFICE_FIRST_VERSION


def join(api, till, keys=None, after=0):
    body = {"keys": keys or {}, "rule_versions_after": after}
    reply = api.post("/v1/join", json=body, headers=till.headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def push(api, till, **rows):
    reply = api.post("/v1/push", json=rows, headers=till.headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_versions_carry_rule_and_programme(api, new_till):
    tills.set_rules({"earn_rate": "2"})
    assert tills.set_programme({"expiry_months": 12}) == V1 + 1
    tills.set_rules({"minimum_spend": "5"})

    body = join(api, new_till())
    assert body["rule_version"] == V1 + 2
    versions = body["rule_versions"]
    assert [v["version"] for v in versions] == [V1, V1 + 1, V1 + 2]
    assert versions[0]["programme"]["expiry_months"] == 0
    assert versions[1]["programme"]["expiry_months"] == 12
    assert versions[1]["rules"]["earn_rate"] == "2"
    assert versions[2]["rules"]["minimum_spend"] == "5"
    assert versions[2]["programme"]["expiry_months"] == 12

    later = join(api, new_till(), after=V1 + 1)
    assert [v["version"] for v in later["rule_versions"]] == [V1 + 2]


@pytest.mark.parametrize(
    "document, message",
    [
        pytest.param([], "write a JSON object", id="not-an-object"),
        pytest.param({"expiry_months": -1}, "expiry", id="negative-expiry"),
        pytest.param({"rewards": [{"code": "x"}]}, "reward", id="incomplete-reward"),
    ],
)
def test_set_programme_rejects_invalid_document(api, document, message):
    with pytest.raises(ServerError, match=message):
        tills.set_programme(document)
    assert models.RuleVersion.select().count() == 0


def test_join_returns_every_secret_of_a_key_id(api, new_till):
    first, second = new_till(), new_till()
    key_id = free_key_id(api, first)
    join(api, first, {key_id: ["ab" * 32]})
    body = join(api, second, {key_id: ["cd" * 32]})
    assert body["key_secrets"][key_id] == ["ab" * 32, "cd" * 32]
    assert body["keys"][key_id] == "ab" * 32
    assert body["key_conflicts"] == [key_id]
    again = join(api, first, {key_id: "ab" * 32})
    assert again["key_secrets"][key_id] == ["ab" * 32, "cd" * 32]


def profile(member_id: str, updated_at: str, **values) -> dict:
    return {"member_id": member_id, "birth_month_day": None, "referred_by": None,
            "referral_paid": False, "leaderboard_opt_in": False,
            "household_id": None, "updated_at": updated_at, "updated_by": None,
            **values}  # fmt: skip


def test_profile_later_edit_wins_and_paid_stays(api, new_till):
    leeds, york = new_till("Leeds"), new_till("York")
    member = leeds.member()
    early, late = leeds.tick(), leeds.tick()
    push(api, leeds, members=[member],
         profiles=[profile(member["id"], late, birth_month_day="04-23")])  # fmt: skip
    reply = push(api, york, profiles=[profile(member["id"], early,
                 birth_month_day="01-01", referral_paid=True)])  # fmt: skip
    assert reply["held"]["profiles"] == [member["id"]]

    stored = models.MemberProfile.get_by_id(member["id"])
    assert stored.birth_month_day == "04-23"
    assert stored.referral_paid is True

    page = api.get("/v1/pull", headers=york.headers).json()
    assert [p["birth_month_day"] for p in page["profiles"]] == ["04-23"]
    assert page["profiles"][0]["referral_paid"] is True
    assert member["id"] in {m["id"] for m in page["members"]}


def test_profile_of_unknown_member_is_rejected(api, new_till):
    till = new_till()
    reply = api.post(
        "/v1/push",
        json={"profiles": [profile("nobody", till.tick())]},
        headers=till.headers,
    )
    assert reply.status_code == 422
    assert reply.json()["missing_members"] == ["nobody"]


def test_rules_programme_command(server_url, tmp_path):
    document = tmp_path / "programme.json"
    document.write_text(json.dumps({"expiry_months": 18}))
    out = check("posloyalty-server", "--database", server_url, "rules", "programme",
                str(document))  # fmt: skip
    assert f"rule_version={V1}" in out
    assert '"expiry_months": 18' in out
    shown = check("posloyalty-server", "--database", server_url, "rules", "show")
    assert '"expiry_months": 18' in shown
    assert "earn_rate=1" in shown


@pytest.mark.parametrize(
    "content, message",
    [
        pytest.param(None, "cannot read programme file", id="missing"),
        pytest.param("{not json", "invalid JSON in programme file", id="bad-json"),
        pytest.param('{"expiry_months": "soon"}', "expiry", id="bad-value"),
    ],
)
def test_rules_programme_rejects_bad_file(server_url, tmp_path, content, message):
    path = tmp_path / "programme.json"
    if content is not None:
        path.write_text(content)
    result = run("posloyalty-server", "--database", server_url, "rules", "programme",
                 str(path))  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_migration_keeps_rules_and_key_of_schema_one(server_url, monkeypatch):
    from posloyalty.server import database

    db = database.connect_url(server_url, max_connections=2)
    models.server_proxy.initialize(db)
    with db.connection_context():
        monkeypatch.setattr(database, "MIGRATIONS", database.MIGRATIONS[:1])
        database.migrate(db)
        key = models.CardKey.get()
        models.ServerSetting.create(key="earn_rate", value="2")
        models.ServerSetting.create(key="rule_version", value="3")
        models.ServerSetting.create(key="other", value="kept")
        monkeypatch.undo()
        database.migrate(db)

        assert [(k.key_id, k.secret_hex) for k in models.ProgrammeKey.select()] == [
            (key.key_id, key.secret_hex)
        ]
        rules, version = tills.read_rules()
        assert version == V1
        assert rules["earn_rate"] == "2"
        assert rules["point_value"] == "0.01"
        assert [s.key for s in models.ServerSetting.select()] == ["other"]
        assert models.SchemaVersion.select().count() == 2
    getattr(db, "close_all", db.close)()


def test_below_zero_report_looks_at_household_wallet(api, new_till):
    from posloyalty.server import reports

    till = new_till("Leeds")
    ann, bob, cat = till.member("Ann"), till.member("Bob"), till.member("Cat")
    stamp = till.tick()
    push(
        api, till, members=[ann, bob, cat],
        entries=[till.entry(ann["id"], -30), till.entry(bob["id"], 50),
                 till.entry(cat["id"], -5)],
        profiles=[profile(ann["id"], stamp, household_id="SMITH"),
                  profile(bob["id"], stamp, household_id="SMITH")],
    )  # fmt: skip
    assert [row[0] for row in reports.members_below_zero()] == [cat["id"]]

    push(api, till, entries=[till.entry(bob["id"], -40)])
    listed = [row[0] for row in reports.members_below_zero()]
    assert listed == [ann["id"], cat["id"]]

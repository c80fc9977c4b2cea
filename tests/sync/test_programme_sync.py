"""Head office rule versions, member profiles and clashing card keys through a real sync."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from conftest import FakeClock
from ledger_helpers import enrol
from posloyalty import paths
from posloyalty.domain.cards import CardKeyring
from posloyalty.domain.rule_versions import HEAD_OFFICE_FIRST_VERSION
from posloyalty.services import members, sales
from posloyalty.services.engagement import set_member_extras
from posloyalty.services.errors import RejectedError
from posloyalty.services.explain import explain_sale
from posloyalty.services.ledger import verify
from posloyalty.services.programme import (
    programme_document,
    rules_of_version,
    save_programme,
)
from posloyalty.storage.keys import load_or_create_keyring, save_keyring
from posloyalty.storage.programme import MemberProfile
from posloyalty.sync.client import run_sync
from sync_helpers import join, open_till, postgres_rows

V1 = HEAD_OFFICE_FIRST_VERSION

PROGRAMME = {
    "rewards": [{"code": "coffee", "name": "Free coffee", "kind": "free_item",
                 "points_cost": 150, "value_minor": 250, "sku": "COF1"}],
    "expiry_months": 12,
}  # fmt: skip


def steps_of(explanation) -> dict[str, str]:
    return dict(explanation.steps)


def test_programme_reaches_tills_and_explains_pulled_sale(tmp_path, head_office):
    from posloyalty.server import tills

    tills.set_rules({"earn_rate": "2"})
    assert tills.set_programme(PROGRAMME) == V1 + 1

    leeds = open_till(tmp_path / "leeds")
    join(leeds, head_office, "Leeds", "Front")
    report = run_sync(leeds)
    assert report.programme_changed
    assert leeds.settings.rule_version == V1 + 1
    assert [r["code"] for r in programme_document(leeds)["rewards"]] == ["COFFEE"]
    assert programme_document(leeds)["expiry_months"] == 12
    member = enrol(leeds)
    sale = sales.record_sale(leeds, sales.SaleRequest(member.id, 1000))
    assert sale.points_earned == 20
    run_sync(leeds)
    leeds.close()

    tills.set_rules({"earn_rate": "3"})
    york = open_till(tmp_path / "york")
    join(york, head_office, "York", "Back")
    run_sync(york)
    assert york.settings.rule_version == V1 + 2
    assert york.settings.get("earn_rate") == "3"

    explanation = explain_sale(york, sale.sale_id)
    assert explanation.rule_version == V1 + 1
    assert steps_of(explanation)["rule version"] == str(V1 + 1)
    assert steps_of(explanation)["earn rate"] == "2 points per 1.00"
    assert explanation.matches
    old = rules_of_version(york, V1 + 1)
    assert old.version == V1 + 1
    assert [r.code for r in old.programme.rewards] == ["COFFEE"]
    assert rules_of_version(york, V1).programme.rewards == ()
    york.close()


def test_joined_till_rejects_own_programme_edit(tmp_path, head_office):
    from posloyalty.server import tills

    tills.set_programme(PROGRAMME)
    ctx = open_till(tmp_path / "leeds")
    join(ctx, head_office, "Leeds", "Front")
    run_sync(ctx)
    with pytest.raises(RejectedError, match="posloyalty-server rules programme"):
        save_programme(ctx, {"expiry_months": 3})
    assert programme_document(ctx)["expiry_months"] == 12
    ctx.close()


def test_till_numbers_own_versions_below_head_office(tmp_path, head_office):
    from posloyalty.server import tills

    ctx = open_till(tmp_path / "leeds")
    own = ctx.settings.rule_version + 1
    save_programme(ctx, {"expiry_months": 6})
    assert ctx.settings.rule_version == own
    tills.set_programme(PROGRAMME)
    join(ctx, head_office, "Leeds", "Front")
    run_sync(ctx)
    assert ctx.settings.rule_version == V1

    # Entries made before joining are still explained with the till's own rules.
    assert rules_of_version(ctx, V1).programme.expiry_months == 12
    assert rules_of_version(ctx, own).programme.expiry_months == 6
    ctx.close()


def test_standalone_till_keeps_its_programme(tmp_path):
    ctx = open_till(tmp_path / "alone")
    own = ctx.settings.rule_version + 1
    save_programme(ctx, PROGRAMME)
    assert ctx.settings.rule_version == own
    assert programme_document(ctx)["expiry_months"] == 12
    ctx.close()


def profile_of(ctx, member_id: str) -> MemberProfile:
    return MemberProfile.get(MemberProfile.member_id == member_id)


def test_member_profile_travels_and_later_edit_wins(tmp_path, head_office):
    clock = FakeClock(datetime(2025, 4, 1, 9, 0, tzinfo=UTC))
    leeds = open_till(tmp_path / "leeds", clock)
    join(leeds, head_office, "Leeds", "Front")
    member = enrol(leeds)
    set_member_extras(
        leeds, member.id, birthday="04-23", leaderboard_opt_in=True, household_id="H1"
    )
    run_sync(leeds)
    leeds.close()

    york = open_till(tmp_path / "york", clock)
    join(york, head_office, "York", "Back")
    report = run_sync(york)
    assert report.pulled_profiles == 1
    profile = profile_of(york, member.id)
    assert profile.birth_month_day == "04-23"
    assert profile.leaderboard_opt_in is True
    assert profile.household_id == "H1"
    # Storing a pulled profile queues nothing to send back.
    assert run_sync(york).acknowledged == 0

    # York edits later; Leeds edits earlier but syncs after York.
    clock.advance(minutes=10)
    set_member_extras(york, member.id, birthday="05-01")
    run_sync(york)
    york.close()
    leeds = open_till(tmp_path / "leeds", clock)
    leeds.clock = lambda: clock() - timedelta(minutes=5)
    set_member_extras(leeds, member.id, birthday="06-30")
    run_sync(leeds)
    assert profile_of(leeds, member.id).birth_month_day == "05-01"
    assert verify(leeds).ok
    leeds.close()

    rows = postgres_rows(
        head_office.database,
        f"SELECT birth_month_day, household_id FROM member_profile"
        f" WHERE member_id = '{member.id}'",
    )
    assert rows == [("05-01", "H1")]

    york = open_till(tmp_path / "york", clock)
    run_sync(york)
    assert profile_of(york, member.id).birth_month_day == "05-01"
    york.close()


def clashing_keyring(data_dir, secret: bytes) -> None:
    save_keyring(data_dir / paths.KEYS_FILE, CardKeyring({"42": secret}, "42"))


def test_clashing_card_keys_work_at_every_till(tmp_path, head_office):
    leeds_secret, york_secret = secrets.token_bytes(32), secrets.token_bytes(32)
    clashing_keyring(tmp_path / "leeds", leeds_secret)
    clashing_keyring(tmp_path / "york", york_secret)

    leeds = open_till(tmp_path / "leeds")
    ann = enrol(leeds)
    join(leeds, head_office, "Leeds", "Front")
    run_sync(leeds)
    leeds.close()

    york = open_till(tmp_path / "york")
    bob = enrol(york, name="Bob Ray", phone="07700 900456")
    join(york, head_office, "York", "Back")
    report = run_sync(york)
    assert "42" in report.keys_added
    assert members.find_by_card(york, ann.card_number).id == ann.id
    assert members.find_by_card(york, bob.card_number).id == bob.id
    # New cards are still issued under the till's own secret.
    assert york.keyring.keys["42"] == york_secret
    york.close()

    leeds = open_till(tmp_path / "leeds")
    run_sync(leeds)
    assert members.find_by_card(leeds, bob.card_number).id == bob.id
    assert members.find_by_card(leeds, ann.card_number).id == ann.id
    leeds.close()

    stored = json.loads((tmp_path / "york" / paths.KEYS_FILE).read_text())
    assert stored["keys"]["42"] == york_secret.hex()
    assert stored["alternates"]["42"] == [leeds_secret.hex()]

    hull = open_till(tmp_path / "hull")
    join(hull, head_office, "Hull", "Till")
    run_sync(hull)
    assert members.find_by_card(hull, ann.card_number).id == ann.id
    assert members.find_by_card(hull, bob.card_number).id == bob.id
    hull.close()


def test_key_file_without_alternates_still_reads(tmp_path):
    path = tmp_path / "keys.json"
    secret = secrets.token_bytes(32)
    path.write_text(json.dumps({"active": "42", "keys": {"42": secret.hex()}}))
    keyring = load_or_create_keyring(path)
    assert keyring.secrets_of("42") == (secret,)
    number = keyring.issue()
    assert keyring.verify(number) == number

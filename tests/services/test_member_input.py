"""Names, emails and ids with odd Unicode: kept when a person types them, else rejected."""

from __future__ import annotations

import unicodedata

import pytest

from posloyalty.services import member_admin, members
from posloyalty.services.errors import InvalidInputError
from posloyalty.services.member_admin import ProfileChanges
from posloyalty.services.members import MAX_NAME_LENGTH, NewMember
from staff_helpers import add_people, creds, use_fast_hasher


def _enrol(till, name="Ann Lee", email=None, external_id=None, phone="07700 900123"):
    return members.enrol_member(
        till, NewMember(name, phone, email=email, external_id=external_id)
    )


def _member_count(till) -> int:
    return till.db.execute_sql("SELECT COUNT(*) FROM member").fetchone()[0]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("محمد عبد الله", id="arabic-rtl"),
        pytest.param("Zoë Ångström", id="latin-accents"),
        pytest.param("Ann 😀🎉", id="emoji"),
        pytest.param("Ann 👩‍👩‍👧", id="emoji-zwj-sequence"),
        pytest.param("ज़ोया", id="devanagari-nukta"),
    ],
)
def test_name_typed_by_person_is_kept(till, name):
    member = _enrol(till, name)

    assert member.name == unicodedata.normalize("NFC", name)
    assert members.get_member(till, member.id).name == member.name


def test_name_stored_in_nfc(till):
    decomposed = "Zoe\u0308 Lee"

    member = _enrol(till, decomposed)

    assert member.name == "Zoë Lee"
    assert [m.id for m in members.search_by_name(till, "zoë")] == [member.id]


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        pytest.param("Ann\x00Lee", "U+0000", id="nul"),
        pytest.param("Ann\x1b[2JLee", "U+001B", id="escape-sequence"),
        pytest.param("A\x01B", "U+0001", id="control"),
        pytest.param("\u202eeeL nnA", "U+202E", id="rtl-override"),
        pytest.param("Ann\u2066Lee", "U+2066", id="bidi-isolate"),
        pytest.param("\u0301\u0301", "no letter or digit", id="combining-only"),
        pytest.param("\u200b", "no letter or digit", id="zero-width-space"),
        pytest.param("x" * (MAX_NAME_LENGTH + 1), "at most 200", id="too-long"),
    ],
)
def test_name_rejected(till, name, fragment):
    with pytest.raises(InvalidInputError, match="invalid name") as raised:
        _enrol(till, name)

    message = str(raised.value)
    assert fragment in message
    assert len(message) < 200
    assert _member_count(till) == 0


@pytest.mark.parametrize(
    ("email", "fragment"),
    [
        pytest.param("ann\x00@example.com", "U+0000", id="nul"),
        pytest.param("ann@example.co\x1b", "U+001B", id="escape"),
        pytest.param("ann@example.com\u202e", "U+202E", id="rtl-override"),
        pytest.param("a" * 250 + "@b.com", "at most 254", id="too-long"),
        pytest.param("ann@@example.com", "name@domain.example", id="two-ats"),
    ],
)
def test_email_rejected(till, email, fragment):
    with pytest.raises(InvalidInputError, match="invalid email") as raised:
        _enrol(till, email=email)

    assert fragment in str(raised.value)
    assert len(str(raised.value)) < 200
    assert _member_count(till) == 0


def test_external_id_rejected(till):
    for external_id in ("C\x00017", "C\x1b17", "9" * 101):
        with pytest.raises(InvalidInputError, match="invalid external id"):
            _enrol(till, external_id=external_id)
    assert _member_count(till) == 0


def test_external_id_stripped(till):
    member = _enrol(till, external_id="  C017  ")

    assert member.external_id == "C017"
    assert members.resolve_member(till, "C017", "external-id").id == member.id


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(ProfileChanges(name="Ann\x1bLee"), id="name-escape"),
        pytest.param(ProfileChanges(name="\u202eAnn"), id="name-override"),
        pytest.param(ProfileChanges(name="y" * 201), id="name-too-long"),
        pytest.param(ProfileChanges(email="ann@example.com\x00"), id="email-nul"),
    ],
)
def test_edit_applies_same_checks(till, monkeypatch, changes):
    use_fast_hasher(monkeypatch)
    add_people(till)
    member = _enrol(till)

    with pytest.raises(InvalidInputError, match="invalid"):
        member_admin.edit_member(till, member.id, changes, creds("Alice"))

    kept = members.get_member(till, member.id)
    assert kept.name == "Ann Lee"
    assert kept.email is None


def test_lookup_messages_stay_short(till):
    long_text = "9" * 100_000

    with pytest.raises(InvalidInputError) as raised:
        members.resolve_member(till, long_text)
    assert "100000 characters" in str(raised.value)
    assert len(str(raised.value)) < 300

    result = members.lookup_input(till, "x" * 5000)
    assert result.members == []
    assert len(result.message) < 300


def test_empty_reference_is_malformed(till):
    for ref in ("", "   ", "\t"):
        with pytest.raises(InvalidInputError, match="missing member"):
            members.resolve_member(till, ref)

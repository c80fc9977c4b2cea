import pytest

from ledger_helpers import enrol
from posloyalty.services import members
from posloyalty.services.errors import (
    AmbiguousMemberError,
    InvalidInputError,
    NotFoundError,
    RejectedError,
)
from posloyalty.services.members import NewMember


@pytest.mark.parametrize("typed", ["07700900123", "07700-900-123", "07700 900 123"])
def test_national_number_found_in_any_form(till, typed):
    member = enrol(till, phone="07700 900 123")
    assert members.resolve_member(till, typed).id == member.id
    assert members.lookup_input(till, typed).members[0].id == member.id


@pytest.mark.parametrize(
    "typed", ["07700 900123", "447700900123", "+44 (0)7700 900123", "+447700900123"]
)
def test_international_number_found_in_any_form(till, typed):
    member = enrol(till, phone="+44 7700 900123")
    assert member.phone == "+447700900123"
    assert members.resolve_member(till, typed, "phone").id == member.id


def test_shared_phone_gives_choice(till):
    first = enrol(till, "Zofia Wiśniewska", "+44 7700 900456")
    second = enrol(till, "Krzysztof Wiśniewski", "+44 7700 900456")
    result = members.lookup_input(till, "07700 900456")
    assert {m.id for m in result.members} == {first.id, second.id}
    with pytest.raises(AmbiguousMemberError) as error:
        members.resolve_member(till, "07700 900456")
    assert len(error.value.candidates) == 2


def test_card_lookup_and_not_readable(till):
    member = enrol(till)
    assert members.resolve_member(till, member.card_number).id == member.id
    bad = member.card_number[:-1] + str((int(member.card_number[-1]) + 3) % 10)
    with pytest.raises(RejectedError, match="card not readable"):
        members.resolve_member(till, bad)
    result = members.lookup_input(till, "]Q1" + bad + "\r")
    assert result.members == []
    assert "card not readable" in result.message


def test_name_search_prefix_case_insensitive(till):
    enrol(till, "Émilie Dubois", "07700 900327")
    enrol(till, "Emil Nolde", "07700 900328")
    found = members.search_by_name(till, "émi")
    assert [m.name for m in found] == ["Émilie Dubois"]
    assert members.lookup_input(till, "EMIL").members[0].name == "Emil Nolde"


def test_enrol_requires_contact_and_valid_values(till):
    with pytest.raises(InvalidInputError, match="no phone and no email"):
        enrol(till, "Nobody", None)
    with pytest.raises(InvalidInputError, match="invalid phone number '12'"):
        enrol(till, "Short", "12")
    with pytest.raises(InvalidInputError, match="invalid email"):
        enrol(till, "Mail", None, email="not-an-email")
    with pytest.raises(InvalidInputError, match="missing name"):
        enrol(till, "   ", "07700 900999")


def test_unknown_reference_not_found(till):
    with pytest.raises(NotFoundError):
        members.resolve_member(till, "07700 900000")


def test_card_too_long_for_qr_rejected_at_issue(till, monkeypatch):
    from posloyalty.domain.cards import CardKeyring
    from posloyalty.domain.receipt import QrPayloadError

    too_long = CardKeyring({"42": b"k" * 32}, "42")
    monkeypatch.setattr(till, "keyring", too_long)
    monkeypatch.setattr(too_long.__class__, "issue", lambda self: "1" * 40)
    with pytest.raises(QrPayloadError):
        members.enrol_member(till, NewMember("Ann", "07700 900123"))
    assert till.db.execute_sql("SELECT COUNT(*) FROM member").fetchone()[0] == 0

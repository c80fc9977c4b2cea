"""Editing, merging and erasing members, and replacing cards, through the services."""

import pytest

from ledger_helpers import enrol, entries, ledger_sum, sale
from posloyalty.services import member_admin, members, sales
from posloyalty.services.errors import InvalidInputError, RejectedError
from posloyalty.services.ledger import verify
from posloyalty.services.member_admin import ProfileChanges
from posloyalty.services.staff import PermissionDeniedError
from staff_helpers import audit_rows, creds


def test_edit_member_normalises_and_audits_field_names(shop, clock):
    member = enrol(shop, "Ann Lee", "07700 900123")
    clock.advance(minutes=1)
    edited = member_admin.edit_member(
        shop,
        member.id,
        ProfileChanges(name="Ann  Leigh", phone="+44 7700 900456", email="a@b.example"),
        creds("Alice"),
    )
    assert edited.name == "Ann Leigh"
    assert edited.phone == "+447700900456"
    assert members.search_by_name(shop, "ann lei")[0].id == member.id
    audit = audit_rows(shop, "edit_member")[0]
    assert audit[5] == '{"fields": ["email", "name", "phone"]}'
    assert "Leigh" not in repr(audit)
    updated = shop.db.execute_sql(
        "SELECT updated_at FROM member WHERE id = ?", (member.id,)
    ).fetchone()[0]
    assert updated.startswith("2025-03-29 12:01")


@pytest.mark.parametrize(
    "changes, message",
    [
        pytest.param(ProfileChanges(phone="12"), "phone", id="bad-phone"),
        pytest.param(ProfileChanges(email="ann@"), "invalid email 'ann@'", id="email"),
        pytest.param(ProfileChanges(name="  "), "missing name", id="empty-name"),
        pytest.param(
            ProfileChanges(phone="", email=""), "cannot remove both", id="no-contact"
        ),
        pytest.param(ProfileChanges(name="Ann Lee"), "nothing to change", id="same"),
    ],
)
def test_edit_member_rejects_bad_changes(shop, changes, message):
    member = enrol(shop, "Ann Lee", "07700 900123")
    with pytest.raises(InvalidInputError, match=message):
        member_admin.edit_member(shop, member.id, changes, creds("Alice"))
    assert members.get_member(shop, member.id).phone == "+447700900123"


def test_merge_moves_balance_by_linked_entries(shop):
    keep = enrol(shop, "Ann Lee", "07700 900123")
    other = enrol(shop, "Ann Lee", "07700 900456", email="ann@example.org")
    sale(shop, keep, 4000)
    old_sale = sale(shop, other, 2500)
    before = entries(shop, other.id)

    merged = member_admin.merge_members(shop, keep.id, other.id, creds("Alice"))
    assert merged.balance == 65
    assert merged.email == "ann@example.org"
    assert members.get_member(shop, other.id).balance == 0
    assert ledger_sum(shop, keep.id) == 65

    # The other member's entries are untouched; two new entries link the move.
    after = entries(shop, other.id)
    assert after[: len(before)] == before
    out_id = shop.db.execute_sql(
        "SELECT id FROM ledger_entry WHERE member_id = ? AND points = -25",
        (other.id,),
    ).fetchone()[0]
    assert entries(shop, keep.id)[-1] == ("adjust", 25, out_id)
    assert verify(shop).ok

    # A return of the other member's old sale now takes from the kept member.
    refund = sales.return_sale(shop, old_sale.sale_id)
    assert refund.member_id == keep.id
    assert refund.balance == 40

    with pytest.raises(RejectedError, match="blocked"):
        members.find_by_card(shop, other.card_number)
    assert members.find_by_phone(shop, "07700 900456") == []
    assert members.search_by_name(shop, "ann") == [members.get_member(shop, keep.id)]
    assert verify(shop).ok


def test_merge_rejects_same_or_already_merged(shop):
    keep = enrol(shop, "Ann Lee", "07700 900123")
    other = enrol(shop, "Ann Lee", "07700 900456")
    with pytest.raises(InvalidInputError, match="with itself"):
        member_admin.merge_members(shop, keep.id, keep.id, creds("Alice"))
    member_admin.merge_members(shop, keep.id, other.id, creds("Alice"))
    with pytest.raises(RejectedError, match=f"merged into member {keep.id}"):
        member_admin.merge_members(shop, keep.id, other.id, creds("Alice"))


def test_cashier_cannot_merge(shop):
    keep = enrol(shop, "Ann Lee", "07700 900123")
    other = enrol(shop, "Ann Lee", "07700 900456")
    with pytest.raises(PermissionDeniedError):
        member_admin.merge_members(shop, keep.id, other.id, creds("Bob"))
    assert audit_rows(shop, "merge_members") == []


def test_erase_removes_personal_data_keeps_history(shop):
    member = enrol(shop, "Ann Lee", "07700 900123", email="ann@example.org")
    sale(shop, member, 3000)
    history = entries(shop, member.id)

    member_admin.erase_member(shop, member.id, creds("Alice"), "asked by email")
    row = shop.db.execute_sql(
        "SELECT name, phone, email, external_id, erased_at FROM member WHERE id = ?",
        (member.id,),
    ).fetchone()
    assert row[:4] == ("", None, None, None)
    assert row[4] is not None
    assert entries(shop, member.id) == history
    assert ledger_sum(shop, member.id) == 30
    assert members.find_by_phone(shop, "07700 900123") == []
    with pytest.raises(RejectedError, match="card blocked"):
        members.find_by_card(shop, member.card_number)
    for audit in audit_rows(shop):
        assert "Ann" not in repr(audit)
        assert "ann@example.org" not in repr(audit)
    assert verify(shop).ok

    with pytest.raises(RejectedError, match="was erased"):
        member_admin.erase_member(shop, member.id, creds("Alice"))


def test_replace_card_keeps_member_and_balance(shop):
    member = enrol(shop)
    sale(shop, member, 4200)
    replaced = member_admin.replace_card(shop, member.id, creds("Dave"))
    assert replaced.card_number != member.card_number
    assert replaced.balance == 42
    assert members.find_by_card(shop, replaced.card_number).id == member.id
    with pytest.raises(RejectedError, match="Ask the member for their new card"):
        members.find_by_card(shop, member.card_number)
    audit = audit_rows(shop, "replace_card")[0]
    assert member.card_number not in repr(audit)
    assert member.card_number[-4:] in audit[5]


def test_block_card_keeps_balance(shop):
    member = enrol(shop)
    sale(shop, member, 1000)
    blocked = member_admin.block_card(shop, member.card_number, creds("Alice"))
    assert blocked.balance == 10
    assert blocked.card_number is None
    with pytest.raises(RejectedError, match="blocked already"):
        member_admin.block_card(shop, member.card_number, creds("Alice"))

"""The demo programme: invented members added to an empty till, removed in one step."""

from __future__ import annotations

import pytest

from posloyalty.services import demo, members, sales
from posloyalty.services.errors import RejectedError
from posloyalty.services.ledger import verify
from posloyalty.services.members import NewMember
from posloyalty.storage import models


def test_adds_demo_members_to_empty_till(till):
    summary = demo.add_demo_members(till, count=60)

    assert summary.members == 60
    assert models.Member.select().count() == 60
    assert models.Member.select().where(models.Member.is_demo == False).count() == 0  # noqa: E712
    assert models.Card.select().count() == 60
    assert models.Sale.select().count() == summary.sales
    assert summary.sales > 0
    assert verify(till).ok


def test_demo_has_shared_phones(till):
    demo.add_demo_members(till, count=60)

    shared = members.find_by_phone(till, "+44 7700 900013")

    assert len(shared) == 2
    assert all(member.is_demo for member in shared)


def test_demo_is_repeatable(till):
    demo.add_demo_members(till, count=20, seed=3)
    names = sorted(m.name for m in models.Member.select())
    demo.remove_demo(till)
    demo.add_demo_members(till, count=20, seed=3)

    assert sorted(m.name for m in models.Member.select()) == names


def test_demo_refused_when_members_exist(till):
    members.enrol_member(till, NewMember("Real Person", phone="07700 900999"))

    with pytest.raises(RejectedError, match="already has members"):
        demo.add_demo_members(till, count=10)

    assert models.Member.select().count() == 1


def test_invalid_count_is_rejected(till):
    with pytest.raises(ValueError, match="invalid demo member count 0"):
        demo.add_demo_members(till, count=0)


def test_remove_deletes_everything_of_demo(till):
    demo.add_demo_members(till, count=30)
    a_demo = models.Member.select().first()
    sales.record_sale(till, sales.SaleRequest(a_demo.id, 500, print_receipt=True))

    summary = demo.remove_demo(till)

    assert summary.members == 30
    for model in (models.Member, models.Card, models.Sale, models.LedgerEntry,
                  models.PrintJob, models.OutboxItem):  # fmt: skip
        assert model.select().count() == 0, model.__name__
    assert (
        models.AuditEntry.select()
        .where(models.AuditEntry.action == "demo_removed")
        .count()
        == 1
    )
    assert verify(till).ok


def test_remove_keeps_real_members_enrolled_later(till):
    demo.add_demo_members(till, count=10)
    real = members.enrol_member(till, NewMember("Real Person", phone="07700 900999"))

    demo.remove_demo(till)

    assert [m.id for m in models.Member.select()] == [real.id]
    assert verify(till).ok


def test_remove_refused_when_real_points_follow(till):
    demo.add_demo_members(till, count=10)
    real = members.enrol_member(till, NewMember("Real Person", phone="07700 900999"))
    sales.record_sale(till, sales.SaleRequest(real.id, 1000))
    count_before = models.Member.select().count()

    with pytest.raises(RejectedError, match="break it"):
        demo.remove_demo(till)

    assert models.Member.select().count() == count_before
    assert verify(till).ok


def test_remove_without_demo_does_nothing(till):
    summary = demo.remove_demo(till)

    assert summary == demo.DemoSummary(0, 0, 0)

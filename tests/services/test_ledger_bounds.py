"""Points beyond what SQLite's integers hold are rejected before the ledger changes."""

from __future__ import annotations

import pytest

from posloyalty.domain.points import MAX_ENTRY_POINTS
from posloyalty.services import ledger, manager, members, sales
from posloyalty.services.errors import InvalidInputError
from posloyalty.services.members import NewMember
from posloyalty.services.sales import SaleRequest
from staff_helpers import add_people, creds, use_fast_hasher


@pytest.fixture
def member(till):
    return members.enrol_member(till, NewMember("Ann Lee", "07700 900123"))


def _entry_count(till) -> int:
    return till.db.execute_sql("SELECT COUNT(*) FROM ledger_entry").fetchone()[0]


@pytest.mark.parametrize(
    "points",
    [
        pytest.param(MAX_ENTRY_POINTS + 1, id="just-above"),
        pytest.param(2**63 - 1, id="sqlite-max"),
        pytest.param(10**20, id="beyond-sqlite"),
    ],
)
def test_adjustment_beyond_entry_limit(till, member, monkeypatch, points):
    use_fast_hasher(monkeypatch)
    add_people(till)

    with pytest.raises(InvalidInputError, match="one ledger entry is at most"):
        manager.adjust_balance(
            till, member.id, points, "goodwill", creds("Alice"), second=creds("Dave")
        )

    assert members.get_member(till, member.id).balance == 0
    assert _entry_count(till) == 0
    assert ledger.verify(till).ok


def test_adjustment_at_entry_limit(till, member, monkeypatch):
    use_fast_hasher(monkeypatch)
    add_people(till)

    manager.adjust_balance(
        till,
        member.id,
        MAX_ENTRY_POINTS,
        "goodwill",
        creds("Alice"),
        second=creds("Dave"),
    )

    assert members.get_member(till, member.id).balance == MAX_ENTRY_POINTS
    assert ledger.verify(till).ok


def test_balance_limit_rolls_back_sale(till, member, monkeypatch):
    monkeypatch.setattr(ledger, "MAX_BALANCE_POINTS", 100)
    sales.record_sale(till, SaleRequest(member.id, 9000))

    with pytest.raises(InvalidInputError, match="beyond the limit of 100 points"):
        sales.record_sale(till, SaleRequest(member.id, 2000))

    assert members.get_member(till, member.id).balance == 90
    assert _entry_count(till) == 1
    assert till.db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0] == 1
    assert ledger.verify(till).ok


def test_huge_earn_rate_sale_rejected(till, member):
    till.update_settings({"earn_rate": "1000000"})

    with pytest.raises(InvalidInputError, match="one ledger entry is at most"):
        sales.record_sale(till, SaleRequest(member.id, 10**12))

    assert members.get_member(till, member.id).balance == 0
    assert till.db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0] == 0
    assert ledger.verify(till).ok

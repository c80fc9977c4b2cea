"""Fixtures for the staff tests: a till with a clock and four staff accounts."""

import pytest

from staff_helpers import add_people, use_fast_hasher


@pytest.fixture(autouse=True)
def fast_pin_hasher(monkeypatch):
    use_fast_hasher(monkeypatch)


@pytest.fixture
def shop(clocked_till):
    """A GB till with a test clock, managers Alice and Dave, cashier Bob, admin Carol."""
    add_people(clocked_till)
    return clocked_till

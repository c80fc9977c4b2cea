"""Staff accounts, PIN checks, lockout and sign-in, through the services."""

from datetime import timedelta

import pytest

from ledger_helpers import enrol, entries
from posloyalty.services import manager, staff
from posloyalty.services.context import TillContext
from posloyalty.services.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    RejectedError,
)
from posloyalty.services.staff import (
    AccountLockedError,
    Credentials,
    PermissionDeniedError,
    WrongPinError,
)
from staff_helpers import audit_rows, creds


@pytest.mark.parametrize(
    "pin",
    [
        pytest.param("123", id="too-short"),
        pytest.param("123456789", id="too-long"),
        pytest.param("12a4", id="letter"),
        pytest.param("١٢٣٤", id="arabic-indic-digits"),
        pytest.param("", id="empty"),
    ],
)
def test_add_staff_rejects_malformed_pin(shop, pin):
    with pytest.raises(InvalidInputError) as caught:
        staff.add_staff(shop, "Erin", "cashier", pin)
    assert "4 to 8 digits" in str(caught.value)
    if pin:
        assert pin not in str(caught.value)
    with pytest.raises(NotFoundError):
        staff.get_staff(shop, "Erin")


def test_add_staff_rejects_unknown_role(shop):
    with pytest.raises(InvalidInputError, match="invalid role 'boss'"):
        staff.add_staff(shop, "Erin", "boss", "1111")


def test_add_staff_rejects_taken_name_any_case(shop):
    with pytest.raises(RejectedError, match="already taken"):
        staff.add_staff(shop, "  alice ", "cashier", "1111")


def test_pin_is_stored_as_argon2_hash(shop):
    row = shop.db.execute_sql(
        "SELECT pin_hash FROM staff WHERE name = 'Alice'"
    ).fetchone()
    assert row[0].startswith("$argon2id$")
    assert "1234" not in row[0]


def test_credentials_repr_hides_pin():
    text = repr(Credentials("Alice", "86420"))
    assert "Alice" in text
    assert "86420" not in text


def test_authenticate_returns_role(shop):
    person = staff.authenticate(shop, creds("Alice"))
    assert person.name == "Alice"
    assert person.role.value == "manager"


def test_wrong_pins_count_down_then_lock(shop, clock):
    tries_left = []
    for _ in range(4):
        with pytest.raises(WrongPinError) as caught:
            staff.authenticate(shop, creds("Alice", "0000"))
        tries_left.append(caught.value.tries_left)
        assert caught.value.exit_code == 3
    assert tries_left == [4, 3, 2, 1]
    assert "1 try left" in str(caught.value)

    with pytest.raises(AccountLockedError) as locked:
        staff.authenticate(shop, creds("Alice", "0000"))
    assert locked.value.locked_until == clock() + timedelta(minutes=5)
    assert "locked until 2025-03-29 12:05" in str(locked.value)

    # The right PIN is not even checked while the account is locked.
    with pytest.raises(AccountLockedError):
        staff.authenticate(shop, creds("Alice"))


def test_lockout_expires_after_configured_minutes(shop, clock):
    for _ in range(4):
        with pytest.raises(WrongPinError):
            staff.authenticate(shop, creds("Dave", "1111"))
    with pytest.raises(AccountLockedError):
        staff.authenticate(shop, creds("Dave", "1111"))

    clock.advance(minutes=4, seconds=59)
    with pytest.raises(AccountLockedError):
        staff.authenticate(shop, creds("Dave"))
    clock.advance(seconds=1)
    assert staff.authenticate(shop, creds("Dave")).name == "Dave"

    # After the lockout the count starts again from the full number of tries.
    with pytest.raises(WrongPinError) as caught:
        staff.authenticate(shop, creds("Dave", "1111"))
    assert caught.value.tries_left == 4


def test_lockout_follows_settings(shop, clock):
    shop.update_settings({"pin_max_attempts": "2", "pin_lockout_minutes": "30"})
    with pytest.raises(WrongPinError) as caught:
        staff.authenticate(shop, creds("Bob", "0000"))
    assert caught.value.tries_left == 1
    with pytest.raises(AccountLockedError) as locked:
        staff.authenticate(shop, creds("Bob", "0000"))
    assert locked.value.locked_until == clock() + timedelta(minutes=30)


def test_lockout_settings_reject_bad_values(shop):
    with pytest.raises(InvalidInputError, match="whole number from 1 to 20"):
        shop.update_settings({"pin_max_attempts": "0"})
    with pytest.raises(InvalidInputError, match="'five'"):
        shop.update_settings({"pin_lockout_minutes": "five"})


def test_lockout_survives_restart(shop, clock, data_dir):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            staff.authenticate(shop, creds("Alice", "9999"))
    shop.close()

    reopened = TillContext(data_dir, clock=clock)
    try:
        with pytest.raises(AccountLockedError):
            staff.authenticate(reopened, creds("Alice"))
        clock.advance(minutes=5)
        assert staff.authenticate(reopened, creds("Alice")).name == "Alice"
    finally:
        reopened.close()


def test_good_pin_resets_wrong_count(shop):
    for _ in range(3):
        with pytest.raises(WrongPinError):
            staff.authenticate(shop, creds("Alice", "0000"))
    staff.authenticate(shop, creds("Alice"))
    with pytest.raises(WrongPinError) as caught:
        staff.authenticate(shop, creds("Alice", "0000"))
    assert caught.value.tries_left == 4


def test_reset_pin_lifts_lockout(shop):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            staff.authenticate(shop, creds("Bob", "0000"))
    staff.reset_pin(shop, "bob", "8642")
    assert staff.authenticate(shop, Credentials("Bob", "8642")).name == "Bob"
    with pytest.raises(WrongPinError):
        staff.authenticate(shop, creds("Bob"))


def test_failures_and_lockout_write_audit_rows(shop):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            staff.authenticate(shop, creds("Alice", "0000"))
    with pytest.raises(AccountLockedError):
        staff.authenticate(shop, creds("Alice"))

    failed = audit_rows(shop, "pin_failed")
    assert [row[0] for row in failed] == ["Alice"] * 6
    assert '"tries_left": 4' in failed[0][5]
    assert '"cause": "locked"' in failed[-1][5]
    lockouts = audit_rows(shop, "lockout")
    assert len(lockouts) == 1
    assert lockouts[0][0] == "Alice"
    for row in audit_rows(shop):
        assert "0000" not in repr(row)
        assert "1234" not in repr(row)


def test_unknown_and_disabled_names_are_rejected(shop):
    with pytest.raises(AuthenticationError, match="no staff member named 'Zed'"):
        staff.authenticate(shop, Credentials("Zed", "1234"))
    staff.disable_staff(shop, "Dave")
    with pytest.raises(AuthenticationError, match="is disabled"):
        staff.authenticate(shop, creds("Dave"))
    causes = [row[5] for row in audit_rows(shop, "pin_failed")]
    assert '"cause": "unknown"' in causes[0]
    assert '"cause": "disabled"' in causes[1]


def test_cashier_pin_cannot_adjust(shop):
    member = enrol(shop)
    with pytest.raises(PermissionDeniedError, match="Bob is a cashier"):
        manager.adjust_balance(shop, member.id, 80, "goodwill", creds("Bob"))
    assert entries(shop, member.id) == []
    denied = audit_rows(shop, "permission_denied")
    assert denied[0][0] == "Bob"
    assert '"action": "adjust"' in denied[0][5]


def test_only_admin_manages_staff(shop):
    with pytest.raises(PermissionDeniedError):
        staff.add_staff(shop, "Erin", "cashier", "1357", actor=creds("Alice"))
    added = staff.add_staff(shop, "Erin", "cashier", "1357", actor=creds("Carol"))
    assert added.role.value == "cashier"
    assert audit_rows(shop, "staff_add")[-1][0] == "Carol"


def test_sales_record_till_when_sign_in_is_off(shop):
    assert staff.is_sign_in_required(shop) is False
    assert staff.staff_for_sale(shop) is None


def test_sign_in_names_the_cashier_of_sales(shop, clock, data_dir):
    shop.update_settings({"staff_sign_in": "on"})
    with pytest.raises(RejectedError, match="no staff member is signed in at Till 1"):
        staff.staff_for_sale(shop)

    staff.sign_in(shop, creds("Bob"))
    assert staff.staff_for_sale(shop) == "Bob"
    staff.sign_in(shop, creds("Alice"))
    assert staff.staff_for_sale(shop) == "Alice"
    actions = [(row[0], row[1]) for row in audit_rows(shop) if "sign" in row[1]]
    assert actions == [("Bob", "sign_in"), ("Bob", "sign_out"), ("Alice", "sign_in")]

    shop.close()
    reopened = TillContext(data_dir, clock=clock)
    try:
        assert staff.staff_for_sale(reopened) == "Alice"
        assert staff.sign_out(reopened).name == "Alice"
        with pytest.raises(RejectedError):
            staff.staff_for_sale(reopened)
    finally:
        reopened.close()


def test_sign_in_with_wrong_pin_opens_no_shift(shop):
    shop.update_settings({"staff_sign_in": "on"})
    with pytest.raises(WrongPinError):
        staff.sign_in(shop, creds("Bob", "0000"))
    assert staff.signed_in_staff(shop) is None

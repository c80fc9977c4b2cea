import secrets

import pytest
import qrcode

from posloyalty.domain.cards import (
    CARD_ALPHABET,
    CARD_NUMBER_LENGTH,
    CardKeyring,
    is_luhn_valid,
    mask_card_number,
)
from posloyalty.domain.errors import CardNotReadableError


@pytest.fixture
def keyring():
    return CardKeyring({"42": secrets.token_bytes(32)}, "42")


def test_issued_card_verifies(keyring):
    number = keyring.issue()
    assert len(number) == CARD_NUMBER_LENGTH
    assert number.startswith("42")
    assert is_luhn_valid(number)
    assert keyring.verify(number) == number


def test_every_single_digit_typo_rejected(keyring):
    number = keyring.issue()
    for position in range(len(number)):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1 :]
            with pytest.raises(CardNotReadableError, match="card not readable"):
                keyring.verify(typo)


def test_forged_card_with_valid_check_digit_rejected(keyring):
    other = CardKeyring({"42": secrets.token_bytes(32)}, "42")
    forged = other.issue()
    assert is_luhn_valid(forged)
    with pytest.raises(CardNotReadableError):
        keyring.verify(forged)


def test_card_of_unknown_key_rejected(keyring):
    foreign = CardKeyring({"77": secrets.token_bytes(32)}, "77").issue()
    with pytest.raises(CardNotReadableError):
        keyring.verify(foreign)


def test_several_keys_accepted():
    old = CardKeyring({"11": secrets.token_bytes(32)}, "11")
    joined = CardKeyring({**old.keys, "22": secrets.token_bytes(32)}, "22")
    old_card = old.issue()
    new_card = joined.issue()
    assert joined.verify(old_card) == old_card
    assert joined.verify(new_card) == new_card
    assert new_card.startswith("22")


def test_card_alphabet_is_digits_only(keyring):
    # Digits are the only characters every keyboard layout (US, UK, German,
    # Italian, French) produces from the same key codes of a scanner.
    assert CARD_ALPHABET == set("0123456789")
    for _ in range(200):
        assert set(keyring.issue()) <= set("0123456789")


def test_longest_card_payload_fits_qr_version_one(keyring):
    longest = "9" * CARD_NUMBER_LENGTH
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(longest)
    code.make(fit=True)
    assert code.version == 1
    code = qrcode.QRCode(version=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(keyring.issue())
    code.make(fit=False)


def test_mask_card_number_keeps_last_four(keyring):
    number = keyring.issue()
    masked = mask_card_number(number)
    assert masked.endswith(number[-4:])
    assert masked[:-4] == "*" * (CARD_NUMBER_LENGTH - 4)

import secrets

import pytest

from posloyalty.domain.cards import NOT_READABLE, CardKeyring
from posloyalty.domain.scanner import (
    AZERTY_NUMBER_ROW,
    LAYOUT_MISMATCH,
    ScanKind,
    normalize_input,
)

US_TO_AZERTY = {digit: symbol for symbol, digit in AZERTY_NUMBER_ROW.items()}


@pytest.fixture
def keyring():
    return CardKeyring({"31": secrets.token_bytes(32)}, "31")


@pytest.fixture
def card(keyring):
    return keyring.issue()


@pytest.mark.parametrize(
    "framing",
    [
        pytest.param("{}", id="bare"),
        pytest.param("{}\r", id="cr"),
        pytest.param("{}\t", id="tab"),
        pytest.param("{}\r\n", id="crlf"),
        pytest.param("{}\r\r", id="cr-cr"),
        pytest.param("\x02{}\r", id="stx"),
        pytest.param("]Q1{}\r", id="aim-qr"),
        pytest.param("]C1{}\r", id="aim-gs1"),
        pytest.param("\x02]Q1{}\x03\r\n", id="stx-aim-etx"),
    ],
)
def test_framed_card_scans_to_card(keyring, card, framing):
    result = normalize_input(framing.format(card), keyring)
    assert result.kind is ScanKind.CARD
    assert result.value == card


def test_group_separator_inside_payload_removed(keyring, card):
    raw = "\x02" + card[:10] + "\x1d" + card[10:] + "\r"
    result = normalize_input(raw, keyring)
    assert result.kind is ScanKind.CARD
    assert result.value == card


def test_aim_prefix_removed_only_at_start(keyring, card):
    result = normalize_input(card[:5] + "]Q1" + card[5:], keyring)
    assert result.kind is not ScanKind.CARD


def test_bad_check_digit_after_prefix_is_not_readable(keyring, card):
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    result = normalize_input("]Q1" + wrong + "\r", keyring)
    assert result.kind is ScanKind.NOT_READABLE
    assert result.message == NOT_READABLE
    assert result.value == ""


def test_azerty_payload_mapped_back_to_digits(keyring, card):
    typed = "".join(US_TO_AZERTY[digit] for digit in card)
    assert not any(ch.isdigit() for ch in typed)
    result = normalize_input(typed + "\r", keyring)
    assert result.kind is ScanKind.CARD
    assert result.value == card


def test_azerty_symbols_of_wrong_length_report_layout(keyring):
    result = normalize_input("&é\"'(-è_", keyring)
    assert result.kind is ScanKind.NOT_READABLE
    assert result.message == LAYOUT_MISMATCH


@pytest.mark.parametrize("raw", ["", "\r", "\r\n", "\t", "\x02\x03", "   "])
def test_empty_submit_is_empty(keyring, raw):
    assert normalize_input(raw, keyring).kind is ScanKind.EMPTY


@pytest.mark.parametrize(
    "raw", ["07700-900-123", "+44 (0)7700 900123", "Ann Lee", "12347"]
)
def test_phone_and_name_pass_through_as_text(keyring, raw):
    result = normalize_input(raw + "\r", keyring)
    assert result.kind is ScanKind.TEXT
    assert result.value == raw

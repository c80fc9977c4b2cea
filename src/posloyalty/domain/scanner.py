"""One normaliser for everything a keyboard-wedge scanner or a cashier types.

Hand scanners type like a keyboard. What arrives may carry control characters
(STX, GS), an AIM symbology identifier such as ``]Q1`` (QR) or ``]C1`` (GS1-128),
any terminator (Enter, Tab, CR LF, repeated), and, when the host keyboard is set
to French AZERTY while the scanner sends US key codes, the symbols of the
unshifted number row in place of digits.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from posloyalty.domain.cards import CARD_NUMBER_LENGTH, NOT_READABLE, CardKeyring
from posloyalty.domain.errors import CardNotReadableError

# The unshifted number row of a French AZERTY keyboard, for keys 1 to 0.
AZERTY_NUMBER_ROW = {
    "&": "1", "é": "2", '"': "3", "'": "4", "(": "5",
    "-": "6", "è": "7", "_": "8", "ç": "9", "à": "0",
}  # fmt: skip

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")

LAYOUT_MISMATCH = (
    "the scanner and the keyboard layout do not match: set the till's keyboard"
    " to the scanner's layout (US), or type the member's phone number"
)


class ScanKind(enum.Enum):
    """What a piece of typed input turned out to be."""

    EMPTY = "empty"
    CARD = "card"
    TEXT = "text"
    NOT_READABLE = "not_readable"


@dataclass(frozen=True)
class ScanResult:
    """The outcome of normalising one submitted input.

    Attributes:
        kind: what the input is.
        value: the verified card number (CARD), the cleaned text for a phone or
            name lookup (TEXT), or empty.
        message: for NOT_READABLE, what to tell the cashier.
    """

    kind: ScanKind
    value: str = ""
    message: str = ""


def strip_framing(raw: str) -> str:
    """Remove control characters, an AIM prefix at the start and outer spaces."""
    cleaned = _CONTROL.sub("", raw).strip()
    return _AIM_PREFIX.sub("", cleaned, count=1).strip()


def _map_azerty(text: str) -> str | None:
    # A digits-only payload typed through an AZERTY layout contains no digit
    # at all, so text with any digit (a phone with dashes) is left alone.
    if text and all(ch in AZERTY_NUMBER_ROW for ch in text):
        return "".join(AZERTY_NUMBER_ROW[ch] for ch in text)
    return None


def normalize_input(raw: str, keyring: CardKeyring) -> ScanResult:
    """Turn one submitted input into a verified card number or lookup text.

    A card-length run of digits is a card and is never looked up as anything
    else: one that fails its check is NOT_READABLE. Input made only of AZERTY
    number-row symbols is mapped back to digits first; if it still
    is not a card, the cashier is told that the layout does not match, and the
    raw symbols are never looked up.
    """
    text = strip_framing(raw)
    if not text:
        return ScanResult(ScanKind.EMPTY)

    mapped = _map_azerty(text)
    if mapped is not None:
        if len(mapped) != CARD_NUMBER_LENGTH:
            return ScanResult(ScanKind.NOT_READABLE, message=LAYOUT_MISMATCH)
        text = mapped

    if text.isdigit() and len(text) == CARD_NUMBER_LENGTH:
        try:
            return ScanResult(ScanKind.CARD, keyring.verify(text))
        except CardNotReadableError:
            return ScanResult(ScanKind.NOT_READABLE, message=NOT_READABLE)
    return ScanResult(ScanKind.TEXT, text)

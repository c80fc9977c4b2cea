"""Receipts and member cards as data, their layout, and the plain-text preview.

A document is a list of blocks (text lines, label-value pairs, rules, QR codes,
a cut). The till's preview renders the blocks as text and the printer adapter
renders the same blocks as ESC/POS bytes, so the preview shows what prints.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from posloyalty.domain.cards import CARD_ALPHABET, mask_card_number
from posloyalty.domain.errors import DomainError
from posloyalty.domain.money import Currency

# Every QR code the till prints uses error correction level M (15 % of the
# symbol may be damaged) and a fixed version, so its printed size is known.
QR_ERROR_CORRECTION = "M"
QR_QUIET_ZONE_MODULES = 4  # ISO/IEC 18004 requires at least four modules

# Data capacity at error correction level M by version, in characters:
# (numeric, alphanumeric, byte). A test checks them against the qrcode package.
_QR_CAPACITY_M = {
    1: (34, 20, 14),
    2: (63, 38, 26),
    3: (101, 61, 42),
    4: (149, 90, 62),
}
_QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

CARD_QR_VERSION = 1  # 21 x 21 modules, up to 34 digits
SALE_QR_VERSION = 2  # 25 x 25 modules; an upper-case UUID needs 36 of 38


class QrPayloadError(DomainError):
    """A QR payload does not fit the version and error correction level it uses."""


def qr_modules(version: int) -> int:
    """Return the width of a QR symbol of ``version`` in modules, quiet zone excluded."""
    return 17 + 4 * version


def qr_capacity(version: int, payload: str) -> int:
    """Return how many characters of ``payload``'s kind fit ``version`` at level M."""
    numeric, alphanumeric, byte = _QR_CAPACITY_M[version]
    if set(payload) <= CARD_ALPHABET:
        return numeric
    if set(payload) <= _QR_ALPHANUMERIC:
        return alphanumeric
    return byte


def check_qr_payload(payload: str, version: int) -> str:
    """Check that ``payload`` fits a QR code of ``version`` at level M.

    Returns:
        The payload, unchanged.

    Raises:
        QrPayloadError: the payload is empty or longer than the version holds.
    """
    if not payload:
        raise QrPayloadError("empty QR payload: there is nothing to encode")
    capacity = qr_capacity(version, payload)
    size = len(payload.encode("utf-8"))
    if size > capacity:
        raise QrPayloadError(
            f"QR payload of {size} characters does not fit QR version {version}"
            f"-{QR_ERROR_CORRECTION}, which holds {capacity} of this kind: use a"
            " shorter payload or a higher version"
        )
    return payload


class Align(Enum):
    """Horizontal alignment of a text line."""

    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class TextLine:
    """A line of text; longer text wraps at the paper width."""

    text: str
    align: Align = Align.LEFT
    bold: bool = False
    double_height: bool = False


@dataclass(frozen=True)
class Pair:
    """A label on the left and its value on the right of one line."""

    label: str
    value: str
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the paper."""

    char: str = "-"


@dataclass(frozen=True)
class QrCode:
    """A QR code; ``fallback_text`` prints when the printer can draw no QR code."""

    payload: str
    version: int
    fallback_text: str


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """The end of a document: feed the paper past the cutter and cut."""


Block = TextLine | Pair | Rule | QrCode | Feed | Cut


@dataclass(frozen=True)
class Receipt:
    """The loyalty receipt of one sale or return, as the committed ledger has it.

    Attributes:
        store: store name.
        till: till name within the store.
        occurred_at: when the sale happened, in the till's local time.
        sale_id: the sale's UUID.
        sale_reference: the invoice number for an imported sale, else the sale id.
        amount_minor: the sale's total in minor units; negative for a return.
        discount_minor: money paid with points, in minor units.
        currency: the sale's currency.
        decimal_separator: the decimal mark of the till's locale.
        points_earned: points the sale earned.
        points_redeemed: points spent on the sale, as a positive number.
        points_reversed: points a return took back (negative) or gave back.
        balance: the member's balance right after the sale, in whole points.
        member_name: the member's name.
        card_number: the member's card number; receipts print it masked.
        is_return: the sale is a return.
        is_copy: the receipt is printed again and is marked as a copy.
        loyalty: the programme's block (tier, expiring points, rewards,
            challenges), laid out before the member's details; may be empty.
    """

    store: str
    till: str
    occurred_at: datetime
    sale_id: str
    sale_reference: str
    amount_minor: int
    discount_minor: int
    currency: Currency
    decimal_separator: str
    points_earned: int
    points_redeemed: int
    points_reversed: int
    balance: int
    member_name: str
    card_number: str | None
    is_return: bool = False
    is_copy: bool = False
    loyalty: tuple[Block, ...] = ()

    @property
    def masked_card_number(self) -> str:
        """The card number with all but its last four digits masked."""
        return mask_card_number(self.card_number) if self.card_number else ""


@dataclass(frozen=True)
class MemberCard:
    """A member's card: the name, the number as text and as a QR code."""

    store: str
    member_name: str
    card_number: str


def format_money(minor: int, currency: Currency, decimal_separator: str = ".") -> str:
    """Format ``minor`` units as ``12.34 GBP`` with the locale's decimal mark."""
    plain = currency.format_plain(minor)
    if decimal_separator != ".":
        plain = plain.replace(".", decimal_separator)
    return f"{plain} {currency.code}"


def receipt_blocks(receipt: Receipt) -> list[Block]:
    """Lay out a receipt: header, sale, points, member, a QR code of the sale id."""
    money = receipt.currency, receipt.decimal_separator
    title = "Return" if receipt.is_return else "Loyalty receipt"
    blocks: list[Block] = [
        TextLine(receipt.store, Align.CENTER, bold=True, double_height=True),
        TextLine(receipt.till, Align.CENTER),
        TextLine(title, Align.CENTER, bold=True),
    ]
    if receipt.is_copy:
        blocks.append(TextLine("COPY", Align.CENTER, bold=True))
    blocks += [
        Rule(),
        Pair("Date", f"{receipt.occurred_at:%Y-%m-%d %H:%M}"),
        Pair("Sale", receipt.sale_reference),
        Pair("Amount", format_money(receipt.amount_minor, *money)),
    ]
    if receipt.discount_minor:
        blocks.append(
            Pair("Paid with points", format_money(receipt.discount_minor, *money))
        )
    blocks.append(Rule())
    if receipt.points_redeemed:
        blocks.append(Pair("Points redeemed", f"-{receipt.points_redeemed}"))
    if receipt.points_reversed < 0:
        blocks.append(Pair("Points taken back", str(receipt.points_reversed)))
    elif receipt.points_reversed > 0:
        blocks.append(Pair("Points given back", f"+{receipt.points_reversed}"))
    if not receipt.is_return or receipt.points_earned:
        blocks.append(Pair("Points earned", f"+{receipt.points_earned}"))
    blocks += [
        Pair("New balance", str(receipt.balance), bold=True),
        *receipt.loyalty,
        Rule(),
        Pair("Member", receipt.member_name),
    ]
    if receipt.card_number:
        blocks.append(Pair("Card", receipt.masked_card_number))
    sale_payload = check_qr_payload(receipt.sale_id.upper(), SALE_QR_VERSION)
    blocks += [
        QrCode(sale_payload, SALE_QR_VERSION, f"Sale {receipt.sale_id}"),
        Cut(),
    ]
    return blocks


def card_blocks(card: MemberCard) -> list[Block]:
    """Lay out a member card: store, name, QR code of the number, the number."""
    payload = check_qr_payload(card.card_number, CARD_QR_VERSION)
    return [
        TextLine(card.store, Align.CENTER, bold=True, double_height=True),
        TextLine("Member card", Align.CENTER),
        TextLine(card.member_name, Align.CENTER, bold=True),
        QrCode(payload, CARD_QR_VERSION, card.card_number),
        TextLine(group_digits(card.card_number), Align.CENTER),
        Cut(),
    ]


def group_digits(number: str, size: int = 4) -> str:
    """Split a card number into groups of four digits, as people read it aloud."""
    return " ".join(number[i : i + size] for i in range(0, len(number), size))


def _aligned(text: str, align: Align, columns: int) -> str:
    if align is Align.CENTER:
        return text.center(columns).rstrip()
    if align is Align.RIGHT:
        return text.rjust(columns)
    return text


def pair_lines(label: str, value: str, columns: int) -> list[str]:
    """Lay out a label and a value: on one line when they fit, else on two."""
    gap = columns - len(label) - len(value)
    if gap >= 1:
        return [label + " " * gap + value]
    value_lines = textwrap.wrap(value, columns) or [""]
    return [label[:columns], *(line.rjust(columns) for line in value_lines)]


def wrap_text(text: str, columns: int) -> list[str]:
    """Wrap text at ``columns``, breaking long words; an empty text is one line."""
    return textwrap.wrap(text, columns, break_long_words=True) or [""]


def render_text(blocks: list[Block], columns: int) -> str:
    """Render blocks as the plain text the till shows in its receipt preview.

    Args:
        blocks: the document, from ``receipt_blocks`` or ``card_blocks``.
        columns: characters per line of the paper (32 for 58 mm, 48 for 80 mm).

    Returns:
        The text, one line per printed line, ending with a newline. A QR code
        is shown as a bracketed line with its payload.
    """
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, TextLine):
            for part in wrap_text(block.text, columns):
                lines.append(_aligned(part, block.align, columns))
        elif isinstance(block, Pair):
            lines += pair_lines(block.label, block.value, columns)
        elif isinstance(block, Rule):
            lines.append(block.char * columns)
        elif isinstance(block, QrCode):
            lines += [
                _aligned(part, Align.CENTER, columns)
                for part in wrap_text(f"[QR {block.payload}]", columns)
            ]
        elif isinstance(block, Feed):
            lines += [""] * block.lines
    return "\n".join(lines) + "\n"


def render_receipt_text(receipt: Receipt, columns: int) -> str:
    """Render a receipt as the till's on-screen preview, ``columns`` characters wide."""
    return render_text(receipt_blocks(receipt), columns)

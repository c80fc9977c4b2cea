"""Card numbers that a till can authenticate offline.

A card number is 22 digits::

    KK SSSSSSSSSSSSS MMMMMM C
    |  |             |      +-- Luhn check digit over the 21 digits before it
    |  |             +--------- 6-digit truncated HMAC-SHA256 of KK+S under key KK
    |  +----------------------- 13-digit random serial
    +-------------------------- id of the programme key that signed the card

Serials are random so that tills can issue cards offline without agreeing on a
counter. With 13 digits, a chain of a million members expects about 0.05
collisions in all (n^2 / 2 / 10^13). A till skips a serial it already has.

Digits only, because every keyboard layout types digits the same way through a
scanner that emulates a US keyboard; letters and punctuation move between
layouts. The check digit rejects a mistyped number before any key is needed, and
the HMAC rejects a forged one. The key id lets a till hold several keys, so cards
of a shop that later joins a chain keep working. Two shops that picked the same
key id with different secrets before joining both keep their cards working: a
keyring holds several secrets per key id, and a card verifies when any of them
signs it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from posloyalty.domain.errors import CardNotReadableError

CARD_NUMBER_LENGTH = 22
CARD_ALPHABET = frozenset("0123456789")
KEY_ID_LENGTH = 2
SERIAL_LENGTH = 13
MAC_LENGTH = 6
KEY_BYTES = 32

NOT_READABLE = "card not readable: scan it again or type the member's phone number"


# Luhn doubles every second digit from the right and sums the digits of the product.
_DOUBLED = {str(d): (2 * d if d < 5 else 2 * d - 9) for d in range(10)}
_PLAIN = {str(d): d for d in range(10)}


def luhn_check_digit(digits: str) -> str:
    """Return the Luhn check digit to append to ``digits``."""
    total = sum(_DOUBLED[ch] for ch in digits[::-2]) + sum(
        _PLAIN[ch] for ch in digits[-2::-2]
    )
    return str(-total % 10)


def is_luhn_valid(number: str) -> bool:
    """Tell whether the last digit of ``number`` is its Luhn check digit."""
    return luhn_check_digit(number[:-1]) == number[-1]


def _mac_digits(key: bytes, key_id: str, serial: str) -> str:
    digest = hmac.digest(key, (key_id + serial).encode("ascii"), "sha256")
    return str(int.from_bytes(digest[:8], "big") % 10**MAC_LENGTH).zfill(MAC_LENGTH)


def generate_key_id(existing: set[str]) -> str:
    """Pick an unused two-digit key id from 10 to 99."""
    free = [f"{n:02d}" for n in range(10, 100) if f"{n:02d}" not in existing]
    if not free:
        raise ValueError("all 90 card key ids are in use")
    return secrets.choice(free)


@dataclass(frozen=True)
class CardKeyring:
    """The programme keys a till knows, and the one it signs new cards with.

    Attributes:
        keys: key id (two digits) to the secret that issues cards under it.
        active_key_id: the key id used to issue new cards.
        alternates: key id to further secrets of the same id, from other shops
            that picked the id too; they verify cards but never issue any.
    """

    keys: Mapping[str, bytes]
    active_key_id: str
    alternates: Mapping[str, tuple[bytes, ...]] = field(default_factory=dict)

    def secrets_of(self, key_id: str) -> tuple[bytes, ...]:
        """Return every secret held for ``key_id``, the issuing one first."""
        primary = self.keys.get(key_id)
        others = tuple(s for s in self.alternates.get(key_id, ()) if s != primary)
        return ((primary,) if primary is not None else ()) + others

    def all_secrets(self) -> dict[str, tuple[bytes, ...]]:
        """Return every key id with all its secrets, the issuing one first."""
        ids = sorted(set(self.keys) | set(self.alternates))
        return {key_id: self.secrets_of(key_id) for key_id in ids}

    def with_secrets(self, received: Mapping[str, Iterable[bytes]]) -> CardKeyring:
        """Return a keyring that also contains ``received``, keeping this one's own keys.

        A secret of a key id this keyring lacks becomes that id's issuing
        secret if it comes first; any other new secret becomes an alternate.
        """
        keys = dict(self.keys)
        alternates = {k: list(v) for k, v in self.alternates.items()}
        for key_id, secrets_received in received.items():
            for secret in secrets_received:
                if key_id not in keys:
                    keys[key_id] = secret
                elif secret != keys[key_id] and secret not in alternates.get(
                    key_id, []
                ):
                    alternates.setdefault(key_id, []).append(secret)
        return CardKeyring(
            keys, self.active_key_id, {k: tuple(v) for k, v in alternates.items()}
        )

    def issue(self, serial: str | None = None) -> str:
        """Create a new signed card number with a random serial."""
        if serial is None:
            serial = str(secrets.randbelow(10**SERIAL_LENGTH)).zfill(SERIAL_LENGTH)
        key_id = self.active_key_id
        body = key_id + serial + _mac_digits(self.keys[key_id], key_id, serial)
        number = body + luhn_check_digit(body)
        if len(number) != CARD_NUMBER_LENGTH:
            raise ValueError(f"card serial {serial!r} has the wrong length")
        return number

    def verify(self, number: str) -> str:
        """Check a card number's format, check digit and signature.

        Returns:
            The card number, unchanged.

        Raises:
            CardNotReadableError: with the same message for every failure, so a
                forger learns nothing from the difference.
        """
        if len(number) != CARD_NUMBER_LENGTH or not set(number) <= CARD_ALPHABET:
            raise CardNotReadableError(NOT_READABLE)
        if not is_luhn_valid(number):
            raise CardNotReadableError(NOT_READABLE)
        key_id = number[:KEY_ID_LENGTH]
        serial = number[KEY_ID_LENGTH : KEY_ID_LENGTH + SERIAL_LENGTH]
        mac = number[KEY_ID_LENGTH + SERIAL_LENGTH : -1]
        # Every secret is tried, so the time taken does not tell which one signed.
        matched = False
        for key in self.secrets_of(key_id):
            matched |= hmac.compare_digest(mac, _mac_digits(key, key_id, serial))
        if not matched:
            raise CardNotReadableError(NOT_READABLE)
        return number


def mask_card_number(number: str) -> str:
    """Mask all but the last four digits, for receipts and logs."""
    return "*" * (len(number) - 4) + number[-4:]

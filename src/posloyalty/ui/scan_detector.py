"""Telling a hand scanner's keystrokes from a cashier's typing, without Qt.

A keyboard-wedge scanner types a whole payload within a few milliseconds per
key, often framed by control characters or an AIM symbology identifier. A
person types far slower. The window uses this to recognise a scan that lands
in the amount field, and to submit a scan that ends with no terminator.
Deciding what the payload is stays with ``domain.scanner.normalize_input``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from posloyalty.domain.cards import CARD_NUMBER_LENGTH
from posloyalty.domain.scanner import AZERTY_NUMBER_ROW, strip_framing

# Keys closer together than this belong to one burst. Wedge scanners send a
# key every 1 to 20 ms; people rarely type two keys within 50 ms for long.
BURST_GAP_SECONDS = 0.05

# A framed payload (control characters or an AIM prefix) shorter than this is
# taken for a keyboard shortcut, such as Ctrl+A, rather than a scan.
MIN_FRAMED_PAYLOAD = 8

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_CARD_CHARACTERS = frozenset("0123456789") | frozenset(AZERTY_NUMBER_ROW)


def looks_like_scan(raw: str) -> bool:
    """Tell whether typed text has the shape of a card scan.

    It does when, once framing is removed, it is card-length and made of digits
    or of the AZERTY number-row symbols that stand for digits, or when it
    carries control characters or an AIM prefix around a payload of at least
    ``MIN_FRAMED_PAYLOAD`` characters.
    """
    payload = strip_framing(raw)
    if len(payload) == CARD_NUMBER_LENGTH and set(payload) <= _CARD_CHARACTERS:
        return True
    is_framed = bool(_CONTROL.search(raw)) or bool(
        _AIM_PREFIX.match(_CONTROL.sub("", raw).lstrip())
    )
    return is_framed and len(payload) >= MIN_FRAMED_PAYLOAD


class KeyBurst:
    """The text of the keys typed in the current burst, control characters included.

    Attributes:
        raw: every key's text since the burst began.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        max_gap: float = BURST_GAP_SECONDS,
    ) -> None:
        self._clock = clock
        self._max_gap = max_gap
        self._last_key_at: float | None = None
        self.raw = ""

    def record(self, text: str) -> None:
        """Add one key's text, starting a new burst after a pause."""
        now = self._clock()
        if self._last_key_at is None or now - self._last_key_at > self._max_gap:
            self.raw = ""
        self._last_key_at = now
        self.raw += text

    def reset(self) -> None:
        """Forget the current burst, after it was submitted or the field cleared."""
        self.raw = ""
        self._last_key_at = None

    def is_scan(self) -> bool:
        """Tell whether the current burst has the shape of a card scan."""
        return looks_like_scan(self.raw)

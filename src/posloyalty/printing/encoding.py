"""The one text encoder for the printer: a code page the profile lists, or ASCII.

Each line is printed in the first code page, in order of preference, that can
encode every character of it, after ``ESC t n`` with the table number the
printer profile gives that page. A line that no page can encode is printed
through one transliteration to ASCII (``Şule Işıkgöz`` becomes
``Sule Isikgoz``), so a line never mixes code pages, never carries raw UTF-8
and never turns into a run of ``?``.
"""

from __future__ import annotations

import codecs
import logging
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from posloyalty.printing.escpos_lib import capabilities

logger = logging.getLogger(__name__)

ESC_T = b"\x1bt"  # ESC t n: select character code table n

# Letters and signs that Unicode decomposition does not reduce to ASCII.
_TRANSLITERATIONS = {
    "ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
    "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D", "ħ": "h", "Ħ": "H",
    "€": "EUR", "£": "GBP", "¥": "JPY", "·": ".", "•": "*", "–": "-", "—": "-",
    "‘": "'", "’": "'", "‚": ",", "“": '"', "”": '"', "„": '"', "«": '"',
    "»": '"', "…": "...", "×": "x", "÷": "/", "°": "o", "©": "(c)", "®": "(R)",
    "™": "TM", "\u00a0": " ", "\u202f": " ",
}  # fmt: skip

# Pages whose bytes above 0x7F are lead bytes of a multi-byte encoding.
_MULTI_BYTE = frozenset({"CP932"})


class UnknownCodePageError(ValueError):
    """A code page name is not in python-escpos's database or has no byte table."""


@dataclass(frozen=True)
class CodePage:
    """A single-byte code page and the table number one printer profile gives it.

    Attributes:
        name: the name in python-escpos's database, such as ``CP858``.
        table: ``n`` of ``ESC t n`` on this profile.
        bytes_by_char: every non-ASCII character the page holds, to its byte.
    """

    name: str
    table: int
    bytes_by_char: dict[str, int] = field(repr=False, compare=False)

    def can_encode(self, text: str) -> bool:
        """Tell whether every character of ``text`` is ASCII or in this page."""
        return all(ord(char) < 0x80 or char in self.bytes_by_char for char in text)

    def encode(self, text: str) -> bytes:
        """Encode text that ``can_encode`` accepted."""
        return bytes(
            ord(char) if ord(char) < 0x80 else self.bytes_by_char[char] for char in text
        )

    @property
    def select_command(self) -> bytes:
        """``ESC t n`` selecting this page."""
        return ESC_T + bytes((self.table,))


@cache
def code_page_bytes(name: str) -> dict[str, int]:
    """Return the characters of code page ``name`` above 0x7F, each to its byte.

    The result is cached and shared, so callers must not change it.

    Raises:
        UnknownCodePageError: the page is unknown, multi-byte or has no table.
    """
    encodings = capabilities()["encodings"]
    entry = encodings.get(name)
    if entry is None or name in _MULTI_BYTE:
        raise UnknownCodePageError(name)
    if "python_encode" in entry:
        try:
            codec = codecs.lookup(entry["python_encode"])
        except LookupError as error:
            raise UnknownCodePageError(name) from error
        table: dict[str, int] = {}
        for value in range(0x80, 0x100):
            try:
                char = codec.decode(bytes((value,)))[0]
            except UnicodeDecodeError:
                continue
            table.setdefault(char, value)
        return table
    if "data" in entry:
        chars = "".join(entry["data"])
        return {char: 0x80 + i for i, char in enumerate(chars) if char not in " \ufffd"}
    raise UnknownCodePageError(name)


def known_code_page_names() -> list[str]:
    """Return every code page name the encoder can write, in name order."""
    names = []
    for name in sorted(capabilities()["encodings"]):
        try:
            code_page_bytes(name)
        except UnknownCodePageError:
            continue
        names.append(name)
    return names


def profile_code_pages(profile: dict) -> dict[str, int]:
    """Return the code pages a profile lists that the encoder can write.

    Returns:
        Page name to table number, in table order; a page listed under several
        numbers keeps the lowest.
    """
    pages: dict[str, int] = {}
    for number, name in sorted(profile["codePages"].items(), key=lambda i: int(i[0])):
        if name in pages:
            continue
        try:
            code_page_bytes(name)
        except UnknownCodePageError:
            continue
        pages[name] = int(number)
    return pages


def transliterate(text: str) -> str:
    """Reduce text to printable ASCII by one fixed rule.

    Letters lose their accents (Unicode NFKD without combining marks), the
    letters and signs in ``_TRANSLITERATIONS`` are spelled out, and any other
    run of characters becomes a single ``?``.
    """
    output: list[str] = []
    for char in text:
        if char in _TRANSLITERATIONS:
            output.append(_TRANSLITERATIONS[char])
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        ascii_part = "".join(c for c in decomposed if 0x20 <= ord(c) < 0x7F)
        if ascii_part:
            output.append(ascii_part)
        elif unicodedata.combining(char):
            continue
        elif not output or output[-1] != "?":
            output.append("?")
    return "".join(output)


def strip_control_characters(text: str) -> str:
    """Replace control characters with spaces, so text can never send a command."""
    return "".join(
        " " if unicodedata.category(char) in ("Cc", "Cf") else char for char in text
    )


class TextEncoder:
    """Encode lines of text for one printer, choosing a code page per line.

    Attributes:
        code_pages: the pages to try, in order of preference.
        current: the page the printer has selected, or ``None`` after ``ESC @``.
    """

    def __init__(self, code_pages: list[CodePage]) -> None:
        if not code_pages:
            raise ValueError("a text encoder needs at least one code page")
        self.code_pages = code_pages
        self.current: CodePage | None = None

    @classmethod
    def for_profile(
        cls, profile: dict, preferred: tuple[str, ...] | None = None
    ) -> TextEncoder:
        """Build the encoder for a profile and, optionally, the pages to prefer.

        Raises:
            UnknownCodePageError: a preferred page is not in the profile.
        """
        tables = profile_code_pages(profile)
        names = list(preferred) if preferred else list(tables)
        pages = []
        for name in names:
            if name not in tables:
                raise UnknownCodePageError(name)
            pages.append(CodePage(name, tables[name], code_page_bytes(name)))
        return cls(pages)

    @property
    def primary(self) -> CodePage:
        """The most preferred page, selected after every ``ESC @``."""
        return self.code_pages[0]

    def reset(self) -> bytes:
        """Forget the selected page after ``ESC @`` and select the primary one again.

        Returns:
            ``ESC t n`` for the primary page, to send right after ``ESC @``.
        """
        self.current = self.primary
        return self.primary.select_command

    def choose(self, text: str) -> tuple[CodePage, str]:
        """Pick the page for a line and the text to print in it.

        Returns:
            The first page that encodes the whole line, and the line. An ASCII
            line stays in the current page. When no page can encode the line,
            the current (or primary) page and the line transliterated to ASCII.
        """
        for page in self.code_pages:
            if page.can_encode(text):
                if self.current is not None and text.isascii():
                    return self.current, text
                return page, text
        fallback = transliterate(text)
        logger.debug("no code page contains a line of %d characters", len(text))
        return self.current or self.primary, fallback

    def printable(self, text: str) -> str:
        """Return text as it will print: unchanged, or transliterated to ASCII.

        The renderer lays out this text, so a transliterated name such as
        ``Sule Isikgoz`` is aligned by its printed length.
        """
        return self.choose(strip_control_characters(text))[1]

    def encode_line(self, text: str) -> bytes:
        """Encode one line, preceded by ``ESC t n`` when it needs another page."""
        page, printable = self.choose(strip_control_characters(text))
        prefix = b""
        if page != self.current:
            prefix = page.select_command
            self.current = page
        return prefix + page.encode(printable)

"""A decoded view of ESC/POS bytes: the text as the printer reads it, and commands.

Tests and ``receipt show --format decoded`` use it to check what a printer
would print: text is decoded with the code page that the last ``ESC t n``
selected on the given profile, QR codes and raster images are extracted.
Only the commands this till sends are understood; anything else is listed as
an unknown byte, so a test notices it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from posloyalty.printing.encoding import code_page_bytes, profile_code_pages

logger = logging.getLogger(__name__)

ESC, GS, DLE = 0x1B, 0x1D, 0x10


@dataclass
class NativeQr:
    """A QR code the printer draws itself (``GS ( k``)."""

    payload: bytes
    module_dots: int
    error_correction: str


@dataclass
class RasterImage:
    """A ``GS v 0`` raster image: ``rows`` of 0/1 pixels, 1 is black."""

    width: int
    height: int
    rows: list[list[int]] = field(repr=False)

    def to_pil(self) -> Any:
        """Return the image as a black-on-white PIL image."""
        from PIL import Image

        image = Image.new("L", (self.width, self.height), 255)
        pixels = image.load()
        for y, row in enumerate(self.rows):
            for x, value in enumerate(row):
                if value:
                    pixels[x, y] = 0
        return image


@dataclass
class DecodedJob:
    """The commands and text of a job's bytes, in order.

    Attributes:
        events: one string per command or text line, such as ``ESC t 19 CP858``.
        lines: the printed text lines, decoded.
        code_page_commands: every ``ESC t n`` as ``(n, page name)``.
        initialisations: the positions in ``events`` of each ``ESC @``.
        qr_codes: native QR codes printed.
        images: raster images printed.
        unknown: bytes that are neither text nor a known command.
    """

    events: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    code_page_commands: list[tuple[int, str]] = field(default_factory=list)
    initialisations: list[int] = field(default_factory=list)
    qr_codes: list[NativeQr] = field(default_factory=list)
    images: list[RasterImage] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    cuts: int = 0

    @property
    def text(self) -> str:
        """The printed text, one line per line."""
        return "\n".join(self.lines)


# Fixed-length commands: prefix to the number of parameter bytes after it.
_SIMPLE_COMMANDS = {
    (ESC, ord("!")): ("ESC !", 1),
    (ESC, ord("E")): ("ESC E", 1),
    (ESC, ord("a")): ("ESC a", 1),
    (ESC, ord("d")): ("ESC d", 1),
    (ESC, ord("J")): ("ESC J", 1),
    (ESC, ord("M")): ("ESC M", 1),
    (ESC, ord("-")): ("ESC -", 1),
    (ESC, ord("2")): ("ESC 2", 0),
    (ESC, ord("3")): ("ESC 3", 1),
    (GS, ord("!")): ("GS !", 1),
    (GS, ord("B")): ("GS B", 1),
    (DLE, 0x04): ("DLE EOT", 1),
}
_QR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}


def _char_table(page: str) -> dict[int, str]:
    return {value: char for char, value in code_page_bytes(page).items()}


def decode_escpos(data: bytes, profile: dict) -> DecodedJob:
    """Decode the bytes of a job for a printer of ``profile``."""
    tables = {number: name for name, number in profile_code_pages(profile).items()}
    job = DecodedJob()
    table: dict[int, str] = {}
    line: list[str] = []
    module_dots = 3
    level = "L"
    pending_qr = b""
    i = 0

    def flush_line() -> None:
        job.lines.append("".join(line))
        job.events.append("TEXT " + "".join(line))
        line.clear()

    while i < len(data):
        byte = data[i]
        if byte == 0x0A:
            flush_line()
            i += 1
            continue
        if byte >= 0x20 and byte != 0x7F:
            line.append(chr(byte) if byte < 0x80 else table.get(byte, "\ufffd"))
            i += 1
            continue
        pair = (byte, data[i + 1]) if i + 1 < len(data) else (byte, -1)
        if pair == (ESC, ord("@")):
            job.initialisations.append(len(job.events))
            job.events.append("ESC @")
            table = {}
            i += 2
        elif pair == (ESC, ord("t")):
            number = data[i + 2]
            name = tables.get(number, "not in profile")
            job.code_page_commands.append((number, name))
            job.events.append(f"ESC t {number} {name}")
            table = _char_table(name) if number in tables else {}
            i += 3
        elif pair in _SIMPLE_COMMANDS:
            name, size = _SIMPLE_COMMANDS[pair]
            params = data[i + 2 : i + 2 + size]
            job.events.append(f"{name} {' '.join(str(p) for p in params)}".strip())
            i += 2 + size
        elif pair == (GS, ord("V")):
            mode = data[i + 2]
            size = 2 if mode in (65, 66) else 1
            job.events.append("GS V cut")
            job.cuts += 1
            i += 2 + size
        elif pair == (GS, ord("(")) and data[i + 2] == ord("k"):
            length = data[i + 3] | data[i + 4] << 8
            body = data[i + 5 : i + 5 + length]
            function = body[1]
            if function == 67:
                module_dots = body[2]
            elif function == 69:
                level = _QR_LEVELS.get(body[2], "?")
            elif function == 80:
                pending_qr = bytes(body[3:])
            elif function == 81:
                job.qr_codes.append(NativeQr(pending_qr, module_dots, level))
                job.events.append(
                    f"QR native {pending_qr.decode('latin-1')} module={module_dots}"
                    f" level={level}"
                )
            i += 5 + length
        elif pair == (GS, ord("v")) and data[i + 2] == ord("0"):
            width_bytes = data[i + 4] | data[i + 5] << 8
            height = data[i + 6] | data[i + 7] << 8
            start = i + 8
            raster = data[start : start + width_bytes * height]
            rows = []
            for y in range(height):
                row_bytes = raster[y * width_bytes : (y + 1) * width_bytes]
                rows.append(
                    [(b >> (7 - bit)) & 1 for b in row_bytes for bit in range(8)]
                )
            image = RasterImage(width_bytes * 8, height, rows)
            job.images.append(image)
            job.events.append(f"GS v 0 raster {image.width}x{image.height}")
            i = start + width_bytes * height
        else:
            job.unknown.append(byte)
            job.events.append(f"UNKNOWN 0x{byte:02x}")
            i += 1
    if line:
        flush_line()
    return job

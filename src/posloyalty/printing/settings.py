"""Printer settings: the printer's URI, its profile, paper width and code pages.

Importing this module adds the printer keys to ``services.config.VALIDATORS``,
so ``config set`` and ``printer set`` check them before anything is stored.

URIs:

- ``tcp://HOST[:PORT]``: a network printer, port 9100 when omitted; add
  ``?status=off`` for a printer that ignores ``DLE EOT`` status requests.
- ``usb://VID:PID``: a USB printer by vendor and product id, in hexadecimal.
- ``serial:///dev/ttyUSB0?baudrate=N``: a serial printer, 9600 baud when omitted.
- ``cups://QUEUE``: a raw CUPS queue, through the ``lp`` command.
- ``file:///PATH``: a device file such as ``/dev/usb/lp0``, a file that each
  job is appended to, or a folder (ending in ``/``) with one file per job.
- ``none``: no printer; jobs stay queued.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from posloyalty.printing.encoding import (
    UnknownCodePageError,
    known_code_page_names,
    profile_code_pages,
)
from posloyalty.printing.escpos_lib import profile_data, profile_names
from posloyalty.services import config
from posloyalty.services.errors import InvalidInputError

logger = logging.getLogger(__name__)

DEFAULT_TCP_PORT = 9100
DEFAULT_BAUDRATE = 9600
DEFAULT_PROFILE = "TM-T20II"
DEFAULT_WIDTH_MM = 80
PAPER_WIDTHS_MM = (58, 80)
AUTO_CODE_PAGES = "auto"
DEFAULT_RECEIPTS_FOLDER = "receipts"

URI_HELP = (
    "use tcp://HOST[:9100], usb://VID:PID, serial:///dev/ttyUSB0?baudrate=9600,"
    " cups://QUEUE, file:///PATH or none"
)

# Printable width in dots at 203 dpi of common 58 and 80 mm printers (Epson
# TM-T20II: 576 dots; 58 mm printers such as the POS-5890: 384 dots).
_PRINTABLE_DOTS_AT_203_DPI = {58: 384, 80: 576}
_DEFAULT_DPI = 203
_FONT_A_DOTS = 12


@dataclass(frozen=True)
class PrinterUri:
    """A parsed printer URI; only the fields of its scheme are set."""

    scheme: str  # tcp, usb, serial, cups, file, none
    text: str
    host: str = ""
    port: int = DEFAULT_TCP_PORT
    status_query: bool = True
    vendor_id: int = 0
    product_id: int = 0
    device: str = ""
    baudrate: int = DEFAULT_BAUDRATE
    queue: str = ""
    path: str = ""

    @property
    def description(self) -> str:
        """The printer's address as a cashier reads it in a message."""
        if self.scheme == "tcp":
            return f"{self.host}:{self.port}"
        if self.scheme == "usb":
            return f"USB {self.vendor_id:04x}:{self.product_id:04x}"
        if self.scheme == "serial":
            return f"{self.device} at {self.baudrate} baud"
        if self.scheme == "cups":
            return f"CUPS queue {self.queue}"
        if self.scheme == "file":
            return self.path
        return "no printer"


def _invalid_uri(text: str, reason: str) -> InvalidInputError:
    return InvalidInputError(f"invalid printer URI {text!r}: {reason}; {URI_HELP}")


def _tcp_port(text: str, netloc: str) -> int:
    """Read the port after the host, or the default when there is none."""
    host, colon, port_text = netloc.rpartition(":")
    if not colon or host.endswith(":") or port_text.endswith("]"):
        return DEFAULT_TCP_PORT  # no port, or the colons of a bare IPv6 address
    if not (port_text.isascii() and port_text.isdigit()):
        raise _invalid_uri(text, f"the port {port_text!r} is not a number")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise _invalid_uri(text, f"the port {port} is not between 1 and 65535")
    return port


def parse_printer_uri(text: str) -> PrinterUri:
    """Parse a printer URI.

    Raises:
        InvalidInputError: the scheme is unknown or a part is missing or malformed.
    """
    stripped = text.strip()
    if stripped.lower() == "none":
        return PrinterUri("none", "none")
    try:
        parts = urlsplit(stripped)
    except ValueError as error:  # an unclosed IPv6 bracket, as in tcp://[::1
        raise _invalid_uri(text, str(error)) from error
    scheme = parts.scheme.lower()
    query = parse_qs(parts.query)
    if scheme == "tcp":
        port = _tcp_port(text, parts.netloc)
        if not parts.hostname:
            raise _invalid_uri(text, "the host is missing")
        status = query.get("status", ["on"])[-1].lower()
        if status not in ("on", "off"):
            raise _invalid_uri(text, f"status={status} is neither on nor off")
        return PrinterUri(
            "tcp", stripped, host=parts.hostname, port=port, status_query=status == "on"
        )
    if scheme == "usb":
        match = re.fullmatch(r"([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})", parts.netloc)
        if not match:
            raise _invalid_uri(text, "give the vendor and product id as hex VID:PID")
        return PrinterUri(
            "usb",
            stripped,
            vendor_id=int(match.group(1), 16),
            product_id=int(match.group(2), 16),
        )
    if scheme == "serial":
        device = unquote(parts.path)
        if not device:
            raise _invalid_uri(text, "the device path is missing")
        baud_text = query.get("baudrate", [str(DEFAULT_BAUDRATE)])[-1]
        if not (baud_text.isascii() and baud_text.isdigit()) or int(baud_text) <= 0:
            raise _invalid_uri(text, f"baudrate {baud_text!r} is not a positive number")
        return PrinterUri("serial", stripped, device=device, baudrate=int(baud_text))
    if scheme == "cups":
        queue = unquote(parts.netloc or parts.path.strip("/"))
        if not queue:
            raise _invalid_uri(text, "the queue name is missing")
        return PrinterUri("cups", stripped, queue=queue)
    if scheme == "file":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/"):
            raise _invalid_uri(text, "write an absolute path after file://")
        return PrinterUri("file", stripped, path=path)
    raise _invalid_uri(text, f"unknown scheme {parts.scheme or stripped!r}")


def check_printer_uri(value: str) -> str:
    """Validate a printer URI setting and return it with surrounding spaces removed."""
    return parse_printer_uri(value).text


def check_printer_profile(value: str) -> str:
    """Validate a profile name against python-escpos's capability database."""
    name = value.strip()
    names = profile_names()
    if name in names:
        return name
    by_folded = {known.casefold(): known for known in names}
    if name.casefold() in by_folded:
        return by_folded[name.casefold()]
    raise InvalidInputError(
        f"unknown printer profile {value!r}: use one of {', '.join(names)}"
    )


def check_printer_width(value: str) -> str:
    """Validate a paper width in millimetres: 58 or 80."""
    stripped = value.strip().removesuffix("mm").strip()
    if stripped not in {str(width) for width in PAPER_WIDTHS_MM}:
        raise InvalidInputError(
            f"invalid paper width {value!r}: use 58 or 80 (millimetres)"
        )
    return stripped


def check_printer_code_pages(value: str) -> str:
    """Validate ``auto`` or a comma-separated list of code pages, most preferred first.

    Whether the profile lists each page is checked by ``printer_settings``,
    because the profile is a separate setting.
    """
    stripped = value.strip()
    if not stripped or stripped.lower() == AUTO_CODE_PAGES:
        return AUTO_CODE_PAGES
    known = known_code_page_names()
    by_folded = {name.casefold(): name for name in known}
    names = []
    for part in stripped.split(","):
        name = by_folded.get(part.strip().casefold())
        if name is None:
            raise InvalidInputError(
                f"unknown code page {part.strip()!r}: use auto or names such as"
                f" CP858, CP857, CP437 (known: {', '.join(known)})"
            )
        if name not in names:
            names.append(name)
    return ",".join(names)


VALIDATORS = {
    "printer_uri": check_printer_uri,
    "printer_profile": check_printer_profile,
    "printer_width": check_printer_width,
    "printer_codepages": check_printer_code_pages,
}
config.VALIDATORS.update(VALIDATORS)


@dataclass(frozen=True)
class PrinterSettings:
    """Everything the printer adapter needs, checked together.

    Attributes:
        uri: where the printer is.
        profile_name: the python-escpos profile.
        width_mm: the paper width, 58 or 80.
        code_pages: the pages to use, most preferred first; ``None`` for every
            page the profile lists, in table order.
    """

    uri: PrinterUri
    profile_name: str
    width_mm: int
    code_pages: tuple[str, ...] | None

    @property
    def profile(self) -> dict:
        """The profile's data from python-escpos's capability database."""
        return profile_data(self.profile_name)

    @property
    def dpi(self) -> int:
        """The print head's dots per inch, from the profile or 203."""
        value = self.profile.get("media", {}).get("dpi")
        return value if isinstance(value, int) else _DEFAULT_DPI

    def _profile_matches_paper(self) -> bool:
        width = self.profile.get("media", {}).get("width", {})
        mm, pixels = width.get("mm"), width.get("pixels")
        if not isinstance(mm, int | float) or not isinstance(pixels, int):
            return False
        return abs(mm - self.width_mm) <= 10

    @property
    def paper_dots(self) -> int:
        """Printable width in dots; no image sent to the printer is wider."""
        if self._profile_matches_paper():
            return int(self.profile["media"]["width"]["pixels"])
        dots = _PRINTABLE_DOTS_AT_203_DPI[self.width_mm] * self.dpi // _DEFAULT_DPI
        return dots - dots % 8

    @property
    def columns(self) -> int:
        """Characters per line in font A."""
        fonts = self.profile.get("fonts", {})
        columns = fonts.get("0", {}).get("columns")
        if self._profile_matches_paper() and isinstance(columns, int):
            return columns
        return self.paper_dots // _FONT_A_DOTS


def default_printer_uri(data_dir: Path) -> str:
    """Return the URI used when none is set: a folder of receipt files."""
    return (data_dir / DEFAULT_RECEIPTS_FOLDER).as_uri() + "/"


def printer_settings(values: dict[str, str], data_dir: Path) -> PrinterSettings:
    """Check the stored printer settings together and return them.

    Runs when the worker starts and when ``printer set`` saves, so an unknown
    profile, code page or URI is reported before the first sale.

    Raises:
        InvalidInputError: naming the invalid setting and how to fix it.
    """
    uri = parse_printer_uri(values.get("printer_uri") or default_printer_uri(data_dir))
    profile_name = check_printer_profile(values.get("printer_profile", DEFAULT_PROFILE))
    width = int(check_printer_width(values.get("printer_width", str(DEFAULT_WIDTH_MM))))
    pages_value = check_printer_code_pages(
        values.get("printer_codepages", AUTO_CODE_PAGES)
    )
    tables = profile_code_pages(profile_data(profile_name))
    if not tables:
        raise InvalidInputError(
            f"printer profile {profile_name} lists no code page this till can"
            " write: choose another profile with printer set --profile"
        )
    code_pages = None
    if pages_value != AUTO_CODE_PAGES:
        code_pages = tuple(pages_value.split(","))
        for name in code_pages:
            if name not in tables:
                raise InvalidInputError(
                    f"code page {name} is not in printer profile {profile_name}:"
                    f" use auto or one of {', '.join(tables)}"
                )
    return PrinterSettings(uri, profile_name, width, code_pages)


__all__ = [
    "PrinterSettings",
    "PrinterUri",
    "UnknownCodePageError",
    "parse_printer_uri",
    "printer_settings",
]

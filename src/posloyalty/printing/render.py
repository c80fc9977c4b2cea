"""Rendering receipts and cards to ESC/POS bytes through python-escpos.

python-escpos's ``Dummy`` printer collects the commands; this module keeps
its pitfalls away from callers:

- a profile whose paper width is unknown makes ``image()`` print a warning on
  stdout and skip the width check, so the profile is given the configured
  paper width in dots;
- ``Profile(...)`` replaces the profile's features with an empty dict, so the
  profile object is built here from a copy of the database entry;
- its raster QR code has a quiet zone of one module, and its native QR code
  cannot be centred, so both are drawn here with a four-module quiet zone;
- ``barcode()`` and centring leave the alignment changed, so every block that
  changes the alignment sets it back to left;
- ``cut()`` does nothing on a profile without a cutter, so the paper is fed
  past the tear bar instead.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

from posloyalty.domain.receipt import (
    QR_QUIET_ZONE_MODULES,
    Align,
    Block,
    Cut,
    Feed,
    Pair,
    QrCode,
    Rule,
    TextLine,
    pair_lines,
    qr_modules,
    wrap_text,
)
from posloyalty.printing.encoding import TextEncoder
from posloyalty.printing.escpos_lib import capabilities
from posloyalty.printing.settings import PrinterSettings

logger = logging.getLogger(__name__)

ESC_J = b"\x1bJ"  # ESC J n: print and feed n dots
MAX_QR_MODULE_DOTS = 8
MIN_QR_MODULE_DOTS = 2  # smaller modules do not scan reliably from thermal paper
FEED_BEFORE_TEAR_LINES = 4


class QrMode:
    """The ways a printer can draw a QR code."""

    NATIVE = "native"  # GS ( k: the printer draws the symbol
    RASTER = "raster"  # GS v 0: the till sends the symbol as an image
    TEXT = "text"  # the payload printed as text


def _profile_object(settings: PrinterSettings) -> Any:
    """Build a python-escpos profile object carrying the configured paper width."""
    capabilities()
    from escpos.capabilities import Profile

    data = copy.deepcopy(settings.profile)
    media = data.setdefault("media", {})
    media["width"] = {"mm": settings.width_mm, "pixels": settings.paper_dots}
    media["dpi"] = settings.dpi

    class TillProfile(Profile):
        def __init__(self) -> None:
            self.profile_data = data
            self.columns = None

    return TillProfile()


@dataclass(frozen=True)
class QrPlan:
    """The plan for one QR code: mode and module size in dots."""

    mode: str
    module_dots: int


def plan_qr(settings: PrinterSettings, version: int) -> QrPlan:
    """Choose native, raster or text for a QR code of ``version`` on this printer.

    The symbol with its four-module quiet zone on both sides must fit the
    printable width with modules of at least ``MIN_QR_MODULE_DOTS`` dots.
    Otherwise the payload prints as text.
    """
    features = settings.profile.get("features", {})
    span = qr_modules(version) + 2 * QR_QUIET_ZONE_MODULES
    module_dots = min(MAX_QR_MODULE_DOTS, settings.paper_dots // span)
    if module_dots < MIN_QR_MODULE_DOTS:
        return QrPlan(QrMode.TEXT, 0)
    if features.get("qrCode"):
        return QrPlan(QrMode.NATIVE, module_dots)
    if features.get("bitImageRaster"):
        return QrPlan(QrMode.RASTER, module_dots)
    return QrPlan(QrMode.TEXT, 0)


def qr_image(payload: str, version: int, module_dots: int) -> Any:
    """Draw a QR code at level M with a four-module quiet zone, as a 1-bit image."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(
        version=version,
        error_correction=ERROR_CORRECT_M,
        box_size=module_dots,
        border=QR_QUIET_ZONE_MODULES,
    )
    code.add_data(payload)
    code.make(fit=False)
    return code.make_image().get_image().convert("1")


class EscposRenderer:
    """Render document blocks to ESC/POS bytes for one printer's settings."""

    def __init__(self, settings: PrinterSettings) -> None:
        from escpos.printer import Dummy

        self.settings = settings
        self.columns = settings.columns
        self.encoder = TextEncoder.for_profile(settings.profile, settings.code_pages)
        self._printer = Dummy(profile=_profile_object(settings))
        self._style = (Align.LEFT, False, False)

    def render(self, blocks: list[Block]) -> bytes:
        """Return the bytes of one document, starting with ``ESC @``."""
        printer = self._printer
        printer.clear()
        self._initialise()
        for block in blocks:
            if isinstance(block, TextLine):
                self._text_line(block)
            elif isinstance(block, Pair):
                self._set_style(Align.LEFT, block.bold)
                label = self.encoder.printable(block.label)
                value = self.encoder.printable(block.value)
                for line in pair_lines(label, value, self.columns):
                    self._line(line)
            elif isinstance(block, Rule):
                self._set_style(Align.LEFT)
                self._line(block.char * self.columns)
            elif isinstance(block, QrCode):
                self._qr(block)
            elif isinstance(block, Feed):
                printer._raw(b"\n" * block.lines)
            elif isinstance(block, Cut):
                self._set_style(Align.LEFT)
                self._cut()
        self._set_style(Align.LEFT)
        return printer.output

    def _set_style(
        self, align: Align, bold: bool = False, double_height: bool = False
    ) -> None:
        """Send only the style commands that differ from the printer's state."""
        old_align, old_bold, old_double_height = self._style
        if double_height != old_double_height:
            # ESC ! also clears bold, so bold is sent again after it.
            self._printer.set(
                double_height=double_height, normal_textsize=not double_height
            )
            old_bold = False
        if bold != old_bold:
            self._printer.set(bold=bold)
        if align != old_align:
            self._printer.set(align=align.value)
        self._style = (align, bold, double_height)

    def _initialise(self) -> None:
        # NOTE: ESC @ resets the printer's character table, so the selected
        # code page is sent again right after it.
        self._printer.hw("INIT")
        self._printer._raw(self.encoder.reset())
        self._style = (Align.LEFT, False, False)

    def _line(self, text: str) -> None:
        self._printer._raw(self.encoder.encode_line(text) + b"\n")

    def _text_line(self, block: TextLine) -> None:
        self._set_style(block.align, block.bold, block.double_height)
        for part in wrap_text(self.encoder.printable(block.text), self.columns):
            self._line(part)

    def _qr(self, block: QrCode) -> None:
        plan = plan_qr(self.settings, block.version)
        if plan.mode == QrMode.NATIVE:
            self._native_qr(block.payload, plan.module_dots)
        elif plan.mode == QrMode.RASTER:
            self._raster_qr(block, plan.module_dots)
        else:
            self._set_style(Align.CENTER)
            text = self.encoder.printable(block.fallback_text)
            for part in wrap_text(text, self.columns):
                self._line(part)

    def _native_qr(self, payload: str, module_dots: int) -> None:
        from escpos.constants import QR_ECLEVEL_M

        printer = self._printer
        quiet_zone = bytes((QR_QUIET_ZONE_MODULES * module_dots,))
        # Centred, the symbol has at least four modules of white beside it
        # because plan_qr sized it so; ESC J adds the same above and below.
        self._set_style(Align.CENTER)
        printer._raw(ESC_J + quiet_zone)
        printer.qr(payload, ec=QR_ECLEVEL_M, size=module_dots, native=True)
        printer._raw(ESC_J + quiet_zone)
        self._set_style(Align.LEFT)

    def _raster_qr(self, block: QrCode, module_dots: int) -> None:
        self._set_style(Align.LEFT)
        image = qr_image(block.payload, block.version, module_dots)
        self._printer.image(image, impl="bitImageRaster", center=True)

    def _cut(self) -> None:
        features = self.settings.profile.get("features", {})
        if features.get("paperFullCut") or features.get("paperPartCut"):
            self._printer.cut()
        else:
            self._printer.print_and_feed(FEED_BEFORE_TEAR_LINES)

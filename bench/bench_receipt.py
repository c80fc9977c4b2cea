"""Rendering a receipt to ESC/POS bytes, against python-escpos's own Dummy printer.

The product renders through its layout, code page encoder and QR planning;
the baseline prints the same lines and QR code with ``Dummy`` calls directly
(``set``, ``textln``, ``qr``, ``cut``), as a script using python-escpos would.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bench.common import summary, time_calls

ROUNDS = 300


def _receipt():
    from posloyalty.domain.money import Currency
    from posloyalty.domain.receipt import Receipt

    return Receipt(
        store="Main store",
        till="Till 1",
        occurred_at=datetime(2025, 3, 29, 12, 0),
        sale_id="1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        sale_reference="1B4E28BA",
        amount_minor=4599,
        discount_minor=50,
        currency=Currency("EUR"),
        decimal_separator=",",
        points_earned=45,
        points_redeemed=50,
        points_reversed=0,
        balance=1234,
        member_name="Jürgen Weiß",
        card_number="1234567890123456789012",
    )


def _baseline(profile: str, blocks, columns: int, native: bool):
    """Render the same document with plain python-escpos calls."""
    from escpos.printer import Dummy

    from posloyalty.domain.receipt import (
        Cut,
        Pair,
        QrCode,
        Rule,
        TextLine,
        pair_lines,
    )

    def render(_: int) -> bytes:
        printer = Dummy(profile=profile)
        printer.hw("INIT")
        for block in blocks:
            if isinstance(block, TextLine):
                printer.set(align=block.align.value, bold=block.bold)
                printer.textln(block.text)
            elif isinstance(block, Pair):
                for line in pair_lines(block.label, block.value, columns):
                    printer.textln(line)
            elif isinstance(block, Rule):
                printer.textln(block.char * columns)
            elif isinstance(block, QrCode):
                printer.qr(block.payload, size=6, native=native)
            elif isinstance(block, Cut):
                printer.cut()
        return printer.output

    return render


def _measure(profile: str, width: int) -> dict:
    from posloyalty.domain.receipt import receipt_blocks
    from posloyalty.printing.render import EscposRenderer, plan_qr
    from posloyalty.printing.settings import printer_settings

    settings = printer_settings(
        {
            "printer_uri": "none",
            "printer_profile": profile,
            "printer_width": str(width),
        },
        Path("."),
    )
    blocks = receipt_blocks(_receipt())
    mode = plan_qr(settings, 2).mode
    baseline = _baseline(profile, blocks, settings.columns, native=mode == "native")

    def product(_: int) -> bytes:
        # A new renderer per job, as the print worker does.
        return EscposRenderer(settings).render(blocks)

    # Warm both paths: python-escpos loads its profile database on first use.
    product(0)
    baseline(0)
    product_samples = time_calls(product, ROUNDS)
    baseline_samples = time_calls(baseline, ROUNDS)
    entry = summary(
        product_samples,
        baseline_samples,
        "within 3x of python-escpos Dummy",
    )
    entry["qr_mode"] = mode
    entry["profile"] = profile
    return entry


def run(results: dict) -> None:
    """Time receipts with a native QR code (TM-T88V) and a raster one (POS-5890)."""
    native = _measure("TM-T88V", 80)
    raster = _measure("POS-5890", 58)
    results["receipt_render"] = {
        **native,
        "raster_median": raster["median"],
        "raster_ratio": raster["ratio"],
    }
    results["receipt_render_raster"] = raster

"""Turning a print job into its document: receipt, member card or test page."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from posloyalty.domain.receipt import (
    SALE_QR_VERSION,
    Align,
    Block,
    Cut,
    Pair,
    QrCode,
    Rule,
    TextLine,
    card_blocks,
    receipt_blocks,
    render_text,
)
from posloyalty.printing.render import EscposRenderer, plan_qr
from posloyalty.printing.settings import PrinterSettings
from posloyalty.services.context import TillContext
from posloyalty.services.print_jobs import PrintJobView
from posloyalty.services.receipts import build_member_card, build_receipt

logger = logging.getLogger(__name__)

# Names that need different code pages. The test page prints each, so a
# cashier can check at once whether the printer's code pages are right.
CODE_PAGE_SAMPLES = (
    "Jürgen Weiß · Guthaben 120 Punkte · Rabatt 2,50 €",
    "François Lefèvre, Hélène Châtelain",
    "Zofia Łukasiewicz, Grzegorz Brzęczyszczykiewicz",
    "Şule Işıkgöz, Çağlar Öztürk",
)
TEST_QR_PAYLOAD = "POSLOYALTY TEST PAGE"


@dataclass(frozen=True)
class RenderedJob:
    """A job's bytes for the printer and its text preview."""

    data: bytes
    preview: str


def test_page_blocks(settings: PrinterSettings) -> list[Block]:
    """Lay out the test page: the settings, code page samples and a QR code."""
    pages = ", ".join(settings.code_pages) if settings.code_pages else "auto"
    qr_mode = plan_qr(settings, SALE_QR_VERSION).mode
    blocks: list[Block] = [
        TextLine("Printer test", Align.CENTER, bold=True, double_height=True),
        Rule(),
        Pair("Printer", settings.uri.description),
        Pair("Profile", settings.profile_name),
        Pair("Paper", f"{settings.width_mm} mm, {settings.paper_dots} dots"),
        Pair("Columns", str(settings.columns)),
        Pair("Code pages", pages),
        Pair("QR code", qr_mode),
        Rule(),
    ]
    blocks += [TextLine(sample) for sample in CODE_PAGE_SAMPLES]
    blocks += [QrCode(TEST_QR_PAYLOAD, SALE_QR_VERSION, TEST_QR_PAYLOAD), Cut()]
    return blocks


def slip_blocks(payload: dict) -> list[Block]:
    """Lay out a slip, such as the end-of-day figures, from its title and lines.

    The lines are laid out by whoever queued the slip, already cut to the paper.
    """
    title = str(payload.get("title", ""))
    blocks: list[Block] = [TextLine(title, Align.CENTER, bold=True), Rule()]
    blocks += [TextLine(str(line)) for line in payload.get("lines", [])]
    blocks.append(Cut())
    return blocks


def job_blocks(
    ctx: TillContext, settings: PrinterSettings, job: PrintJobView
) -> list[Block]:
    """Build a job's document from the database as committed now.

    Raises:
        NotFoundError, RejectedError: the sale or member cannot be printed.
    """
    if job.kind == "receipt":
        if job.sale_id is None:
            raise ValueError(f"receipt job {job.id} names no sale")
        receipt = build_receipt(ctx, job.sale_id, bool(job.payload.get("copy")))
        return receipt_blocks(receipt)
    if job.kind == "card":
        if job.member_id is None:
            raise ValueError(f"card job {job.id} names no member")
        return card_blocks(build_member_card(ctx, job.member_id))
    if job.kind == "test":
        return test_page_blocks(settings)
    if job.kind == "slip":
        return slip_blocks(job.payload)
    raise ValueError(f"print job {job.id} has unknown kind {job.kind!r}")


def render_blocks(settings: PrinterSettings, blocks: list[Block]) -> RenderedJob:
    """Render a document as ESC/POS bytes and as its text preview."""
    data = EscposRenderer(settings).render(blocks)
    return RenderedJob(data, render_text(blocks, settings.columns))


def render_job(
    ctx: TillContext, settings: PrinterSettings, job: PrintJobView
) -> RenderedJob:
    """Render a job for the configured printer."""
    return render_blocks(settings, job_blocks(ctx, settings, job))

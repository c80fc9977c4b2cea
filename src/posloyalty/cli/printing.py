"""Commands for the printer, receipts and member cards."""

from __future__ import annotations

import argparse
import sys

from posloyalty.cli.common import CommandError, add_data_dir_option, command_group
from posloyalty.printing.decode import decode_escpos
from posloyalty.printing.documents import render_blocks
from posloyalty.printing.queue import PrintWorker
from posloyalty.printing.settings import (
    AUTO_CODE_PAGES,
    PrinterSettings,
    check_printer_code_pages,
    check_printer_profile,
    check_printer_uri,
    check_printer_width,
    printer_settings,
)
from posloyalty.services import members, print_jobs, receipts
from posloyalty.services.context import TillContext
from posloyalty.services.print_jobs import PrintJobView

WAIT_FOR_PRINT_S = 10.0
WORKER_STOP_S = 2.0


def _add(subparsers, name: str, help_text: str, handler) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    add_data_dir_option(parser, top_level=False)
    parser.set_defaults(handler=handler)
    return parser


def register(subparsers) -> None:
    printer = subparsers.add_parser("printer", help="set up and check the printer")
    printer_sub = printer.add_subparsers(dest="printer_command", required=True)
    set_parser = _add(printer_sub, "set", "choose the receipt printer", cmd_printer_set)
    set_parser.add_argument(
        "uri",
        help="tcp://HOST[:9100], usb://VID:PID, serial:///dev/ttyUSB0?baudrate=N,"
        " cups://QUEUE, file:///PATH or none",
    )
    set_parser.add_argument(
        "--profile", help="python-escpos printer profile, such as TM-T20II"
    )
    set_parser.add_argument(
        "--width", help="paper width in millimetres: 58 or 80", metavar="58|80"
    )
    set_parser.add_argument(
        "--codepages",
        help="code pages to use, most preferred first, such as CP858,CP857;"
        " auto for every page the profile lists",
    )
    _add(printer_sub, "status", "show the printer and failed jobs", cmd_printer_status)
    _add(
        printer_sub,
        "test",
        "print a test page with code page samples and a QR code",
        cmd_printer_test,
    )

    receipt = subparsers.add_parser("receipt", help="show or reprint receipts")
    receipt_sub = receipt.add_subparsers(dest="receipt_command", required=True)
    show = _add(receipt_sub, "show", "show a sale's receipt", cmd_receipt_show)
    show.add_argument("sale_id", metavar="SALE_ID")
    show.add_argument(
        "--format",
        choices=("text", "escpos", "decoded"),
        default="text",
        help="text: the preview; escpos: the printer's bytes on stdout;"
        " decoded: the bytes as commands and text",
    )
    again = _add(receipt_sub, "reprint", "print a sale's receipt again", cmd_reprint)
    again.add_argument("sale_id", metavar="SALE_ID")

    card_print = _add(
        command_group(subparsers, "card", "print, block or replace cards"),
        "print",
        "print a member's card",
        cmd_card_print,
    )
    card_print.add_argument("ref", metavar="REF", help="card number, id or phone")


def _settings(ctx: TillContext) -> PrinterSettings:
    return printer_settings(receipts.printer_setting_values(ctx), ctx.data_dir)


def print_and_wait(ctx: TillContext, job_id: int) -> PrintJobView:
    """Run a print worker until the job printed or failed, for at most 10 s."""
    worker = PrintWorker(ctx)
    worker.start()
    worker.wake()
    try:
        return receipts.wait_for_job(ctx, job_id, WAIT_FOR_PRINT_S)
    finally:
        worker.stop(WORKER_STOP_S)


def report_print_job(ctx: TillContext, job_id: int, what: str) -> bool:
    """Print a job, then report on stderr; return whether it printed."""
    _settings(ctx)
    job = print_and_wait(ctx, job_id)
    if job.status == print_jobs.PRINTED:
        print(f"posloyalty: {what} printed (job {job.id})", file=sys.stderr)
        return True
    if job.status == print_jobs.FAILED:
        print(f"posloyalty: {what} not printed: {job.last_error}", file=sys.stderr)
        return False
    print(
        f"posloyalty: {what} not printed within {WAIT_FOR_PRINT_S:g} s; job"
        f" {job.id} stays {job.status}, see posloyalty printer status",
        file=sys.stderr,
    )
    return False


def report_sale_receipt(ctx: TillContext, job_id: int | None) -> int:
    """Print a recorded sale's receipt and report the outcome on stderr.

    Returns:
        0, because the sale is recorded even when its receipt failed; the
        reason is on stderr.
    """
    if job_id is None:
        return 0
    try:
        report_print_job(ctx, job_id, "receipt")
    except Exception as error:  # the sale is committed, so report and exit 0
        print(
            f"posloyalty: receipt not printed: {error}; the sale is recorded,"
            f" reprint it with posloyalty receipt reprint",
            file=sys.stderr,
        )
    return 0


def cmd_printer_set(args: argparse.Namespace, ctx: TillContext) -> int:
    changes = {"printer_uri": check_printer_uri(args.uri)}
    if args.profile is not None:
        changes["printer_profile"] = check_printer_profile(args.profile)
    if args.width is not None:
        changes["printer_width"] = check_printer_width(args.width)
    if args.codepages is not None:
        changes["printer_codepages"] = check_printer_code_pages(args.codepages)
    # Check the settings together (a code page must be in the profile) before
    # anything is stored.
    printer_settings({**receipts.printer_setting_values(ctx), **changes}, ctx.data_dir)
    ctx.update_settings(changes)
    _print_settings(_settings(ctx))
    return 0


def _print_settings(settings: PrinterSettings) -> None:
    pages = ",".join(settings.code_pages) if settings.code_pages else AUTO_CODE_PAGES
    print(f"printer_uri={settings.uri.text}")
    print(f"printer_profile={settings.profile_name}")
    print(f"printer_width={settings.width_mm}")
    print(f"printer_codepages={pages}")
    print(f"paper_dots={settings.paper_dots} columns={settings.columns}")


def cmd_printer_status(args: argparse.Namespace, ctx: TillContext) -> int:
    _print_settings(_settings(ctx))
    status = receipts.printer_status(ctx)
    print(f"state={status.state}")
    print(f"message={status.message}")
    print(f"queued={status.queued}")
    print(f"failed={len(status.failed_jobs)}")
    for job in status.failed_jobs:
        target = job.sale_id or job.member_id or ""
        print(f"  job {job.id} {job.kind} {target}: {job.last_error}")
    return 0


def cmd_printer_test(args: argparse.Namespace, ctx: TillContext) -> int:
    job_id = receipts.print_test_page(ctx)
    return 0 if report_print_job(ctx, job_id, "test page") else 1


def cmd_receipt_show(args: argparse.Namespace, ctx: TillContext) -> int:
    from posloyalty.domain.receipt import receipt_blocks

    receipt = receipts.build_receipt(ctx, args.sale_id)
    settings = _settings(ctx)
    rendered = render_blocks(settings, receipt_blocks(receipt))
    if args.format == "escpos":
        sys.stdout.flush()
        sys.stdout.buffer.write(rendered.data)
        sys.stdout.buffer.flush()
    elif args.format == "decoded":
        for event in decode_escpos(rendered.data, settings.profile).events:
            print(event)
    else:
        sys.stdout.write(rendered.preview)
    return 0


def cmd_reprint(args: argparse.Namespace, ctx: TillContext) -> int:
    job_id = receipts.reprint(ctx, args.sale_id)
    return 0 if report_print_job(ctx, job_id, "receipt") else 1


def cmd_card_print(args: argparse.Namespace, ctx: TillContext) -> int:
    member = members.resolve_member(ctx, args.ref)
    if member.card_number is None:
        raise CommandError(
            f"member {member.name!r} has no card that is not blocked: issue one first",
            1,
        )
    job_id = receipts.print_card(ctx, member.id)
    return 0 if report_print_job(ctx, job_id, "member card") else 1

"""``posloyalty import members|sales``: bring in data from an existing POS."""

from __future__ import annotations

import argparse
from pathlib import Path

from posloyalty.cli.common import add_data_dir_option
from posloyalty.importing.members import import_members
from posloyalty.importing.sales import import_sales, terminal_progress
from posloyalty.services.context import TillContext


def register(subparsers) -> None:
    parser = subparsers.add_parser("import", help="import members or a sales journal")
    sub = parser.add_subparsers(dest="import_command", required=True)

    members = sub.add_parser(
        "members", help="import a customer CSV (Shopify, Square, or --map)"
    )
    add_data_dir_option(members, top_level=False)
    members.add_argument("file", type=Path)
    members.add_argument(
        "--map",
        help="field=Column pairs: name, first_name, last_name, email, phone,"
        " external_id, consent_email, consent_sms",
    )
    members.set_defaults(handler=cmd_import_members)

    sales = sub.add_parser("sales", help="replay a sales journal CSV into the ledger")
    add_data_dir_option(sales, top_level=False)
    sales.add_argument("file", type=Path)
    sales.add_argument(
        "--map", required=True,
        help="field=Column pairs: invoice, member, time, and amount or quantity and"
        " unit_price; sku optional",
    )  # fmt: skip
    sales.add_argument(
        "--time-format", required=True, help="strptime format of the time column"
    )
    sales.add_argument(
        "--enroll-unknown", action="store_true",
        help="enrol a member for each unknown customer id",
    )  # fmt: skip
    sales.add_argument(
        "--source", default="pos",
        help="name of the journal's system; an invoice is imported once per source",
    )  # fmt: skip
    sales.set_defaults(handler=cmd_import_sales)


def cmd_import_members(args: argparse.Namespace, ctx: TillContext) -> int:
    report = import_members(ctx, args.file, args.map)
    print(f"layout: {report.layout}")
    for line, reason in report.rejected:
        print(f"line {line}: rejected: {reason}")
    print(
        f"imported={report.imported} already_present={report.already_present}"
        f" rejected={len(report.rejected)}"
    )
    return 0


def cmd_import_sales(args: argparse.Namespace, ctx: TillContext) -> int:
    report = import_sales(ctx, args.file, args.map, args.time_format,
                          args.enroll_unknown, args.source, terminal_progress)  # fmt: skip
    print(
        f"invoices={report.invoices} sales={report.sales} returns={report.returns}"
        f" members={len(report.members)} enrolled={report.members_enrolled}"
        f" points={report.points} rows={report.rows}"
    )
    for reason, count in sorted(report.skipped_rows.items()):
        print(f"skipped {count} rows: {reason}")
    for reason, count in sorted(report.skipped_invoices.items()):
        print(f"skipped {count} invoices: {reason}")
    return 0

"""Commands that open the till window and add or remove the demo programme."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from posloyalty.cli.common import CommandError, add_data_dir_option
from posloyalty.services.context import TillContext

logger = logging.getLogger(__name__)

# The window cannot open here: exit code 1, "rejected", of the command line table.
EXIT_NO_DISPLAY = 1


def register(subparsers) -> None:
    till = subparsers.add_parser(
        "till",
        help="open the till window",
        description="Open the till window. Needs a display, or QT_QPA_PLATFORM=offscreen.",
    )
    add_data_dir_option(till, top_level=False)
    till.add_argument(
        "--demo",
        action="store_true",
        help="fill an empty data folder with a few hundred invented demo members",
    )
    till.add_argument(
        "--screenshot",
        metavar="FILE",
        type=Path,
        help="save a PNG of the window once it is idle, then exit",
    )
    till.add_argument(
        "--lookup",
        metavar="TEXT",
        help="submit TEXT (card number, phone or name) as if typed, at start",
    )
    till.add_argument(
        "--sale",
        metavar="AMOUNT",
        help="record a sale of AMOUNT for the member found by --lookup, at start",
    )
    till.set_defaults(handler=cmd_till)

    demo = subparsers.add_parser("demo", help="add or remove the demo members")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True)
    add = demo_sub.add_parser(
        "add", help="add invented demo members to a till that has no members"
    )
    add_data_dir_option(add, top_level=False)
    add.add_argument(
        "--members", type=int, default=None, metavar="N", help="how many, 1 to 1000"
    )
    add.set_defaults(handler=cmd_demo_add)
    remove = demo_sub.add_parser(
        "remove", help="delete every demo member with their sales and points"
    )
    add_data_dir_option(remove, top_level=False)
    remove.set_defaults(handler=cmd_demo_remove)


def _check_display() -> None:
    from posloyalty.ui.platform_check import DisplayUnavailableError, check_display

    try:
        check_display()
    except DisplayUnavailableError as error:
        raise CommandError(str(error), EXIT_NO_DISPLAY) from error


def cmd_till(args: argparse.Namespace, ctx: TillContext) -> int:
    if args.sale and not args.lookup:
        raise CommandError("--sale needs --lookup: give the member to record it for")
    _check_display()
    if args.demo:
        _add_demo_if_empty(ctx)
    from posloyalty.ui.app import StartOptions, run_till

    options = StartOptions(args.screenshot, args.lookup, args.sale)
    return run_till(ctx, options)


def _add_demo_if_empty(ctx: TillContext) -> None:
    from posloyalty.services import demo
    from posloyalty.ui.backends import configure_file_printer

    uri = configure_file_printer(ctx)
    if uri is not None:
        print(f"receipts are written as files to {uri}", file=sys.stderr)
    if demo.has_members(ctx):
        logger.info("demo not added: the till already has members")
        return
    summary = demo.add_demo_members(ctx)
    print(
        f"added {summary.members} demo members; remove them with"
        f" 'posloyalty --data-dir {ctx.data_dir} demo remove'",
        file=sys.stderr,
    )


def cmd_demo_add(args: argparse.Namespace, ctx: TillContext) -> int:
    from posloyalty.services import demo

    count = demo.DEFAULT_MEMBER_COUNT if args.members is None else args.members
    if not 1 <= count <= 1000:
        raise CommandError(f"invalid --members {count}: use 1 to 1000")
    summary = demo.add_demo_members(ctx, count)
    print(f"added {summary.members} demo members and {summary.sales} sales")
    return 0


def cmd_demo_remove(args: argparse.Namespace, ctx: TillContext) -> int:
    from posloyalty.services import demo

    summary = demo.remove_demo(ctx)
    print(
        f"removed {summary.members} demo members, {summary.sales} sales and"
        f" {summary.entries} ledger entries"
    )
    return 0

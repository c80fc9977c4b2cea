"""Commands for staff, manager functions, the audit trail, reports and backups.

A command that needs a PIN reads it with ``getpass`` from the terminal, or one
line per PIN from standard input with ``--pin-stdin`` (the first line for
``--staff``, the next for ``--second-staff``). A PIN is never an argument,
because arguments show up in the process list and the shell history.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import logging
import sys
from datetime import date, datetime, time
from pathlib import Path

from posloyalty.cli.common import CommandError, add_data_dir_option, command_group
from posloyalty.paths import resolve_data_dir
from posloyalty.services import backup as backups
from posloyalty.services import manager, member_admin, members, reports, staff
from posloyalty.services.context import TillContext
from posloyalty.services.errors import NotFoundError
from posloyalty.services.staff import Credentials
from posloyalty.services.views import MemberView
from posloyalty.storage.fields import parse_utc

logger = logging.getLogger(__name__)

EXIT_REJECTED = 1


def _add(subparsers, name: str, help_text: str, handler) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    add_data_dir_option(parser, top_level=False)
    parser.set_defaults(handler=handler)
    return parser


def _add_staff_options(parser: argparse.ArgumentParser, second: bool = False) -> None:
    parser.add_argument(
        "--staff", required=True, metavar="NAME", help="who does this (PIN asked)"
    )
    if second:
        parser.add_argument(
            "--second-staff",
            metavar="NAME",
            help="a second manager who approves an adjustment above the limit",
        )
    parser.add_argument(
        "--pin-stdin",
        action="store_true",
        help="read the PIN from standard input, one line per PIN",
    )


def register(subparsers) -> None:
    _register_staff(subparsers)

    adjust = _add(
        subparsers, "adjust", "add or take away points with a reason", cmd_adjust
    )
    adjust.add_argument("--member", required=True, metavar="REF")
    adjust.add_argument(
        "--points", required=True, type=int, help="points to add; negative to take"
    )
    adjust.add_argument(
        "--reason",
        required=True,
        help="a listed reason, optionally followed by ': free text'",
    )
    _add_staff_options(adjust, second=True)

    reverse = _add(
        subparsers,
        "reverse",
        "reverse a sale or a redemption recorded in error",
        cmd_reverse,
    )
    target = reverse.add_mutually_exclusive_group(required=True)
    target.add_argument("--sale", metavar="SALE_ID", help="the sale to reverse")
    target.add_argument(
        "--entry", metavar="ENTRY_ID", help="a redemption outside a sale to reverse"
    )
    reverse.add_argument("--reason", default=manager.DEFAULT_REVERSE_REASON)
    _add_staff_options(reverse)

    _register_member(command_group(subparsers, "member", "enrol and show members"))
    _register_card(subparsers)

    audit = _add(subparsers, "audit", "list the audit trail", cmd_audit)
    audit.add_argument(
        "--since", metavar="DATE", help="from this date or UTC time, such as 2025-03-29"
    )
    audit.add_argument("--format", choices=("table", "csv"), default="table")

    report = subparsers.add_parser("report", help="figures for the manager")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    day = _add(report_sub, "day", "the day's points per cashier", cmd_report_day)
    day.add_argument("--date", metavar="DATE", help="the day, such as 2025-03-29")
    day.add_argument(
        "--print", action="store_true", help="also queue it on the receipt printer"
    )

    backup = _add(
        subparsers, "backup", "copy the database and card keys to FILE", cmd_backup
    )
    backup.add_argument("file", type=Path)
    restore = _add(
        subparsers, "restore", "restore a backup into the data folder", cmd_restore
    )
    restore.add_argument("file", type=Path)
    restore.add_argument(
        "--replace",
        action="store_true",
        help="move an existing database and card keys aside instead of stopping",
    )
    restore.set_defaults(needs_till=False)


def _register_staff(subparsers) -> None:
    parser = subparsers.add_parser("staff", help="staff accounts and PINs")
    sub = parser.add_subparsers(dest="staff_command", required=True)
    add = _add(sub, "add", "add a staff account; the PIN is asked twice", cmd_add)
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("cashier", "manager", "admin"))
    add.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
    _add(sub, "list", "list staff accounts", cmd_list)
    disable = _add(sub, "disable", "reject this account's PIN from now on", cmd_disable)
    disable.add_argument("name")
    reset = _add(sub, "reset-pin", "set a new PIN and lift a lockout", cmd_reset_pin)
    reset.add_argument("name")
    reset.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from stdin"
    )
    sign_in = _add(sub, "sign-in", "start a shift at this till", cmd_sign_in)
    sign_in.add_argument("name")
    sign_in.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from stdin"
    )
    _add(sub, "sign-out", "end the shift open at this till", cmd_sign_out)


def _register_member(member_sub) -> None:
    merge = _add(
        member_sub,
        "merge",
        "merge two members who are one person into the first",
        cmd_member_merge,
    )
    merge.add_argument("keep", metavar="REF_KEEP", help="the member to keep")
    merge.add_argument("other", metavar="REF_OTHER", help="the member merged into it")
    merge.add_argument("--reason")
    _add_staff_options(merge)

    erase = _add(
        member_sub,
        "erase",
        "erase a member's personal data; the points history stays",
        cmd_member_erase,
    )
    erase.add_argument("ref", metavar="REF")
    erase.add_argument("--reason")
    _add_staff_options(erase)

    edit = _add(member_sub, "edit", "change a member's profile", cmd_member_edit)
    edit.add_argument("ref", metavar="REF")
    edit.add_argument("--name")
    edit.add_argument("--phone", help="new phone number; '' removes it")
    edit.add_argument("--email", help="new email; '' removes it")
    for flag in ("email", "sms"):
        edit.add_argument(
            f"--consent-{flag}",
            dest=f"consent_{flag}",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=f"whether the member agrees to {flag} messages",
        )
    _add_staff_options(edit)

    _add(
        member_sub,
        "overdrawn",
        "list members whose balance is below zero",
        cmd_member_overdrawn,
    )


def _register_card(subparsers) -> None:
    sub = command_group(subparsers, "card", "print, block or replace cards")
    block = _add(sub, "block", "block a lost or stolen card", cmd_card_block)
    block.add_argument("number", metavar="CARD_NUMBER")
    block.add_argument("--reason", default="reported lost")
    _add_staff_options(block)
    replace = _add(
        sub, "replace", "block the member's card and issue a new one", cmd_card_replace
    )
    replace.add_argument("ref", metavar="REF")
    replace.add_argument("--reason", default="reported lost")
    _add_staff_options(replace)


class _PinSource:
    """Hands out PINs from standard input lines or from ``getpass`` prompts."""

    def __init__(self, from_stdin: bool) -> None:
        self._from_stdin = from_stdin

    def read(self, prompt: str) -> str:
        if not self._from_stdin:
            return getpass.getpass(prompt)
        line = sys.stdin.readline()
        if not line:
            raise CommandError(
                "missing PIN on standard input: write each PIN on its own line"
            )
        return line.rstrip("\r\n")

    def read_new(self, name: str) -> str:
        """Read a new PIN; from a terminal it is asked twice and must match."""
        pin = self.read(f"New PIN for {name} (4 to 8 digits): ")
        if not self._from_stdin and getpass.getpass("Repeat the PIN: ") != pin:
            raise CommandError("the two PINs differ: nothing was changed; try again")
        return pin


def _credentials(args: argparse.Namespace) -> tuple[Credentials, Credentials | None]:
    source = _PinSource(args.pin_stdin)
    first = Credentials(args.staff, source.read(f"PIN for {args.staff}: "))
    second_name = getattr(args, "second_staff", None)
    if not second_name:
        return first, None
    return first, Credentials(second_name, source.read(f"PIN for {second_name}: "))


def _resolve(ctx: TillContext, ref: str) -> MemberView:
    """Resolve a card number, external id, phone or member id to one member."""
    try:
        return members.resolve_member(ctx, ref)
    except NotFoundError:
        try:
            return members.get_member(ctx, ref.strip())
        except NotFoundError:
            pass
        raise


def cmd_add(args: argparse.Namespace, ctx: TillContext) -> int:
    pin = _PinSource(args.pin_stdin).read_new(args.name)
    person = staff.add_staff(ctx, args.name, args.role, pin)
    print(f"added {person.role.value} {person.name}")
    return 0


def cmd_list(args: argparse.Namespace, ctx: TillContext) -> int:
    now = ctx.now()
    for person in staff.list_staff(ctx):
        if person.is_disabled:
            state = "disabled"
        elif person.is_locked(now):
            assert person.locked_until is not None
            state = "locked until " + staff.format_till_time(ctx, person.locked_until)
        else:
            state = "active"
        print(f"{person.name}\t{person.role.value}\t{state}")
    return 0


def cmd_disable(args: argparse.Namespace, ctx: TillContext) -> int:
    person = staff.disable_staff(ctx, args.name)
    print(f"disabled {person.name}")
    return 0


def cmd_reset_pin(args: argparse.Namespace, ctx: TillContext) -> int:
    pin = _PinSource(args.pin_stdin).read_new(args.name)
    person = staff.reset_pin(ctx, args.name, pin)
    print(f"new PIN set for {person.name}")
    return 0


def cmd_sign_in(args: argparse.Namespace, ctx: TillContext) -> int:
    pin = _PinSource(args.pin_stdin).read(f"PIN for {args.name}: ")
    person = staff.sign_in(ctx, Credentials(args.name, pin))
    print(f"{person.name} signed in at {ctx.settings.till}")
    return 0


def cmd_sign_out(args: argparse.Namespace, ctx: TillContext) -> int:
    person = staff.sign_out(ctx)
    if person is None:
        print(f"nobody was signed in at {ctx.settings.till}")
    else:
        print(f"{person.name} signed out")
    return 0


def cmd_adjust(args: argparse.Namespace, ctx: TillContext) -> int:
    member = _resolve(ctx, args.member)
    code, note = manager.parse_reason(ctx, args.reason)
    first, second = _credentials(args)
    try:
        result = manager.adjust_balance(
            ctx, member.id, args.points, code, first, note=note, second=second
        )
    except manager.ApprovalRequiredError as error:
        raise CommandError(
            f"{error} (give --second-staff NAME)", EXIT_REJECTED
        ) from error
    print(
        f"entry_id={result.entry_id} points={result.points:+d} balance={result.balance}"
    )
    return 0


def _print_reversal(result: manager.ReversalResult) -> None:
    print(f"points={result.points:+d} balance={result.balance}")
    if result.is_overdrawn:
        print(
            f"posloyalty: balance is now {result.balance}, below zero; it is listed"
            " by `posloyalty member overdrawn` for a manager to review",
            file=sys.stderr,
        )


def cmd_reverse(args: argparse.Namespace, ctx: TillContext) -> int:
    first, _ = _credentials(args)
    if args.sale:
        result = manager.reverse_sale(ctx, args.sale, first, args.reason)
    else:
        result = manager.reverse_redemption(ctx, args.entry, first, args.reason)
    _print_reversal(result)
    return 0


def cmd_member_merge(args: argparse.Namespace, ctx: TillContext) -> int:
    keep = _resolve(ctx, args.keep)
    other = _resolve(ctx, args.other)
    first, _ = _credentials(args)
    merged = member_admin.merge_members(ctx, keep.id, other.id, first, args.reason)
    print(f"member_id={merged.id} balance={merged.balance}")
    return 0


def cmd_member_erase(args: argparse.Namespace, ctx: TillContext) -> int:
    member = _resolve(ctx, args.ref)
    first, _ = _credentials(args)
    member_admin.erase_member(ctx, member.id, first, args.reason)
    print(f"erased the personal data of member {member.id}")
    return 0


def cmd_member_edit(args: argparse.Namespace, ctx: TillContext) -> int:
    member = _resolve(ctx, args.ref)
    changes = member_admin.ProfileChanges(
        args.name, args.phone, args.email, args.consent_email, args.consent_sms
    )
    first, _ = _credentials(args)
    edited = member_admin.edit_member(ctx, member.id, changes, first)
    print(f"member_id={edited.id} name={edited.name} phone={edited.phone or ''}")
    return 0


def cmd_member_overdrawn(args: argparse.Namespace, ctx: TillContext) -> int:
    for member in manager.overdrawn_members(ctx):
        print(f"{member.id}\t{member.balance}\t{member.name}\t{member.phone or ''}")
    return 0


def cmd_card_block(args: argparse.Namespace, ctx: TillContext) -> int:
    first, _ = _credentials(args)
    member = member_admin.block_card(ctx, args.number, first, args.reason)
    print(f"blocked; member {member.id} keeps a balance of {member.balance}")
    return 0


def cmd_card_replace(args: argparse.Namespace, ctx: TillContext) -> int:
    member = _resolve(ctx, args.ref)
    first, _ = _credentials(args)
    replaced = member_admin.replace_card(ctx, member.id, first, args.reason)
    print(replaced.card_number)
    return 0


def _parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"invalid {option} {text!r}: use a date such as 2025-03-29"
        ) from None


def _parse_since(ctx: TillContext, text: str) -> datetime:
    """Read a date (midnight at the till) or an ISO time (UTC unless it has an offset)."""
    if len(text.strip()) == 10:
        day = _parse_day(text, "--since")
        return datetime.combine(day, time(), reports.till_timezone(ctx))
    try:
        return parse_utc(text)
    except ValueError:
        raise CommandError(
            f"invalid --since {text!r}: use a date such as 2025-03-29 or a time"
            " such as 2025-03-29T14:00Z"
        ) from None


_AUDIT_COLUMNS = [
    "id",
    "created_at",
    "store",
    "till",
    "staff",
    "action",
    "member_id",
    "sale_id",
    "reason",
    "details",
]


def cmd_audit(args: argparse.Namespace, ctx: TillContext) -> int:
    since = _parse_since(ctx, args.since) if args.since else None
    rows = reports.list_audit(ctx, since)
    records = [
        [
            str(row.id),
            row.created_at.strftime("%Y-%m-%d %H:%M:%S") + "Z",
            row.store,
            row.till,
            row.staff or "",
            row.action,
            row.member_id or "",
            row.sale_id or "",
            row.reason or "",
            json.dumps(row.details, sort_keys=True) if row.details else "",
        ]
        for row in rows
    ]
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(_AUDIT_COLUMNS)
        writer.writerows(records)
        return 0
    shown = [0, 1, 3, 4, 5, 6, 8, 9]  # store, sale id: in the CSV only
    widths = {
        i: max([len(_AUDIT_COLUMNS[i])] + [len(r[i]) for r in records]) for i in shown
    }
    for record in [_AUDIT_COLUMNS, *records]:
        print("  ".join(record[i].ljust(widths[i]) for i in shown).rstrip())
    return 0


def cmd_report_day(args: argparse.Namespace, ctx: TillContext) -> int:
    day = _parse_day(args.date, "--date") if args.date else None
    report = reports.day_report(ctx, day)
    for line in reports.day_report_lines(report):
        print(line)
    if args.print:
        job_id = reports.queue_day_slip(ctx, report)
        print(f"posloyalty: day report queued as print job {job_id}", file=sys.stderr)
    return 0


def cmd_backup(args: argparse.Namespace, ctx: TillContext) -> int:
    info = backups.backup(ctx, args.file)
    print(
        f"backed up {info.members} members and {info.entries} ledger entries to"
        f" {info.path}; it holds the card keys, so keep it safe"
    )
    return 0


def cmd_restore(args: argparse.Namespace, ctx: None) -> int:
    data_dir = resolve_data_dir(args.data_dir)
    info = backups.restore(data_dir, args.file, replace=args.replace)
    print(
        f"restored {info.members} members and {info.entries} ledger entries of"
        f" {info.store} / {info.till} (backed up {info.created_at}) into {data_dir}"
    )
    return 0

"""Commands for settings, members, sales, returns, redemptions and checks."""

from __future__ import annotations

import argparse
import sys

from posloyalty.cli.common import (
    CommandError,
    add_data_dir_option,
    command_group,
    parse_cli_amount,
)
from posloyalty.domain.points import SaleLine
from posloyalty.lazy import lazy_import
from posloyalty.services.config import SECRET_KEYS
from posloyalty.services.context import TillContext

# Every command registers through this module, so the services it uses load on
# first use rather than slowing the start of commands (and the till) that do
# not need them.
exports = lazy_import("posloyalty.services.exports")
members = lazy_import("posloyalty.services.members")
sales = lazy_import("posloyalty.services.sales")
ledger = lazy_import("posloyalty.services.ledger")
household = lazy_import("posloyalty.services.household")

_REF_HELP = "card number, external id or phone number of the member"
# The article goes with the kind, for the help of --card, --phone, --external-id.
_REF_KINDS = {
    "card": "a card number",
    "phone": "a phone number",
    "external-id": "an external id",
}


def _add(subparsers, name: str, help_text: str, handler) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    add_data_dir_option(parser, top_level=False)
    parser.set_defaults(handler=handler)
    return parser


def register(subparsers) -> None:
    init = _add(subparsers, "init", "create or update the till's settings", cmd_init)
    init.add_argument("--currency", help="ISO 4217 currency code, such as GBP")
    init.add_argument("--region", help="ISO 3166 region for phone numbers, such as GB")
    init.add_argument("--store", help="name of this store")
    init.add_argument("--till", help="name of this till within the store")
    init.add_argument("--locale", help="locale for amounts on screen, such as en_GB")

    config_sub = command_group(subparsers, "config", "show or change settings")
    _add(config_sub, "show", "print every setting", cmd_config_show)
    config_set = _add(config_sub, "set", "change one setting", cmd_config_set)
    config_set.add_argument("key")
    config_set.add_argument("value")

    rules_sub = command_group(subparsers, "rules", "show or change the programme rules")
    _add(rules_sub, "show", "print the earning rule", cmd_rules_show)
    rules_set = _add(rules_sub, "set", "change the earning rule", cmd_rules_set)
    rules_set.add_argument("--earn-rate", help="points per 1.00 of currency, such as 1")
    rules_set.add_argument(
        "--exclude-sku", help="comma-separated stock codes that earn nothing"
    )
    rules_set.add_argument(
        "--minimum-spend", help="eligible total below which a sale earns nothing"
    )
    rules_set.add_argument(
        "--point-value", help="money one point is worth, such as 0.01"
    )

    member_sub = command_group(subparsers, "member", "enrol and show members")
    add = _add(
        member_sub, "add", "enrol a member; prints the card number", cmd_member_add
    )
    add.add_argument("--name", required=True, help="the member's full name")
    add.add_argument(
        "--phone",
        help="phone number, national for the region or with + and country code",
    )
    add.add_argument("--email", help="email address")
    add.add_argument("--external-id", help="the member's id in the shop's POS")
    add.add_argument("--consent-email", action="store_true", help="agrees to emails")
    add.add_argument(
        "--consent-sms", action="store_true", help="agrees to text messages"
    )
    show = _add(member_sub, "show", "show a member and their history", cmd_member_show)
    show.add_argument("ref", help="card number, external id or phone number")
    _add_ref_kind(show)

    sale = _add(subparsers, "sale", "record a sale and print its points", cmd_sale)
    sale.add_argument("--member", required=True, metavar="REF", help=_REF_HELP)
    _add_ref_kind(sale)
    sale.add_argument("--amount", required=True, help="sale total, such as 12.34")
    sale.add_argument(
        "--sku",
        action="append",
        default=[],
        metavar="CODE[=AMOUNT]",
        help="stock code of the sale, or of AMOUNT of it; repeat for several",
    )
    sale.add_argument(
        "--redeem", type=int, default=0, metavar="N", help="points spent on this sale"
    )
    sale.add_argument(
        "--reward",
        metavar="CODE",
        help="a reward from the catalogue taken on this sale",
    )
    sale.add_argument(
        "--no-earn", action="store_true", help="record the sale without earning points"
    )
    sale.add_argument("--print", action="store_true", help="print a receipt")

    ret = _add(subparsers, "return", "return all or part of a sale", cmd_return)
    ret.add_argument(
        "--sale",
        required=True,
        metavar="SALE_ID",
        help="the sale_id that the sale command printed",
    )
    ret.add_argument(
        "--amount", help="amount returned; the rest of the sale if omitted"
    )

    redeem = _add(subparsers, "redeem", "spend a member's points", cmd_redeem)
    redeem.add_argument("--member", required=True, metavar="REF", help=_REF_HELP)
    _add_ref_kind(redeem)
    redeem.add_argument(
        "--points", required=True, type=int, help="whole points to spend"
    )

    _add(
        subparsers,
        "verify",
        "check balances and hash chains against the ledger",
        cmd_verify,
    )

    export_sub = command_group(subparsers, "export", "export data as CSV")
    balances = _add(export_sub, "balances", "write every member's balance", cmd_export)
    balances.add_argument(
        "file", nargs="?", default="-", help="output file, or - for stdout"
    )


def _add_ref_kind(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    for flag, kind in (("--card", "card"), ("--phone", "phone"),
                       ("--external-id", "external-id")):  # fmt: skip
        group.add_argument(flag, dest="ref_kind", action="store_const", const=kind,
                           help=f"read REF only as {_REF_KINDS[kind]}")  # fmt: skip


def cmd_init(args: argparse.Namespace, ctx: TillContext) -> int:
    changes = {key: getattr(args, key) for key in ("currency", "region", "store", "till",
                                                   "locale") if getattr(args, key)}  # fmt: skip
    if changes:
        ctx.update_settings(changes)
    print(f"data folder: {ctx.data_dir}")
    _print_settings(ctx)
    return 0


def _print_settings(ctx: TillContext) -> None:
    for key, value in sorted(ctx.settings.values.items()):
        shown = "(set)" if key in SECRET_KEYS and value else value
        print(f"{key}={shown}")


def cmd_config_show(args: argparse.Namespace, ctx: TillContext) -> int:
    _print_settings(ctx)
    return 0


def cmd_config_set(args: argparse.Namespace, ctx: TillContext) -> int:
    ctx.update_settings({args.key.replace("-", "_"): args.value})
    return 0


def cmd_rules_show(args: argparse.Namespace, ctx: TillContext) -> int:
    values = ctx.settings.values
    for key in ("rule_version", "earn_rate", "excluded_skus", "minimum_spend",
                "point_value", "currency"):  # fmt: skip
        print(f"{key}={values[key]}")
    return 0


def cmd_rules_set(args: argparse.Namespace, ctx: TillContext) -> int:
    changes = {}
    if args.earn_rate is not None:
        changes["earn_rate"] = args.earn_rate
    if args.exclude_sku is not None:
        changes["excluded_skus"] = args.exclude_sku
    if args.minimum_spend is not None:
        changes["minimum_spend"] = args.minimum_spend
    if args.point_value is not None:
        changes["point_value"] = args.point_value
    if not changes:
        raise CommandError(
            "nothing to change: give --earn-rate, --exclude-sku, --minimum-spend"
            " or --point-value"
        )
    ctx.update_settings(changes)
    return cmd_rules_show(args, ctx)


def cmd_member_add(args: argparse.Namespace, ctx: TillContext) -> int:
    member = members.enrol_member(
        ctx,
        members.NewMember(args.name, args.phone, args.email, args.external_id,
                  args.consent_email, args.consent_sms),
    )  # fmt: skip
    print(member.card_number)
    return 0


def cmd_member_show(args: argparse.Namespace, ctx: TillContext) -> int:
    member = members.resolve_member(ctx, args.ref, args.ref_kind)
    print(f"member_id={member.id}")
    print(f"name={member.name}")
    print(f"card_number={member.card_number or ''}")
    print(f"phone={member.phone or ''}")
    print(f"email={member.email or ''}")
    print(f"external_id={member.external_id or ''}")
    print(f"balance={member.balance}")
    wallet = household.wallet_of(ctx, member.id)
    if wallet.is_shared:
        # The member's own balance may be below zero while the wallet is not.
        print(f"household={wallet.household_id}")
        print(f"wallet_balance={wallet.balance}")
        for other in wallet.members:
            print(f"  wallet_member={other.member_id} balance={other.balance}")
        if wallet.is_overdrawn:
            print("flag=below zero: a manager should review this household wallet")
    elif member.is_overdrawn:
        print("flag=below zero: a manager should review this balance")
    for entry in members.member_history(ctx, member.id, limit=20):
        print(
            f"  {entry.created_at:%Y-%m-%d %H:%M} {entry.kind:8} {entry.points:+6d}"
            f"  sale={entry.sale_id or '-'}  {entry.reason or ''}".rstrip()
        )
    return 0


def _sale_lines(
    args: argparse.Namespace, ctx: TillContext, amount: int
) -> list[SaleLine]:
    lines: list[SaleLine] = []
    if not args.sku or amount <= 0:
        return lines  # record_sale rejects an amount that is not positive
    bare = []
    for spec in args.sku:
        code, sep, part = spec.partition("=")
        if not code.strip():
            raise CommandError(f"invalid --sku {spec!r}: write CODE or CODE=AMOUNT")
        if sep:
            lines.append(SaleLine(code.strip(), parse_cli_amount(part, ctx)))
        else:
            bare.append(code.strip())
    if len(bare) > 1:
        raise CommandError(
            "several --sku codes without amounts: write CODE=AMOUNT for all but one"
        )
    rest = amount - sum(line.amount_minor for line in lines)
    if rest < 0:
        raise CommandError("the --sku amounts add up to more than --amount")
    if lines or bare:
        lines.append(SaleLine(bare[0] if bare else "", rest))
    return lines


def print_sale_result(result) -> None:
    """Print the line scripts read: ``sale_id=<UUID> points=<N> balance=<N>``."""
    print(
        f"sale_id={result.sale_id} points={result.points_earned} balance={result.balance}"
    )


def cmd_sale(args: argparse.Namespace, ctx: TillContext) -> int:
    member = members.resolve_member(ctx, args.member, args.ref_kind)
    amount = parse_cli_amount(args.amount, ctx)
    request = sales.SaleRequest(
        member.id,
        amount,
        lines=_sale_lines(args, ctx, amount),
        redeem_points=args.redeem,
        print_receipt=args.print,
        reward_code=args.reward,
        earns=not args.no_earn,
    )
    result = sales.record_sale(ctx, request)
    print_sale_result(result)
    if args.print:
        from posloyalty.cli.printing import report_sale_receipt

        return report_sale_receipt(ctx, result.print_job_id)
    return 0


def cmd_return(args: argparse.Namespace, ctx: TillContext) -> int:
    amount = parse_cli_amount(args.amount, ctx) if args.amount is not None else None
    result = sales.return_sale(ctx, args.sale, amount)
    print_sale_result(result)
    if result.balance < 0:
        print(
            f"posloyalty: balance is now {result.balance}, below zero; a manager"
            " should review it",
            file=sys.stderr,
        )
    return 0


def cmd_redeem(args: argparse.Namespace, ctx: TillContext) -> int:
    member = members.resolve_member(ctx, args.member, args.ref_kind)
    result = sales.redeem_points(ctx, member.id, args.points)
    print(f"points=-{result.points_redeemed} balance={result.balance}")
    return 0


def cmd_verify(args: argparse.Namespace, ctx: TillContext) -> int:
    report = ledger.verify(ctx)
    for member_id, cached, ledger_sum in report.balance_mismatches:
        print(f"member {member_id}: cached balance {cached}, ledger sum {ledger_sum}")
    for line in report.broken_ledger_chains:
        print(line)
    if report.broken_audit_row is not None:
        print(f"audit chain breaks at row {report.broken_audit_row}")
    if report.ok:
        print("ok: every balance equals its ledger sum and every chain is intact")
        return 0
    return 1


def cmd_export(args: argparse.Namespace, ctx: TillContext) -> int:
    if args.file == "-":
        exports.write_balances_csv(ctx, sys.stdout)
        return 0
    try:
        handle = open(args.file, "w", newline="", encoding="utf-8")
    except OSError as error:
        raise CommandError(
            f"cannot write {args.file} ({error.strerror or error}): give a file in"
            " a folder that exists and that this user can write"
        ) from error
    with handle:
        exports.write_balances_csv(ctx, handle)
    return 0

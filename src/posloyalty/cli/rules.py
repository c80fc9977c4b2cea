"""Commands for the programme: ``rules ...`` editing, ``explain``, expiry, engagement.

``rules show`` and ``rules set`` (the base earning rule) live in
``cli.ledger``; the subcommands here edit the rest of the programme, and
every change prints the new rule version.
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

from posloyalty.cli.common import (
    CommandError,
    add_data_dir_option,
    command_group,
    parse_cli_amount,
)
from posloyalty.domain.errors import DomainError
from posloyalty.domain.programme import (
    EARN_BASES,
    ENGAGEMENT_KINDS,
    GOAL_KINDS,
    PERIODS,
    REWARD_KINDS,
    TIER_BASES,
)
from posloyalty.domain.programme_document import parse_weekdays
from posloyalty.services import members
from posloyalty.services import programme as programme_service
from posloyalty.services.context import TillContext
from posloyalty.services.engagement import record_engagement, set_member_extras
from posloyalty.services.expiry import run_expiry
from posloyalty.services.explain import explain_sale
from posloyalty.services.loyalty import leaderboard, loyalty_status
from posloyalty.services.programme import Rules
from posloyalty.services.rewards import (
    programme_economics,
    redeem_reward,
    reward_options,
)

logger = logging.getLogger(__name__)


def _add(subparsers, name: str, help_text: str, handler) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    add_data_dir_option(parser, top_level=False)
    parser.set_defaults(handler=handler)
    return parser


def _group(subparsers, name: str, help_text: str):
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest=f"{name}_command", required=True)


def register(subparsers) -> None:
    rules_sub = command_group(subparsers, "rules", "show or change the programme rules")
    _add(rules_sub, "list", "print the whole programme as JSON", cmd_rules_list)
    _register_reward_rules(rules_sub)
    _register_tier_rules(rules_sub)
    _register_bonus_rules(rules_sub)
    _register_challenge_rules(rules_sub)
    _register_other_rules(rules_sub)

    explain = _add(
        subparsers, "explain", "show how a sale's points were computed", cmd_explain
    )
    explain.add_argument("sale_id", metavar="SALE_ID")

    expire = _group(
        subparsers, "expire", "expire points older than the programme allows"
    )
    run = _add(expire, "run", "write expire entries for points now due", cmd_expire)
    run.add_argument("--date", help="local date to expire for, such as 2026-01-31")

    engagement = _group(subparsers, "engagement", "pay engagement points")
    record = _add(engagement, "record", "pay a review, share or survey", cmd_engage)
    record.add_argument(
        "kind", choices=[k for k in ENGAGEMENT_KINDS if k != "referral"]
    )
    record.add_argument("--member", required=True, metavar="REF")
    record.add_argument("--reference", default="", help="id of the review or survey")
    imports = _add(
        engagement,
        "import",
        "pay events from a CSV with columns member,kind,reference",
        cmd_engage_import,
    )
    imports.add_argument("file", type=Path)

    leaders = _add(
        subparsers,
        "leaderboard",
        "rank opted-in members of this store on a challenge",
        cmd_leaderboard,
    )
    leaders.add_argument("challenge", metavar="CODE")

    reward = _group(subparsers, "reward", "list or take rewards for a member")
    listing = _add(reward, "list", "rewards the member can afford now", cmd_reward_list)
    listing.add_argument("--member", required=True, metavar="REF")
    take = _add(reward, "take", "take a reward outside a sale", cmd_reward_take)
    take.add_argument("code")
    take.add_argument("--member", required=True, metavar="REF")

    member_sub = command_group(subparsers, "member", "enrol and show members")
    status = _add(member_sub, "status", "show tier, rewards, challenges", cmd_status)
    status.add_argument("ref", help="card number, external id or phone number")
    extras = _add(
        member_sub,
        "extras",
        "set birthday, referrer, leaderboard consent or household",
        cmd_extras,
    )
    extras.add_argument("ref", help="card number, external id or phone number")
    extras.add_argument("--birthday", metavar="MM-DD")
    extras.add_argument("--referred-by", metavar="REF", help="the referring member")
    extras.add_argument("--leaderboard", choices=("on", "off"))
    extras.add_argument(
        "--household",
        metavar="ID",
        help="members with the same household id share one wallet; '' leaves it",
    )


def _register_reward_rules(rules_sub) -> None:
    reward = _group(rules_sub, "reward", "edit the reward catalogue")
    add = _add(reward, "add", "add or replace a reward", cmd_reward_add)
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--kind", required=True, choices=REWARD_KINDS)
    add.add_argument("--cost", required=True, type=int, help="points the reward costs")
    add.add_argument("--value", help="money off, or the free item's price")
    add.add_argument("--percent", help="percentage off the basket, for percent_off")
    add.add_argument("--sku", help="stock code of the free item")
    add.add_argument("--shop-cost", help="what the reward costs the shop")
    add.add_argument("--min-tier", help="lowest tier that may take it")
    add.add_argument("--from", dest="valid_from", help="first date, such as 2025-12-01")
    add.add_argument("--until", dest="valid_until", help="last date")
    remove = _add(reward, "remove", "remove a reward", cmd_remove)
    remove.add_argument("name", metavar="CODE")
    remove.set_defaults(section="rewards")


def _register_tier_rules(rules_sub) -> None:
    tier = _group(rules_sub, "tier", "edit the tiers")
    add = _add(tier, "add", "add or change a tier", cmd_tier_add)
    add.add_argument("name")
    add.add_argument(
        "--threshold",
        required=True,
        help="points earned (or amount spent, for spend tiers) in the period",
    )
    add.add_argument("--multiplier", default="1", help="factor on points earned")
    remove = _add(tier, "remove", "remove a tier", cmd_tier_remove)
    remove.add_argument("name")
    policy = _add(tier, "policy", "set how tiers are earned", cmd_tier_policy)
    policy.add_argument("--basis", choices=TIER_BASES)
    policy.add_argument("--months", type=int, help="length of the rolling period")
    policy.add_argument("--grace-days", type=int, help="days a tier is kept after")


def _register_bonus_rules(rules_sub) -> None:
    bonus = _group(rules_sub, "bonus", "edit bonus periods (shop's local time)")
    add = _add(bonus, "add", "add or replace a bonus period", cmd_bonus_add)
    add.add_argument("name")
    add.add_argument("--multiplier", required=True, help="factor on points, such as 2")
    add.add_argument("--from", dest="start_date", help="first date, such as 2025-12-01")
    add.add_argument("--until", dest="end_date", help="last date (included)")
    add.add_argument("--days", help="weekdays, such as sat,sun")
    add.add_argument("--start", dest="start_time", help="time of day it starts, 09:00")
    add.add_argument("--end", dest="end_time", help="time of day it ends, 12:00")
    remove = _add(bonus, "remove", "remove a bonus period", cmd_remove)
    remove.add_argument("name")
    remove.set_defaults(section="bonus_periods")


def _register_challenge_rules(rules_sub) -> None:
    challenge = _group(rules_sub, "challenge", "edit challenges")
    add = _add(challenge, "add", "add or replace a challenge", cmd_challenge_add)
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--goal", required=True, choices=GOAL_KINDS)
    add.add_argument(
        "--target", required=True, help="visits, products, or an amount for spend"
    )
    add.add_argument("--period", default="month", choices=PERIODS)
    add.add_argument("--bonus", required=True, type=int, help="points paid once")
    remove = _add(challenge, "remove", "remove a challenge", cmd_remove)
    remove.add_argument("name", metavar="CODE")
    remove.set_defaults(section="challenges")


def _register_other_rules(rules_sub) -> None:
    engagement = _group(rules_sub, "engagement", "edit engagement values and caps")
    set_value = _add(engagement, "set", "set an engagement value", cmd_engagement_set)
    set_value.add_argument("kind", choices=ENGAGEMENT_KINDS)
    set_value.add_argument("--points", required=True, type=int)
    set_value.add_argument("--cap", type=int, default=0, help="per member, 0: no cap")
    set_value.add_argument("--period", default="month", choices=PERIODS)
    remove = _add(engagement, "remove", "stop paying a kind", cmd_remove)
    remove.add_argument("name", metavar="KIND")
    remove.set_defaults(section="engagement")

    expiry = _group(rules_sub, "expiry", "set when points expire")
    expiry_set = _add(
        expiry, "set", "points expire after MONTHS (0: never)", cmd_expiry
    )
    expiry_set.add_argument("months", type=int)

    redemption = _group(rules_sub, "redemption", "set redemption policies")
    policy = _add(redemption, "set", "set redemption limits", cmd_redemption_set)
    policy.add_argument("--minimum-balance", type=int, help="points held before any")
    policy.add_argument("--max-share", help="largest percentage of a basket in points")

    earning = _group(rules_sub, "earning", "set earning beyond the base rate")
    options = _add(earning, "set", "set earning options", cmd_earning_set)
    options.add_argument("--exclude-category", help="comma-separated categories")
    options.add_argument(
        "--multiply", action="append", default=[], metavar="CODE=FACTOR"
    )
    options.add_argument(
        "--multiply-category", action="append", default=[], metavar="CATEGORY=FACTOR"
    )
    options.add_argument("--basis", choices=EARN_BASES)
    options.add_argument("--margin", choices=("on", "off"), help="earn on margin")
    options.add_argument("--birthday-bonus", type=int, help="points in birthday month")
    options.add_argument("--pending-days", type=int, help="return window in days")

    economics = _add(
        rules_sub,
        "economics",
        "show the reward rate and liability; set the warning thresholds",
        cmd_economics,
    )
    economics.add_argument("--typical-basket", help="basket to compute the rate for")
    economics.add_argument("--low-rate", help="warn below this value per 100.00")
    economics.add_argument("--high-rate", help="warn above this value per 100.00")


def _print_version(rules: Rules) -> int:
    print(f"rule_version={rules.version}")
    return 0


def _amount_minor(text: str | None, ctx: TillContext) -> int | None:
    return None if text is None else parse_cli_amount(text, ctx)


def _member_id(ctx: TillContext, ref: str) -> str:
    return members.resolve_member(ctx, ref).id


def cmd_rules_list(args: argparse.Namespace, ctx: TillContext) -> int:
    document = programme_service.programme_document(ctx)
    print(f"rule_version={ctx.settings.rule_version}")
    print(json.dumps(document, indent=2, sort_keys=True))
    return 0


def cmd_reward_add(args: argparse.Namespace, ctx: TillContext) -> int:
    item: dict[str, Any] = {
        "code": args.code,
        "name": args.name,
        "kind": args.kind,
        "points_cost": args.cost,
        "value_minor": _amount_minor(args.value, ctx) or 0,
        "percent": args.percent or "0",
        "sku": args.sku or "",
        "cost_minor": _amount_minor(args.shop_cost, ctx),
        "min_tier": args.min_tier,
        "valid_from": args.valid_from,
        "valid_until": args.valid_until,
    }
    return _print_version(programme_service.add_item(ctx, "rewards", item))


def cmd_remove(args: argparse.Namespace, ctx: TillContext) -> int:
    return _print_version(programme_service.remove_item(ctx, args.section, args.name))


def _threshold(ctx: TillContext, text: str) -> int:
    document = programme_service.programme_document(ctx)
    if document["tiers"]["basis"] == "spend":
        return parse_cli_amount(text, ctx)
    if not text.strip().isdecimal():
        raise CommandError(
            f"invalid --threshold {text!r}: use a whole number of points"
        )
    return int(text)


def cmd_tier_add(args: argparse.Namespace, ctx: TillContext) -> int:
    threshold = _threshold(ctx, args.threshold)
    rules = programme_service.add_tier(ctx, args.name, threshold, args.multiplier)
    return _print_version(rules)


def cmd_tier_remove(args: argparse.Namespace, ctx: TillContext) -> int:
    return _print_version(programme_service.remove_tier(ctx, args.name))


def cmd_tier_policy(args: argparse.Namespace, ctx: TillContext) -> int:
    values = {
        key: value
        for key, value in (
            ("basis", args.basis),
            ("period_months", args.months),
            ("grace_days", args.grace_days),
        )
        if value is not None
    }
    if not values:
        raise CommandError("nothing to change: give --basis, --months or --grace-days")
    return _print_version(programme_service.update_section(ctx, "tiers", values))


def cmd_bonus_add(args: argparse.Namespace, ctx: TillContext) -> int:
    try:
        weekdays = list(parse_weekdays(args.days or ""))
    except DomainError as error:
        raise CommandError(str(error)) from error
    item = {
        "name": args.name,
        "multiplier": args.multiplier,
        "start_date": args.start_date,
        "end_date": args.end_date,
        "weekdays": weekdays,
        "start_time": args.start_time,
        "end_time": args.end_time,
    }
    return _print_version(programme_service.add_item(ctx, "bonus_periods", item))


def cmd_challenge_add(args: argparse.Namespace, ctx: TillContext) -> int:
    if args.goal == "spend":
        target = parse_cli_amount(args.target, ctx)
    elif args.target.strip().isdecimal():
        target = int(args.target)
    else:
        raise CommandError(f"invalid --target {args.target!r}: use a whole number")
    item = {
        "code": args.code,
        "name": args.name,
        "goal": args.goal,
        "target": target,
        "period": args.period,
        "bonus": args.bonus,
    }
    return _print_version(programme_service.add_item(ctx, "challenges", item))


def cmd_engagement_set(args: argparse.Namespace, ctx: TillContext) -> int:
    item = {
        "kind": args.kind,
        "points": args.points,
        "cap": args.cap,
        "period": args.period,
    }
    return _print_version(programme_service.add_item(ctx, "engagement", item))


def cmd_expiry(args: argparse.Namespace, ctx: TillContext) -> int:
    rules = programme_service.update_section(
        ctx, "expiry_months", {"months": args.months}
    )
    return _print_version(rules)


def cmd_redemption_set(args: argparse.Namespace, ctx: TillContext) -> int:
    values: dict[str, Any] = {}
    if args.minimum_balance is not None:
        values["minimum_balance"] = args.minimum_balance
    if args.max_share is not None:
        values["max_basket_share"] = args.max_share
    if not values:
        raise CommandError("nothing to change: give --minimum-balance or --max-share")
    return _print_version(programme_service.update_section(ctx, "redemption", values))


def _factors(specs: list[str], option: str) -> dict[str, str]:
    factors = {}
    for spec in specs:
        code, sep, factor = spec.partition("=")
        if not sep or not code.strip() or not factor.strip():
            raise CommandError(
                f"invalid {option} {spec!r}: write CODE=FACTOR, like A1=2"
            )
        factors[code.strip().upper()] = factor.strip()
    return factors


def cmd_earning_set(args: argparse.Namespace, ctx: TillContext) -> int:
    values: dict[str, Any] = {}
    current = programme_service.programme_document(ctx)["earning"]
    if args.exclude_category is not None:
        values["excluded_categories"] = [
            part.strip() for part in args.exclude_category.split(",") if part.strip()
        ]
    if args.multiply:
        values["sku_multipliers"] = {
            **current["sku_multipliers"],
            **_factors(args.multiply, "--multiply"),
        }
    if args.multiply_category:
        values["category_multipliers"] = {
            **current["category_multipliers"],
            **_factors(args.multiply_category, "--multiply-category"),
        }
    for key, value in (
        ("basis", args.basis),
        ("birthday_bonus", args.birthday_bonus),
        ("pending_days", args.pending_days),
    ):
        if value is not None:
            values[key] = value
    if args.margin is not None:
        values["on_margin"] = args.margin == "on"
    if not values:
        raise CommandError("nothing to change: see posloyalty rules earning set --help")
    return _print_version(programme_service.update_section(ctx, "earning", values))


def cmd_economics(args: argparse.Namespace, ctx: TillContext) -> int:
    values: dict[str, Any] = {}
    if args.typical_basket is not None:
        values["typical_basket_minor"] = parse_cli_amount(args.typical_basket, ctx)
    if args.low_rate is not None:
        values["low_rate"] = args.low_rate
    if args.high_rate is not None:
        values["high_rate"] = args.high_rate
    if values:
        _print_version(programme_service.update_section(ctx, "economics", values))
    view = programme_economics(ctx)
    economics = view.economics
    currency = ctx.settings.currency
    rate = int(economics.rate_per_100)
    print(f"typical_basket={currency.format_plain(economics.basket_minor)}")
    print(f"points_on_basket={economics.points_on_basket}")
    print(f"value_per_point={economics.value_per_point / currency.minor_per_unit}")
    print(f"reward_rate_per_100={currency.format_plain(rate)}")
    document = programme_service.programme_document(ctx)["economics"]
    print(f"low_rate={document['low_rate']}")
    print(f"high_rate={document['high_rate']}")
    print(f"outstanding_points={view.outstanding_points}")
    print(f"liability={currency.format_plain(view.liability_minor)}")
    for warning in economics.warnings:
        print(f"warning: {warning}")
    return 0


def cmd_explain(args: argparse.Namespace, ctx: TillContext) -> int:
    explanation = explain_sale(ctx, args.sale_id)
    width = max(len(label) for label, _value in explanation.steps)
    for label, value in explanation.steps:
        print(f"{label:<{width}}  {value}")
    if not explanation.matches:
        print(
            f"warning: recomputed {explanation.computed_points} points, the ledger"
            f" recorded {explanation.ledger_points}"
        )
    return 0


def cmd_expire(args: argparse.Namespace, ctx: TillContext) -> int:
    day = None
    if args.date:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            raise CommandError(
                f"invalid --date {args.date!r}: write it as 2026-01-31"
            ) from None
    report = run_expiry(ctx, day)
    print(
        f"date={report.day.isoformat()} months={report.months}"
        f" members={report.members} points={report.points}"
    )
    return 0


def cmd_engage(args: argparse.Namespace, ctx: TillContext) -> int:
    result = record_engagement(
        ctx, _member_id(ctx, args.member), args.kind, args.reference
    )
    print(f"points={result.points} balance={result.balance}")
    return 0


def cmd_engage_import(args: argparse.Namespace, ctx: TillContext) -> int:
    from posloyalty.importing.engagement import import_engagement

    report = import_engagement(ctx, args.file)
    print(f"rows={report.rows} paid={report.paid} points={report.points}")
    for reason, count in sorted(report.skipped.items()):
        print(f"skipped {count}: {reason}")
    return 0


def cmd_leaderboard(args: argparse.Namespace, ctx: TillContext) -> int:
    challenge, period, rows = leaderboard(ctx, args.challenge)
    print(f"{challenge.name} ({period}, {ctx.settings.store})")
    for rank, row in enumerate(rows, start=1):
        print(f"{rank:2d}. {row.display_name}  {row.progress}/{row.target}")
    return 0


def _print_rewards(rewards, prefix: str) -> None:
    for reward in rewards:
        print(f"{prefix} {reward.code} {reward.points_cost} {reward.name}")


def cmd_reward_list(args: argparse.Namespace, ctx: TillContext) -> int:
    options = reward_options(ctx, _member_id(ctx, args.member))
    print(f"spendable={options.spendable}")
    _print_rewards(options.affordable, "affordable")
    if options.next_reward is not None:
        print(
            f"next {options.next_reward.code} {options.next_reward.points_cost}"
            f" {options.next_reward.name}: {options.points_to_next} points to go"
        )
    return 0


def cmd_reward_take(args: argparse.Namespace, ctx: TillContext) -> int:
    result = redeem_reward(ctx, _member_id(ctx, args.member), args.code)
    print(f"points=-{result.points_redeemed} balance={result.balance}")
    return 0


def cmd_status(args: argparse.Namespace, ctx: TillContext) -> int:
    status = loyalty_status(ctx, _member_id(ctx, args.ref))
    tier = status.tier
    print(f"balance={status.balance} pending={status.pending}")
    wallet = status.wallet
    if wallet.is_shared:
        print(
            f"household={wallet.household_id} wallet_balance={wallet.balance}"
            f" members={len(wallet.members)}"
        )
        if wallet.is_overdrawn:
            print("flag=below zero: a manager should review this household wallet")
    print(f"spendable={status.spendable}")
    print(f"tier={tier.tier.name if tier.tier else '-'} qualifying={tier.qualifying}")
    if tier.next_tier is not None:
        print(f"next_tier={tier.next_tier.name} to_go={tier.to_next}")
    if tier.grace_until is not None:
        print(f"tier_kept_until={tier.grace_until:%Y-%m-%d}")
    for day, points in status.expiring:
        print(f"expiring {points} on {day.isoformat()}")
    _print_rewards(status.affordable, "affordable")
    if status.next_reward is not None:
        print(
            f"next_reward={status.next_reward.code}"
            f" to_go={status.points_to_next_reward}"
        )
    for challenge in status.challenges:
        done = " completed" if challenge.completed else ""
        print(
            f"challenge {challenge.code} {challenge.period}"
            f" {challenge.progress}/{challenge.target}{done}"
        )
    return 0


def cmd_extras(args: argparse.Namespace, ctx: TillContext) -> int:
    member_id = _member_id(ctx, args.ref)
    referrer = _member_id(ctx, args.referred_by) if args.referred_by else None
    opt_in = None if args.leaderboard is None else args.leaderboard == "on"
    set_member_extras(
        ctx,
        member_id,
        birthday=args.birthday,
        referred_by=referrer,
        leaderboard_opt_in=opt_in,
        household_id=args.household,
    )
    print(f"member_id={member_id}")
    return 0

"""Commands to connect a till to the head office and sync with it.

``posloyalty config set server URL --token TOKEN`` sets both at once; the token
is stored but never printed or logged. ``posloyalty sync`` syncs now.
"""

from __future__ import annotations

import argparse
import logging

from posloyalty.cli.common import CommandError, add_data_dir_option, command_group
from posloyalty.services import sync_status
from posloyalty.services.config import VALIDATORS
from posloyalty.services.context import TillContext

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    sync = subparsers.add_parser(
        "sync",
        help="send queued entries to the head office and fetch other tills'",
        description="Sync now with the head office set by config set server.",
    )
    add_data_dir_option(sync, top_level=False)
    sync.add_argument(
        "--status",
        action="store_true",
        help="print the last sync and the count waiting instead of syncing",
    )
    sync.set_defaults(handler=cmd_sync)

    # ``config set KEY VALUE`` comes from the ledger commands; add ``--token``
    # so that ``config set server URL --token TOKEN`` sets both.
    config_set = command_group(
        subparsers, "config", "show or change settings"
    ).choices.get("set")
    if config_set is None:
        raise RuntimeError("posloyalty.cli.sync must be registered after cli.ledger")
    config_set.add_argument(
        "--token",
        metavar="TOKEN",
        help="with 'config set server URL': the till token from posloyalty-server"
        " add-till (stored, never printed)",
    )
    plain_handler = config_set.get_default("handler")

    def cmd_config_set(args: argparse.Namespace, ctx: TillContext) -> int:
        key = args.key.replace("-", "_")
        if key in ("server", "server_url"):
            return set_server(ctx, args.value, args.token)
        if args.token is not None:
            raise CommandError(
                f"--token goes only with 'config set server URL', not with {args.key!r}"
            )
        return plain_handler(args, ctx)

    config_set.set_defaults(handler=cmd_config_set)


def set_server(ctx: TillContext, url: str, token: str | None) -> int:
    """Store the head office URL and, when given, the till's token."""
    VALIDATORS["server_url"](url)  # a wrong URL is reported before a missing token
    changes = {"server_url": url}
    if token is not None:
        changes["server_token"] = token
    elif not ctx.settings.get("server_token"):
        raise CommandError(
            "missing --token: write config set server URL --token TOKEN, with the"
            " token printed by posloyalty-server add-till"
        )
    ctx.update_settings(changes)
    print(f"server_url={ctx.settings.get('server_url')}")
    print("server_token=(set)")
    return 0


def _format_time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


def cmd_sync(args: argparse.Namespace, ctx: TillContext) -> int:
    if args.status:
        status = sync_status.sync_status(ctx)
        print(f"configured={'yes' if status.is_configured else 'no'}")
        print(f"last_sync={_format_time(status.last_sync_at)}")
        print(f"waiting={status.waiting}")
        if status.last_error:
            print(f"last_error={status.last_error}")
        if status.next_attempt_at:
            print(f"next_attempt={_format_time(status.next_attempt_at)}")
        return 0

    from posloyalty.sync.client import run_sync

    report = run_sync(ctx)
    if report.names_changed:
        print(
            f"this till is now {ctx.settings.till!r} of store {ctx.settings.store!r},"
            " as registered at head office"
        )
    if report.rules_changed:
        print(f"head office rules applied: {', '.join(report.rules_changed)}")
    if report.keys_added:
        print(f"card keys received: {len(report.keys_added)}")
    print(
        f"sent={report.acknowledged} received={report.pulled_entries}"
        f" members_updated={report.pulled_members} waiting={report.waiting}"
    )
    return 0

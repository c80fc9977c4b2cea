"""Entry point of the ``posloyalty`` command: parse, open the till, run, map errors."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from posloyalty.cli.common import CommandError, add_data_dir_option
from posloyalty.domain.errors import DomainError
from posloyalty.paths import resolve_data_dir
from posloyalty.services.errors import AmbiguousMemberError, ServiceError

logger = logging.getLogger(__name__)

# Each module has ``register(subparsers)``, which adds its commands and sets
# ``handler`` (and, for commands that open no till, ``needs_till=False``).
COMMAND_MODULES = [
    "posloyalty.cli.ledger",
    "posloyalty.cli.imports",
    "posloyalty.cli.staff",
    "posloyalty.cli.printing",
    "posloyalty.cli.till",
    "posloyalty.cli.sync",
    "posloyalty.cli.rules",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posloyalty",
        description="Loyalty terminal for the till: members, points ledger, receipts.",
    )
    add_data_dir_option(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (see ``services.errors``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)

    from posloyalty.logs import configure_logging

    configure_logging(data_dir)
    handler = args.handler
    try:
        if not getattr(args, "needs_till", True):
            return int(handler(args, None))
        from posloyalty.services.context import TillContext

        ctx = TillContext(data_dir)
        try:
            return int(handler(args, ctx))
        finally:
            ctx.close()
    except AmbiguousMemberError as error:
        from posloyalty.cli.common import print_member_list

        print(f"posloyalty: {error}", file=sys.stderr)
        print_member_list(error.candidates)
        return error.exit_code
    except ServiceError as error:
        print(f"posloyalty: {error}", file=sys.stderr)
        return error.exit_code
    except DomainError as error:
        print(f"posloyalty: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"posloyalty: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("posloyalty: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()

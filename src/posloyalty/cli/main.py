"""Entry point of the ``posloyalty`` command: parse, open the till, run, map errors."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from posloyalty.cli.common import EXIT_REJECTED, CommandError, add_data_dir_option
from posloyalty.domain.errors import DomainError
from posloyalty.paths import resolve_data_dir
from posloyalty.services.errors import AmbiguousMemberError, ServiceError

logger = logging.getLogger(__name__)

# Each module has ``register(subparsers)``, which adds its commands and sets
# ``handler`` (and, for commands that open no till, ``needs_till=False``). The
# table lists the top-level commands each module adds or extends, so a command
# imports only the modules it needs: importing all of them would double the
# till window's start-up time. A test keeps the table in step with the modules.
COMMAND_MODULES: dict[str, frozenset[str]] = {
    "posloyalty.cli.ledger": frozenset({"config", "export", "init", "member", "redeem",
                                        "return", "rules", "sale", "verify"}),
    "posloyalty.cli.imports": frozenset({"import"}),
    "posloyalty.cli.staff": frozenset({"adjust", "audit", "backup", "card", "member",
                                       "report", "restore", "reverse", "staff"}),
    "posloyalty.cli.printing": frozenset({"card", "printer", "receipt"}),
    "posloyalty.cli.till": frozenset({"demo", "till"}),
    "posloyalty.cli.sync": frozenset({"config", "sync"}),
    "posloyalty.cli.rules": frozenset({"engagement", "expire", "explain",
                                       "leaderboard", "member", "reward", "rules"}),
}  # fmt: skip
# Other modules extend commands that this one creates, so it is always loaded.
BASE_MODULE = "posloyalty.cli.ledger"


def _command_name(argv: Sequence[str]) -> str | None:
    """Return the first word that is not an option or the value of ``--data-dir``."""
    words = iter(argv)
    for word in words:
        if word == "--data-dir":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def modules_for(argv: Sequence[str]) -> list[str]:
    """Return the command modules needed to parse ``argv``; all for help or a typo."""
    command = _command_name(argv)
    wanted = [module for module, commands in COMMAND_MODULES.items()
              if command in commands]  # fmt: skip
    if not wanted:
        return list(COMMAND_MODULES)
    return [BASE_MODULE] + [module for module in wanted if module != BASE_MODULE]


def build_parser(modules: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posloyalty",
        description="Loyalty terminal for the till: members, points ledger, receipts.",
    )
    add_data_dir_option(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in modules if modules is not None else COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (see ``services.errors``)."""
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(modules_for(argv))
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)

    from peewee import DatabaseError

    from posloyalty.cli import faults

    handler = args.handler
    try:
        _start_logging(data_dir)
        if not getattr(args, "needs_till", True):
            return int(handler(args, None))
        ctx = _open_till(data_dir)
        try:
            return int(handler(args, ctx))
        finally:
            ctx.close()
    except DatabaseError as error:
        if not faults.is_storage_fault(error):
            raise
        logger.exception("command %s stopped by a database fault", args.command)
        failure = faults.database_error(data_dir, error)
        print(f"posloyalty: {failure}", file=sys.stderr)
        return failure.exit_code
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
    except BrokenPipeError:
        # The reader of the output (``| head``) closed it; what the command
        # recorded is committed. Later writes go nowhere instead of failing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_REJECTED


def _start_logging(data_dir: Path) -> None:
    from posloyalty.cli import faults
    from posloyalty.logs import configure_logging

    faults.check_data_dir(data_dir)
    try:
        configure_logging(data_dir)
    except OSError as error:
        raise faults.folder_error(data_dir, error) from error


def _open_till(data_dir: Path):
    from posloyalty.cli import faults
    from posloyalty.services.context import TillContext
    from posloyalty.storage.keys import KeyFileError

    try:
        return TillContext(data_dir)
    except KeyFileError as error:
        raise CommandError(str(error), EXIT_REJECTED) from error
    except OSError as error:
        raise faults.folder_error(data_dir, error) from error


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()

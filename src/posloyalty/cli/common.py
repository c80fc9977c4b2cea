"""Helpers shared by the command modules: opening the till and reporting errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from posloyalty.domain.errors import DomainError
from posloyalty.domain.money import parse_amount
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError
from posloyalty.services.views import MemberView

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2

T = TypeVar("T")


class CommandError(Exception):
    """A command ends with this message on stderr and this exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code


def add_data_dir_option(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """Accept ``--data-dir`` before or after the command name."""
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None if top_level else argparse.SUPPRESS,
        help="data folder (default: $POSLOYALTY_DATA_DIR, else the user data folder)",
    )


def command_group(subparsers, name: str, help_text: str):
    """Return the subcommands of command ``name``, creating the command on first use.

    Several modules add subcommands to one command (``member``, ``card``,
    ``rules``); argparse rejects a second parser of the same name, so the groups
    are kept on the top-level subparsers object.
    """
    groups = getattr(subparsers, "command_groups", None)
    if groups is None:
        groups = subparsers.command_groups = {}
    if name not in groups:
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        groups[name] = parser.add_subparsers(
            dest=f"{name}_command", metavar="COMMAND", required=True
        )
    return groups[name]


def parse_cli_amount(text: str, ctx: TillContext) -> int:
    """Parse ``--amount``: a dot as decimal mark and no grouping, whatever the locale."""
    try:
        return parse_amount(text, ctx.settings.currency, ".")
    except DomainError as error:
        raise InvalidInputError(str(error)) from error


def print_member_list(members: list[MemberView]) -> None:
    """List members on stderr, one per line, for a choice the caller must make."""
    for member in members:
        print(
            f"  {member.card_number or '-'}  {member.name}  {member.phone or ''}",
            file=sys.stderr,
        )


Handler = Callable[[argparse.Namespace, TillContext], int]

"""Help of the commands that the README's tour uses."""

from __future__ import annotations

import argparse

import pytest

from posloyalty.cli.main import build_parser


def _subcommand(parser: argparse.ArgumentParser, *names: str):
    for name in names:
        [group] = [
            action
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        ]
        parser = group.choices[name]
    return parser


@pytest.mark.parametrize(
    "names",
    [
        pytest.param(("member", "add"), id="member-add"),
        pytest.param(("sale",), id="sale"),
        pytest.param(("return",), id="return"),
        pytest.param(("redeem",), id="redeem"),
    ],
)
def test_every_option_has_help(names):
    parser = _subcommand(build_parser(), *names)

    missing = [
        action.option_strings[0]
        for action in parser._actions
        if action.option_strings and not action.help
    ]
    assert missing == []


def test_ref_kind_help_names_kind():
    help_text = _subcommand(build_parser(), "sale").format_help()

    assert "only as an external id" in help_text
    assert "as a external" not in help_text

import argparse

from posloyalty.cli.main import BASE_MODULE, COMMAND_MODULES, build_parser, modules_for


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help_tree(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, str]:
    """Map each command path under ``parser`` to its full help text."""
    tree = {prefix: parser.format_help()}
    for name, sub in _subcommands(parser).items():
        tree.update(_help_tree(sub, f"{prefix} {name}".strip()))
    return tree


def test_each_command_parses_the_same_with_its_modules_only():
    full = _subcommands(build_parser())
    for command, parser in full.items():
        modules = modules_for([command])
        assert modules[0] == BASE_MODULE
        partial = _subcommands(build_parser(modules))
        assert command in partial, f"{command} needs a module missing from the table"
        assert _help_tree(partial[command]) == _help_tree(parser), command


def test_help_and_unknown_load_everything():
    assert modules_for([]) == list(COMMAND_MODULES)
    assert modules_for(["--help"]) == list(COMMAND_MODULES)
    assert modules_for(["no-such-command"]) == list(COMMAND_MODULES)


def test_data_dir_value_is_not_the_command():
    assert modules_for(["--data-dir", "till", "sale"]) == [BASE_MODULE]
    assert "posloyalty.cli.till" in modules_for(["--data-dir", "x", "till"])

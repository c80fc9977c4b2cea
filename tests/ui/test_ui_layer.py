"""The ui package renders and calls services: no SQL, no peewee, no storage."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import posloyalty.ui

UI_DIR = Path(posloyalty.ui.__file__).parent
FORBIDDEN_MODULES = ("peewee", "playhouse", "sqlite3", "posloyalty.storage")
# The project writes SQL keywords in capitals, which also keeps English
# sentences such as "select a row ... from the amount" from matching.
SQL = re.compile(
    r"\b(SELECT\b.+\bFROM|INSERT\s+INTO|UPDATE\b.+\bSET|DELETE\s+FROM|CREATE\s+TABLE)\b",
    re.DOTALL,
)


def _modules() -> list[Path]:
    found = sorted(UI_DIR.glob("*.py"))
    assert len(found) > 5, f"ui modules not found in {UI_DIR}"
    return found


def _imported_names(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") in (
            "import_module",
        ):
            names.extend(
                arg.value for arg in node.args if isinstance(arg, ast.Constant)
            )
    return names


def test_ui_imports_no_database_layer():
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in _imported_names(tree):
            if name.startswith(FORBIDDEN_MODULES):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_ui_contains_no_sql():
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if SQL.search(node.value):
                    offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr in (
                "execute_sql",
                "execute",
                "cursor",
            ):
                offenders.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert offenders == []


def test_sql_pattern_catches_queries():
    assert SQL.search("SELECT id FROM member")
    assert SQL.search("DELETE FROM sale WHERE 1")
    assert SQL.search("UPDATE member SET balance = 0")
    assert not SQL.search("select the sale's row in the history, from the amount")

"""The package layout enforces its layers: these imports are not allowed."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "posloyalty"

FORBIDDEN = {
    "domain": ("PySide6", "peewee", "posloyalty.storage", "posloyalty.services",
               "posloyalty.ui", "sqlite3", "httpx", "escpos", "posloyalty.printing",
               "posloyalty.sync", "posloyalty.server", "fastapi"),
    "storage": ("PySide6", "posloyalty.services", "posloyalty.ui", "httpx", "fastapi"),
    "services": ("PySide6", "posloyalty.ui", "fastapi", "uvicorn"),
    "importing": ("PySide6", "posloyalty.ui"),
    "server": ("PySide6", "posloyalty.ui"),
    "sync": ("PySide6", "posloyalty.ui", "fastapi", "uvicorn"),
    "printing": ("PySide6", "posloyalty.ui", "fastapi"),
    "ui": ("peewee", "sqlite3", "posloyalty.storage", "psycopg2", "fastapi"),
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports(layer):
    folder = PACKAGE / layer
    offences = []
    for path in sorted(folder.rglob("*.py")):
        for name in imported_modules(path):
            if any(
                name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]
            ):
                offences.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offences == []


def test_ui_contains_no_sql():
    keywords = ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM", "execute_sql")
    offences = []
    for path in sorted((PACKAGE / "ui").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        offences += [f"{path.name}: {word}" for word in keywords if word in text]
    assert offences == []

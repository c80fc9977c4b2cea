"""Fixtures shared by the whole suite: a till on a real SQLite file, the CLI, a clock."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

# Qt must never need a display in tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "tests" / "data"


class FakeClock:
    """A clock the test moves by hand; starts at 2025-03-29 12:00 UTC."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2025, 3, 29, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "till-data"


@pytest.fixture
def till(data_dir: Path):
    """A GB till in GBP on a fresh SQLite file, with the real clock."""
    from posloyalty.services.context import TillContext

    ctx = TillContext(data_dir)
    ctx.update_settings({"region": "GB", "currency": "GBP", "locale": "en_GB"})
    yield ctx
    ctx.close()


@pytest.fixture
def clocked_till(data_dir: Path, clock: FakeClock):
    """Like ``till``, with a clock the test controls."""
    from posloyalty.services.context import TillContext

    ctx = TillContext(data_dir, clock=clock)
    ctx.update_settings({"region": "GB", "currency": "GBP", "locale": "en_GB"})
    yield ctx
    ctx.close()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(data_dir: Path, capsys) -> Iterator:
    """Run ``posloyalty`` in this process against the test's data folder."""
    from posloyalty.cli.main import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(["--data-dir", str(data_dir), *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    yield run


def run_console_script(
    name: str,
    *args: str,
    env: dict | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> CliResult:
    """Run an installed console script (``posloyalty``) as a separate process."""
    script = Path(sys.executable).parent / name
    result = subprocess.run(
        [str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        input=input,
    )
    return CliResult(result.returncode, result.stdout, result.stderr)

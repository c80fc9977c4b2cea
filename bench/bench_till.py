"""Cold start of the till window, and its memory with few or a million members.

The till runs from ``bench/venv-till``, a virtual environment with the base
dependencies only. The server extra (psycopg2) stays out, as on a shop's
till, because peewee imports a PostgreSQL driver whenever one is installed
and that import alone costs more than the bare window.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import CACHE_DIR, build_member_database, percentile, phone_for

REPO = Path(__file__).resolve().parents[1]
VENV = Path(__file__).resolve().parent / "venv-till"
STAMP = VENV / "installed-from-pyproject.sha256"
RUNS = 15
# Bytecode is written on the first, unmeasured run, as an installed till has
# it; with PYTHONDONTWRITEBYTECODE every start would compile the sources again.
OFFSCREEN = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "QT_QPA_PLATFORM": "offscreen",
}

# Prints the time when the first window has been shown and the event loop has
# run once, then quits. The till and the bare window use the same hook.
_SHOWN_HOOK = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

_show = QWidget.show

def _show_and_quit(self):
    _show(self)
    def done():
        print("SHOWN", time.time(), flush=True)
        QApplication.instance().exit(0)
    QTimer.singleShot(0, done)

QWidget.show = _show_and_quit
"""

_BARE_WINDOW = """
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow
app = QApplication([])
window = QMainWindow()
window.setCentralWidget(QLineEdit())
window.resize(1024, 700)
window.show()
app.exec()
"""

_TILL = """
import sys
from posloyalty.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _python() -> Path:
    return VENV / "bin" / "python"


def ensure_till_venv() -> Path:
    """Create or update the till's benchmark venv: base dependencies, no extras."""
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return _python()
    if not _python().exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(_python()), "-m", "pip", "install", "--quiet", "-e", str(REPO)],
        check=True,
    )
    STAMP.write_text(digest)
    return _python()


def _has_module(python: Path, name: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return subprocess.run([str(python), "-c", probe]).returncode == 0


def _time_to_shown(python: Path, script: str, args: list[str]) -> float:
    start = time.time()
    result = subprocess.run(
        [str(python), "-c", _SHOWN_HOOK + script, *args],
        capture_output=True,
        text=True,
        env=OFFSCREEN,
        timeout=120,
    )
    for line in result.stdout.splitlines():
        if line.startswith("SHOWN "):
            return float(line.split()[1]) - start
    raise RuntimeError(
        f"window never shown (exit {result.returncode}): {result.stderr[-500:]}"
    )


def bench_cold_start(results: dict, python: Path, data_dir: Path) -> None:
    till_args = ["--data-dir", str(data_dir), "till"]
    # The first runs create the database and compile bytecode; not measured.
    _time_to_shown(python, _TILL, till_args)
    _time_to_shown(python, _BARE_WINDOW, [])

    till, bare = [], []
    for _ in range(RUNS):
        till.append(_time_to_shown(python, _TILL, till_args))
        bare.append(_time_to_shown(python, _BARE_WINDOW, []))
    till_median, bare_median = statistics.median(till), statistics.median(bare)
    results["till_cold_start"] = {
        "median": till_median,
        "p99": percentile(till, 0.99),
        "unit": "s",
        "ratio": till_median / bare_median,
        "baseline_median": bare_median,
        "baseline_p99": percentile(bare, 0.99),
        "target": "ratio <= 2 (bare PySide6 window with one line edit)",
        "samples": RUNS,
    }


_PEAK_RSS = """
import resource, subprocess, sys
child = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if child.returncode != 0:
    sys.exit(child.stderr[-500:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_rss_of_till(python: Path, data_dir: Path, shot: Path) -> float:
    """Run the till with a scripted phone lookup; return its peak RSS in MiB."""
    # A fresh parent process per run, so ru_maxrss covers this till alone.
    till = [str(python), "-c", _TILL, "--data-dir", str(data_dir), "till",
            "--screenshot", str(shot), "--lookup", phone_for(42)]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *till],
        capture_output=True, text=True, env=OFFSCREEN, timeout=300,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"till failed: {result.stderr[-500:]}")
    return int(result.stdout.strip()) / 1024  # KiB on Linux


def bench_memory(results: dict, python: Path) -> None:
    CACHE_DIR.mkdir(exist_ok=True)
    small_dir, large_dir = CACHE_DIR / "hundred", CACHE_DIR / "million"
    build_member_database(small_dir, 100)
    build_member_database(large_dir, 1_000_000)
    with tempfile.TemporaryDirectory(prefix="till-shot-") as folder:
        shot = Path(folder) / "shot.png"
        small = statistics.median(
            _peak_rss_of_till(python, small_dir, shot) for _ in range(3)
        )
        large = statistics.median(
            _peak_rss_of_till(python, large_dir, shot) for _ in range(3)
        )
    results["till_memory"] = {
        "median": large,
        "p99": large,
        "unit": "MiB",
        "ratio": large / small,
        "baseline_median": small,
        "target": "ratio <= 1.10 (peak RSS with 1,000,000 members against 100)",
        "samples": 3,
    }


def run(results: dict) -> None:
    python = ensure_till_venv()
    if _has_module(python, "psycopg2") or _has_module(python, "psycopg"):
        raise RuntimeError(f"{VENV} has a PostgreSQL driver; delete it to rebuild")
    with tempfile.TemporaryDirectory(prefix="till-bench-") as folder:
        bench_cold_start(results, python, Path(folder) / "till")
    bench_memory(results, python)


if __name__ == "__main__":
    measured: dict = {}
    run(measured)
    for name, entry in measured.items():
        print(name, entry)

"""Starting the till window in a fresh process, where services load lazily."""

from __future__ import annotations

import subprocess
import sys

# Records, at the first job the window hands to a worker thread, which lazily
# imported service modules are still unloaded.
_SCRIPT = """
import sys
import types
from pathlib import Path

from PySide6.QtWidgets import QApplication

from posloyalty.services.context import TillContext
from posloyalty.ui.window import TillWindow

app = QApplication([])
window = TillWindow(TillContext(Path(sys.argv[1])))
unloaded = []
submit = window.runner.submit


def first_submit(*args, **kwargs):
    if not unloaded:
        for name in ("members", "sales", "loyalty"):
            module = sys.modules.get(f"posloyalty.services.{name}")
            if type(module) is not types.ModuleType:
                unloaded.append(name)
        unloaded.append("checked")
    return submit(*args, **kwargs)


window.runner.submit = first_submit
window.show()
window.start()
print(" ".join(unloaded))
window.close()
"""


def test_services_load_before_workers_start(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "till")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["checked"]

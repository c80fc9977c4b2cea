"""Where the till keeps its database, card keys and log file."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "POSLOYALTY_DATA_DIR"
DATABASE_FILE = "till.sqlite3"
KEYS_FILE = "card_keys.json"
LOG_FILE = "posloyalty.log"


def resolve_data_dir(option: str | None = None) -> Path:
    """Pick the data folder: ``--data-dir``, then the environment, then the OS default."""
    if option:
        return Path(option).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("posloyalty", appauthor=False))

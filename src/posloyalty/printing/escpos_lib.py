"""The one place that imports python-escpos, with its import-time side effects undone.

python-escpos 3.1 does three things that a till must not inherit. Importing
``escpos.capabilities`` calls ``logging.basicConfig()``, which adds a stderr
handler to the root logger when it has none. The import also pickles the
profile database into a new ``mkdtemp()`` folder on every start unless
``ESCPOS_CAPABILITIES_PICKLE_DIR`` is set. Its profile lookups raise a bare
``KeyError`` for an unknown name. The functions here handle all three.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

logger = logging.getLogger(__name__)

PICKLE_DIR_ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def _cache_dir() -> str:
    import platformdirs

    path = os.path.join(platformdirs.user_cache_dir("posloyalty", appauthor=False))
    os.makedirs(path, exist_ok=True)
    return path


@cache
def capabilities() -> dict[str, Any]:
    """Import python-escpos once and return its printer capability database.

    Returns:
        The database: ``profiles`` (name to profile data) and ``encodings``.
    """
    os.environ.setdefault(PICKLE_DIR_ENV, _cache_dir())
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    from escpos import capabilities as escpos_capabilities

    for handler in list(root.handlers):
        if handler not in handlers_before:
            root.removeHandler(handler)
    return escpos_capabilities.CAPABILITIES


def profile_names() -> list[str]:
    """Return the names of every profile in python-escpos's capability database."""
    return sorted(capabilities()["profiles"])


def profile_data(name: str) -> dict[str, Any]:
    """Return the data of profile ``name``; the caller has checked that it exists."""
    return capabilities()["profiles"][name]

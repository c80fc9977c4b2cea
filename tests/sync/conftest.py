"""A real head office (uvicorn in a thread, PostgreSQL) for tills in this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sync_helpers import free_port, postgres_database


@dataclass
class HeadOffice:
    """A running head office and the database URL behind it."""

    url: str
    database: str

    def add_till(self, store: str, till: str) -> str:
        from posloyalty.server import tills

        return tills.add_till(store, till).token


@pytest.fixture
def head_office() -> Iterator[HeadOffice]:
    import uvicorn

    from posloyalty.server import models
    from posloyalty.server.app import create_app

    with postgres_database() as database:
        port = free_port()
        app = create_app(database)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        try:
            yield HeadOffice(f"http://127.0.0.1:{port}", database)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            models.server_proxy.obj.close_all()

"""A head office on PostgreSQL (or SQLite) behind FastAPI's TestClient."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from posloyalty.services.ledger import entry_hash
from sync_helpers import postgres_database


@pytest.fixture(params=["postgres", "sqlite"])
def server_url(request, tmp_path) -> Iterator[str]:
    """A fresh head-office database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.sqlite3'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def api(server_url):
    """A TestClient on a new head office; closes its connections afterwards."""
    from fastapi.testclient import TestClient

    from posloyalty.server import models
    from posloyalty.server.app import create_app

    app = create_app(server_url)
    with TestClient(app) as client:
        yield client
    db = models.server_proxy.obj
    getattr(db, "close_all", db.close)()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


START = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)


@dataclass
class FakeTill:
    """Builds push bodies as a till would: members and chained entries."""

    store: str
    name: str
    token: str
    last_hash: str | None = None
    clock: datetime = START

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return stamp(self.clock)

    def member(self, name: str = "Ann", updated_at: str | None = None) -> dict:
        created = self.tick()
        return {
            "id": str(uuid.uuid4()),
            "external_id": None,
            "phone": "+447700900123",
            "name": name,
            "name_key": name.casefold(),
            "email": None,
            "consent_email": False,
            "consent_sms": True,
            "is_demo": False,
            "created_at": created,
            "updated_at": updated_at or created,
            "updated_by": None,
            "erased_at": None,
        }

    def entry(self, member_id: str, points: int, kind: str = "adjust") -> list:
        entry_id = str(uuid.uuid4())
        created = self.tick()
        fields = [entry_id, member_id, kind, str(points), "", self.store, self.name,
                  "", "", "", created]  # fmt: skip
        chain = entry_hash(self.last_hash, fields)
        row = [entry_id, member_id, kind, points, None, self.store, self.name, None,
               None, None, None, created, self.last_hash, chain]  # fmt: skip
        self.last_hash = chain
        return row


@pytest.fixture
def new_till(api):
    """Register a till at the head office and return a FakeTill for it."""
    from posloyalty.server import tills

    def make(store: str = "Leeds", name: str | None = None) -> FakeTill:
        name = name or f"Till {uuid.uuid4().hex[:6]}"
        added = tills.add_till(store, name)
        return FakeTill(store, name, added.token)

    return make

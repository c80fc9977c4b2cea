"""Opening the head office's database from a URL and migrating its schema."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import Database, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import parse as parse_db_url

from posloyalty.domain.cards import KEY_BYTES, generate_key_id
from posloyalty.server import models

logger = logging.getLogger(__name__)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 30_000,  # ms
}


class DatabaseURLError(ValueError):
    """A database URL the server cannot use."""


def describe_url(url: str) -> str:
    """Return the URL without its password, for messages and logs."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
    return parsed._replace(netloc=netloc).geturl()


def connect_url(url: str, max_connections: int = 20) -> Database:
    """Create (not yet connect) a peewee database for ``url``.

    ``postgresql://user:password@host:port/name`` gives a connection pool;
    ``sqlite:///path/to/file`` an SQLite file in WAL mode.

    Raises:
        DatabaseURLError: the scheme is neither ``postgresql`` nor ``sqlite``.
    """
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme in ("postgresql", "postgres"):
        from playhouse.pool import PooledPostgresqlDatabase

        kwargs = parse_db_url(url, unquote_password=True, unquote_user=True)
        name = kwargs.pop("database")
        if not name:
            raise DatabaseURLError(
                f"invalid database URL {describe_url(url)!r}: name the database,"
                " as in postgresql://user@host:5432/posloyalty"
            )
        return PooledPostgresqlDatabase(
            name,
            max_connections=max_connections,
            stale_timeout=300,
            timeout=30,
            **kwargs,
        )
    if scheme == "sqlite":
        path = unquote(parsed.path)
        if parsed.netloc or not path or path == "/":
            raise DatabaseURLError(
                f"invalid database URL {url!r}: write sqlite:///relative/file or"
                " sqlite:////absolute/file"
            )
        file = Path(path[1:])
        file.parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(
            str(file), pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", timeout=30
        )
    raise DatabaseURLError(
        f"invalid database URL {describe_url(url)!r}: use postgresql://... or"
        " sqlite:///FILE"
    )


def is_postgres(db: Database) -> bool:
    return isinstance(db, PostgresqlDatabase)


def _migration_1(db: Database) -> None:
    db.create_tables(models.ALL_MODELS)
    models.ChangeCounter.create(name="change", value=0)
    # The programme's first card key; tills that join add their own.
    key_id = generate_key_id(set())
    models.CardKey.create(
        key_id=key_id,
        secret_hex=secrets.token_bytes(KEY_BYTES).hex(),
        from_till=None,
        created_at=datetime.now(UTC),
    )


def _migration_2(db: Database) -> None:
    """Hold several secrets per card key id, rule versions and member profiles."""
    import json

    from posloyalty.domain.programme import Programme
    from posloyalty.domain.programme_document import programme_to_dict
    from posloyalty.domain.rule_versions import HEAD_OFFICE_FIRST_VERSION

    db.create_tables(models.MODELS_OF_MIGRATION_2)
    db.execute_sql(
        "INSERT INTO programme_key (key_id, secret_hex, from_till_id, created_at)"
        " SELECT key_id, secret_hex, from_till_id, created_at FROM card_key"
    )
    db.execute_sql("DROP TABLE card_key")

    # Rules set with schema version 1 become the first head office version.
    settings = {row.key: row.value for row in models.ServerSetting.select()}
    if int(settings.get("rule_version", "0")):
        rules = {key: settings.get(key, value) for key, value in DEFAULT_RULES.items()}
        models.RuleVersion.create(
            version=HEAD_OFFICE_FIRST_VERSION,
            rules=json.dumps(rules, sort_keys=True),
            programme=json.dumps(programme_to_dict(Programme()), sort_keys=True),
            created_at=datetime.now(UTC),
        )
    models.ServerSetting.delete().where(
        models.ServerSetting.key.in_([*DEFAULT_RULES, "rule_version"])
    ).execute()


# The base earning rule of a head office version where nobody set a value.
DEFAULT_RULES = {
    "earn_rate": "1",
    "excluded_skus": "",
    "minimum_spend": "0",
    "point_value": "0.01",
}

# Each migration runs once, in order; all pending ones run in one transaction.
# Append new ones at the end and never edit one that has shipped.
MIGRATIONS: list[tuple[int, Callable[[Database], None]]] = [
    (1, _migration_1),
    (2, _migration_2),
]


def open_server_database(url: str, max_connections: int = 20) -> Database:
    """Open the head office's database at ``url`` and apply pending migrations.

    Raises:
        DatabaseURLError: the URL is not usable.
        peewee.OperationalError: the database server cannot be reached.
    """
    db = connect_url(url, max_connections)
    models.server_proxy.initialize(db)
    with db.connection_context():
        migrate(db)
    return db


def migrate(db: Database) -> None:
    """Apply every migration newer than the database's schema version.

    On PostgreSQL an advisory lock makes several workers starting at once
    migrate one after the other.
    """
    with db.atomic():
        if is_postgres(db):
            db.execute_sql("SELECT pg_advisory_xact_lock(7400001)")
        db.create_tables([models.SchemaVersion])
        applied = {row.version for row in models.SchemaVersion.select()}
        for version, step in MIGRATIONS:
            if version in applied:
                continue
            logger.info("applying server schema migration %d", version)
            step(db)
            models.SchemaVersion.create(version=version, applied_at=datetime.now(UTC))

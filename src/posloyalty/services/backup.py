"""Backing up the till's database and card keys to one file, and restoring it.

A backup is a zip archive with ``manifest.json``, the database copied with
SQLite's online backup API (so the till keeps selling while it runs) and the
card key file. It contains the programme's card keys, so it is written with
permissions 0600 and must be kept as safe as the till itself.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from posloyalty import paths
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError, RejectedError
from posloyalty.services.ledger import append_audit
from posloyalty.storage.keys import KeyFileError, load_or_create_keyring

logger = logging.getLogger(__name__)

BACKUP_FORMAT = 1
MANIFEST = "manifest.json"
_DB_MEMBER = "till.sqlite3"
_KEYS_MEMBER = "card_keys.json"


@dataclass(frozen=True)
class BackupInfo:
    """The summary of a backup file, from its manifest."""

    path: Path
    created_at: str
    store: str
    till: str
    members: int
    entries: int


def backup(ctx: TillContext, target: Path) -> BackupInfo:
    """Write the database and card keys to ``target`` while the till keeps running.

    The archive is written next to ``target`` under a temporary name and then
    renamed, so an interrupted backup never leaves a half-written file there.

    Raises:
        InvalidInputError: the target folder is missing or not writable.
    """
    target = target.expanduser()
    if not target.parent.is_dir():
        raise InvalidInputError(
            f"backup folder {target.parent} does not exist: create it or choose"
            " another file"
        )
    created_at = ctx.now().isoformat()
    with tempfile.TemporaryDirectory(prefix="posloyalty-backup-") as work:
        copy = Path(work) / _DB_MEMBER
        destination = sqlite3.connect(copy)
        try:
            # Pages are copied in steps so writers at the till are not blocked
            # for the whole copy; SQLite restarts the copy if one writes.
            ctx.db.connection().backup(destination, pages=256)
            counts = destination.execute(
                "SELECT (SELECT COUNT(*) FROM member),"
                " (SELECT COUNT(*) FROM ledger_entry)"
            ).fetchone()
        finally:
            destination.close()
        manifest = {
            "format": BACKUP_FORMAT,
            "created_at": created_at,
            "store": ctx.settings.store,
            "till": ctx.settings.till,
            "members": counts[0],
            "entries": counts[1],
        }
        partial = target.with_name(f".{target.name}.partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as error:
            raise InvalidInputError(
                f"cannot write backup {target}: {error.strerror}; choose another folder"
            ) from error
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
                archive.write(copy, _DB_MEMBER)
                archive.write(ctx.data_dir / paths.KEYS_FILE, _KEYS_MEMBER)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    with ctx.db.atomic():
        append_audit(ctx, "backup", details={"file": target.name, **manifest})
    logger.info(
        "backed up %d members and %d entries to %s", counts[0], counts[1], target
    )
    return BackupInfo(
        target, created_at, manifest["store"], manifest["till"], counts[0], counts[1]
    )


def _read_archive(source: Path, work: Path) -> dict[str, object]:
    """Extract and check a backup; return its manifest."""
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
            if not {MANIFEST, _DB_MEMBER, _KEYS_MEMBER} <= names:
                raise InvalidInputError(
                    f"{source} is not a posloyalty backup: it lacks"
                    f" {MANIFEST}, {_DB_MEMBER} or {_KEYS_MEMBER}"
                )
            manifest = json.loads(archive.read(MANIFEST))
            archive.extract(_DB_MEMBER, work)
            archive.extract(_KEYS_MEMBER, work)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InvalidInputError(
            f"cannot read backup {source}: {error}; check the file name, or copy the"
            " backup again"
        ) from error
    if manifest.get("format") != BACKUP_FORMAT:
        raise InvalidInputError(
            f"backup {source} has format {manifest.get('format')!r}; this version"
            f" reads format {BACKUP_FORMAT}: restore it with a matching posloyalty"
        )

    connection = sqlite3.connect(work / _DB_MEMBER)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        result = str(error)
    finally:
        connection.close()
    if result != "ok":
        raise InvalidInputError(
            f"the database in backup {source} is damaged ({result}): use an older"
            " backup"
        )
    try:
        load_or_create_keyring(work / _KEYS_MEMBER)
    except KeyFileError as error:
        raise InvalidInputError(f"backup {source}: {error}") from error
    return manifest


def restore(data_dir: Path, source: Path, replace: bool = False) -> BackupInfo:
    """Restore a backup into ``data_dir``; the till must not be running there.

    Args:
        replace: when the folder already contains a database or card keys, move
            them aside as ``<name>.before-restore-<time>`` instead of refusing.

    Raises:
        InvalidInputError: the file is missing, not a backup, or damaged.
        RejectedError: the folder holds a till and ``replace`` is False.
    """
    source = source.expanduser()
    if not source.is_file():
        raise InvalidInputError(f"backup file {source} not found: check the path")
    data_dir.mkdir(parents=True, exist_ok=True)
    database = data_dir / paths.DATABASE_FILE
    keys = data_dir / paths.KEYS_FILE
    existing = [p for p in (database, keys) if p.exists()]
    if existing and not replace:
        raise RejectedError(
            f"data folder {data_dir} already contains a till: pass --replace to move"
            " its database and card keys aside and restore the backup"
        )

    with tempfile.TemporaryDirectory(prefix=".restore-", dir=data_dir) as work:
        manifest = _read_archive(source, Path(work))
        suffix = ".before-restore-" + datetime.now().strftime("%Y%m%dT%H%M%S")
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), keys):
            if path.exists():
                path.rename(path.with_name(path.name + suffix))
                logger.info("moved %s aside before the restore", path)
        os.replace(Path(work) / _DB_MEMBER, database)
        os.replace(Path(work) / _KEYS_MEMBER, keys)
        os.chmod(keys, 0o600)

    ctx = TillContext(data_dir)
    try:
        with ctx.db.atomic():
            append_audit(ctx, "restore", details={"file": source.name, **manifest})
    finally:
        ctx.close()
    logger.info("restored backup %s into %s", source, data_dir)
    return BackupInfo(
        source,
        str(manifest.get("created_at", "")),
        str(manifest.get("store", "")),
        str(manifest.get("till", "")),
        int(manifest.get("members", 0)),
        int(manifest.get("entries", 0)),
    )

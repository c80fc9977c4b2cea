"""Turn faults of the data folder and the database into one-line messages.

A data folder that is a file or that this user cannot write, a damaged database
or card key file, and a database locked by another process beyond the busy
timeout are faults of the machine, not of the program. The command stops with a
message that names the path and what to do, and the traceback goes to the log.
"""

from __future__ import annotations

import logging
from pathlib import Path

from peewee import DatabaseError, IntegrityError, InterfaceError, ProgrammingError

from posloyalty import paths
from posloyalty.cli.common import EXIT_REJECTED, EXIT_USAGE, CommandError
from posloyalty.storage.database import SQLITE_PRAGMAS

logger = logging.getLogger(__name__)

# These errors mean that the code is wrong rather than the machine, so they
# keep their traceback.
_BUG_ERRORS = (IntegrityError, InterfaceError, ProgrammingError)


def check_data_dir(data_dir: Path) -> None:
    """Reject a data folder path that names a file.

    Raises:
        CommandError: ``data_dir`` exists and is not a folder (exit code 2).
    """
    if data_dir.exists() and not data_dir.is_dir():
        raise CommandError(
            f"data folder {data_dir} is a file, not a folder: give --data-dir a"
            " folder, or move the file away",
            EXIT_USAGE,
        )


def folder_error(data_dir: Path, error: OSError) -> CommandError:
    """Describe a data folder that cannot be created or written."""
    reason = error.strerror or type(error).__name__
    return CommandError(
        f"cannot write to data folder {data_dir} ({reason}): give --data-dir a"
        " folder this user can write, or fix its permissions",
        EXIT_REJECTED,
    )


def is_storage_fault(error: DatabaseError) -> bool:
    """Tell a fault of the database file or its lock from a bug in a query."""
    return not isinstance(error, _BUG_ERRORS)


def database_error(data_dir: Path, error: DatabaseError) -> CommandError:
    """Describe a database fault: busy, read-only, damaged or unreadable."""
    path = data_dir / paths.DATABASE_FILE
    text = str(error)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        seconds = SQLITE_PRAGMAS["busy_timeout"] // 1000
        message = (
            f"the till database {path} is busy: another posloyalty process held it"
            f" for more than {seconds} s; nothing was recorded, try again"
        )
    elif "readonly" in lowered or "read-only" in lowered:
        message = (
            f"cannot write the till database {path} ({text}): give --data-dir a"
            " folder this user can write, or fix the permissions of the folder"
            " and its files"
        )
    elif "not a database" in lowered or "malformed" in lowered:
        message = (
            f"the till database {path} is damaged ({text}): restore it with"
            " `posloyalty restore BACKUP --replace`, or move it away to start an"
            " empty till"
        )
    else:
        message = (
            f"cannot use the till database {path} ({text}): check the disk and the"
            " folder's permissions, then try again"
        )
    return CommandError(message, EXIT_REJECTED)

"""One sync at a time per till, across threads and processes."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)

LOCK_FILE = "sync.lock"

_thread_lock = threading.Lock()


class SyncLockBusy(Exception):
    """Another sync of the same till is running."""


class SyncLock:
    """An exclusive lock on ``sync.lock`` in the till's data folder.

    The operating system releases a file lock when its process ends, so a sync
    killed halfway never leaves the till locked. A process-wide thread lock is
    taken first, so a second thread of the same process fails the same way.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None
        self._has_thread_lock = False

    def acquire(self) -> None:
        """Take the lock without waiting.

        Raises:
            SyncLockBusy: a sync of this till is running in this or another process.
        """
        if not _thread_lock.acquire(blocking=False):
            raise SyncLockBusy()
        self._has_thread_lock = True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_file(fd)
        except OSError as error:
            os.close(fd)
            self._release_thread()
            raise SyncLockBusy() from error
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            _unlock_file(self._fd)
            os.close(self._fd)
            self._fd = None
        self._release_thread()

    def _release_thread(self) -> None:
        if self._has_thread_lock:
            self._has_thread_lock = False
            _thread_lock.release()

    def __enter__(self) -> SyncLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


if os.name == "nt":  # pragma: no cover - the tills run on Linux in tests
    import msvcrt

    def _lock_file(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock_file(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_file(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

"""The one place where the till runs slow work off the GUI thread.

Widgets hand a function to ``TaskRunner.submit`` together with what to do on
success and on failure. The function runs on the worker thread of its lane,
and the callbacks run on the GUI thread. Each lane has one thread: on the
``ledger`` lane writes reach the database in the order the cashier made them,
while the ``device`` (printer) and ``network`` (head office) lanes keep a slow
printer or server from delaying a sale or each other.
Tests may build the runner with ``inline=True`` to run every function at once
on the calling thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

logger = logging.getLogger(__name__)

LEDGER_LANE = "ledger"
DEVICE_LANE = "device"
NETWORK_LANE = "network"
LANES = (LEDGER_LANE, DEVICE_LANE, NETWORK_LANE)

SuccessCallback = Callable[[Any], None]
FailureCallback = Callable[[BaseException], None]


@dataclass
class _Task:
    name: str
    function: Callable[[], Any]
    on_success: SuccessCallback | None
    on_failure: FailureCallback | None
    result: Any = None
    error: BaseException | None = None


class TaskRunner(QObject):
    """Runs functions on worker threads and reports back on the GUI thread.

    Signals:
        idle_changed(bool): True when the last pending task has finished.
    """

    idle_changed = Signal(bool)
    _finished = Signal(object)

    def __init__(self, parent: QObject | None = None, inline: bool = False) -> None:
        super().__init__(parent)
        self._inline = inline
        self._pending = 0
        self._executors: dict[str, ThreadPoolExecutor] = {}
        # The signal is emitted on the worker thread; the runner lives on the
        # GUI thread, so Qt queues the call to _deliver onto the GUI thread.
        self._finished.connect(self._deliver)

    @property
    def pending(self) -> int:
        """Tasks submitted whose callbacks have not run yet."""
        return self._pending

    def is_idle(self) -> bool:
        """Tell whether no task is waiting or running."""
        return self._pending == 0

    def submit(
        self,
        name: str,
        function: Callable[[], Any],
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
        lane: str = LEDGER_LANE,
    ) -> None:
        """Run ``function`` off the GUI thread, then one callback on the GUI thread.

        ``on_failure`` receives the exception; without it the failure is logged.
        ``lane`` is ``LEDGER_LANE`` for database work, ``DEVICE_LANE`` for work
        that may wait on the printer and ``NETWORK_LANE`` for the head office.
        """
        if lane not in LANES:
            raise ValueError(f"unknown task lane {lane!r}: use one of {LANES}")
        task = _Task(name, function, on_success, on_failure)
        self._pending += 1
        if self._pending == 1:
            self.idle_changed.emit(False)
        if self._inline:
            self._run(task)
            self._deliver(task)
            return
        executor = self._executors.get(lane)
        if executor is None:
            executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"till-{lane}"
            )
            self._executors[lane] = executor
        executor.submit(self._run_and_signal, task)

    def _run(self, task: _Task) -> None:
        try:
            task.result = task.function()
        except Exception as error:  # reported to the caller on the GUI thread
            if task.on_failure is None:
                logger.exception("background task %s failed", task.name)
            else:
                logger.info("background task %s failed: %s", task.name, error)
            task.error = error

    def _run_and_signal(self, task: _Task) -> None:
        self._run(task)
        self._finished.emit(task)

    @Slot(object)
    def _deliver(self, task: _Task) -> None:
        try:
            if task.error is None:
                if task.on_success is not None:
                    task.on_success(task.result)
            elif task.on_failure is not None:
                task.on_failure(task.error)
        except Exception:
            logger.exception("callback of background task %s failed", task.name)
        finally:
            self._pending -= 1
            if self._pending == 0:
                self.idle_changed.emit(True)

    def shutdown(self, cleanup: Callable[[], Any] | None = None) -> None:
        """Run ``cleanup`` on every worker thread, then wait for the workers to stop.

        ``cleanup`` closes what a worker opened for itself, such as its own
        database connection. Callbacks of tasks that finish meanwhile run only
        if the GUI thread's event loop runs again.
        """
        futures: list[Future] = []
        for executor in self._executors.values():
            if cleanup is not None:
                futures.append(executor.submit(cleanup))
            executor.shutdown(wait=True)
        for future in futures:
            if future.exception() is not None:
                logger.error(
                    "clean-up on a worker thread failed: %s", future.exception()
                )
        self._executors.clear()

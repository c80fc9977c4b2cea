"""The print worker: one background thread that prints queued jobs after commit.

The till window starts one ``PrintWorker`` and shows its state; nothing here
runs on the GUI thread. The worker shares the process's ``TillContext``
(peewee gives each thread its own SQLite connection), because peewee binds
the models to one database per process.

Usage::

    worker = PrintWorker(ctx, on_status=window.printer_status_changed.emit)
    worker.start()
    ...                # record_sale(..., print_receipt=True), then:
    worker.wake()
    ...
    worker.stop()

``on_status`` is called from the worker thread; a Qt window passes a signal's
``emit`` so the slot runs on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from posloyalty.domain.errors import DomainError
from posloyalty.printing.device import JobFile, PrinterError, send_job
from posloyalty.printing.documents import render_job
from posloyalty.printing.settings import PrinterSettings, printer_settings
from posloyalty.services import print_jobs
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError, ServiceError
from posloyalty.services.receipts import (
    PrinterStatus,
    printer_setting_values,
    printer_status,
)

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 2.0  # another process (the command line) may queue a job
STOP_TIMEOUT_S = 15.0  # longer than the I/O timeouts of one attempt

ContextSource = TillContext | Callable[[], TillContext]
StatusCallback = Callable[[PrinterStatus], None]


class PrintWorker:
    """Print queued jobs on a background thread, retrying failures with backoff.

    Attributes:
        status: the latest printer status, also passed to ``on_status``.
    """

    def __init__(
        self,
        source: ContextSource,
        on_status: StatusCallback | None = None,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self._source = source
        self._on_status = on_status
        self._poll_interval_s = poll_interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.status: PrinterStatus | None = None
        self._settings_error: str | None = None

    def start(self) -> None:
        """Start the worker thread; a second call does nothing."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="posloyalty-print-worker", daemon=True
        )
        self._thread.start()
        logger.info("print worker started")

    def wake(self) -> None:
        """Look for jobs now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop the thread after the job it is printing, waiting up to ``timeout_s``."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self._wake.set()
        thread.join(timeout_s)
        if thread.is_alive():
            logger.warning("print worker did not stop within %.0f s", timeout_s)
        else:
            logger.info("print worker stopped")
        self._thread = None

    @property
    def is_running(self) -> bool:
        """The worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _context(self) -> TillContext:
        return self._source if isinstance(self._source, TillContext) else self._source()

    def _run(self) -> None:
        ctx = self._context()
        try:
            print_jobs.recover_interrupted_jobs(ctx)
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    worked = self.run_once(ctx)
                except Exception:
                    # The worker must outlive any single bad job or database hiccup.
                    logger.exception("print worker step failed")
                    worked = False
                self._publish(ctx)
                if not worked:
                    self._wake.wait(self._wait_time(ctx))
        finally:
            # Closes only this thread's connection; the GUI thread keeps its own.
            ctx.db.close()

    def _wait_time(self, ctx: TillContext) -> float:
        due = print_jobs.next_retry_at(ctx)
        if due is None:
            return self._poll_interval_s
        seconds = (due - ctx.now()).total_seconds()
        return min(self._poll_interval_s, max(seconds, 0.05))

    def load_settings(self, ctx: TillContext) -> PrinterSettings | None:
        """Read and check the printer settings; remember the error if invalid."""
        try:
            settings = printer_settings(printer_setting_values(ctx), ctx.data_dir)
        except InvalidInputError as error:
            if self._settings_error != str(error):
                logger.error("printer settings invalid: %s", error)
            self._settings_error = str(error)
            return None
        self._settings_error = None
        return settings

    def run_once(self, ctx: TillContext) -> bool:
        """Print the next due job, if any, in the calling thread.

        Returns:
            ``True`` when a job was attempted.
        """
        settings = self.load_settings(ctx)
        if settings is None or settings.uri.scheme == "none":
            return False
        job = print_jobs.claim_next_job(ctx)
        if job is None:
            return False
        self._publish(ctx)
        try:
            rendered = render_job(ctx, settings, job)
        except (ServiceError, DomainError, ValueError) as error:
            print_jobs.mark_failed(
                ctx, job.id, f"cannot print {job.kind}: {error}", retry=False
            )
            return True
        try:
            where = send_job(
                settings, rendered.data, JobFile(job.id, job.kind), rendered.preview
            )
        except PrinterError as error:
            print_jobs.mark_failed(ctx, job.id, str(error), error.retry_soon)
            return True
        print_jobs.mark_printed(ctx, job.id)
        logger.info("print job %d (%s) sent to %s", job.id, job.kind, where)
        return True

    def _publish(self, ctx: TillContext) -> None:
        status = printer_status(ctx)
        if self._settings_error is not None:
            status = PrinterStatus(
                "invalid_settings",
                self._settings_error,
                status.queued,
                status.failed_jobs,
            )
        if status != self.status:
            self.status = status
            if self._on_status is not None:
                try:
                    self._on_status(status)
                except Exception:
                    logger.exception("printer status callback failed")

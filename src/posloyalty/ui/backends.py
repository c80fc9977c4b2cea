"""What the till window needs from the printing and sync adapters.

The window reaches the printer and the head office only through
``TillBackends``, and only from the task runner's worker threads, because both
may block on a device or the network. A part that is not installed reports
``None``, which the status bar shows as "not configured". The modules are
imported on first use, so the first window opens without them.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from posloyalty.services.context import TillContext
from posloyalty.services.errors import ServiceError
from posloyalty.services.views import SaleResult

logger = logging.getLogger(__name__)

DEFAULT_SYNC_INTERVAL_SECONDS = 60


class BackendMissingError(ServiceError):
    """The printing or sync part that a request needs is not installed."""


@dataclass(frozen=True)
class PrinterState:
    """The printer's state as one line for the status bar.

    Attributes:
        text: such as "ready", or why the last receipt failed.
        is_ready: False when the last job failed or the settings are invalid.
    """

    text: str
    is_ready: bool


@dataclass(frozen=True)
class SyncState:
    """Sync with the head office as the status bar shows it.

    Attributes:
        is_configured: a server URL and token are set.
        waiting: ledger entries, sales and members not yet acknowledged.
        last_error: why the last attempt failed, when it did.
    """

    is_configured: bool
    waiting: int
    last_error: str | None = None


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        logger.info("%s is not available: %s", name, error)
        return None


class TillBackends:
    """The printing and sync operations the window uses, on worker threads only."""

    def __init__(self) -> None:
        self._worker: Any = None
        self._seconds_since_sync = 0.0

    def start(self, ctx: TillContext, on_change: Callable[[], None]) -> None:
        """Start the print worker; ``on_change`` is called from its thread."""
        queue = _optional_module("posloyalty.printing.queue")
        if queue is None:
            return
        self._worker = queue.PrintWorker(ctx, on_status=lambda _status: on_change())
        self._worker.start()

    def stop(self) -> None:
        """Stop the print worker after the job it is printing."""
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    def printer_state(self, ctx: TillContext) -> PrinterState | None:
        """Return the printer's state, or None when no printer is configured."""
        receipts = _optional_module("posloyalty.services.receipts")
        if receipts is None:
            return None
        status = self._worker.status if self._worker is not None else None
        if status is None:
            status = receipts.printer_status(ctx)
        if status.state == "not_configured":
            return None
        is_ready = status.state in ("ready", "unknown", "printing")
        return PrinterState(status.message, is_ready)

    def sync_state(self, ctx: TillContext) -> SyncState | None:
        """Return the sync backlog, or None when the sync part is not installed."""
        module = _optional_module("posloyalty.services.sync_status")
        if module is None:
            return None
        status = module.sync_status(ctx)
        return SyncState(status.is_configured, status.waiting, status.last_error)

    def sync_if_due(self, ctx: TillContext, elapsed_seconds: float) -> None:
        """Sync with the head office once per ``sync_interval_seconds``, if configured.

        Raises:
            ServiceError: the sync failed; the outbox keeps every entry.
        """
        self._seconds_since_sync += elapsed_seconds
        interval = int(
            ctx.settings.get("sync_interval_seconds") or DEFAULT_SYNC_INTERVAL_SECONDS
        )
        if self._seconds_since_sync < interval:
            return
        if not (ctx.settings.get("server_url") and ctx.settings.get("server_token")):
            return
        client = _optional_module("posloyalty.sync.client")
        if client is None:
            return
        self._seconds_since_sync = 0.0
        client.sync_if_due(ctx)

    def after_sale(self, ctx: TillContext, result: SaleResult) -> None:
        """Wake the print worker for the receipt queued with the sale."""
        if self._worker is not None:
            self._worker.wake()

    def reprint_receipt(self, ctx: TillContext, sale_id: str) -> None:
        """Queue the receipt of ``sale_id`` again and wake the print worker.

        Raises:
            BackendMissingError: printing is not installed.
            NotFoundError: no such sale.
        """
        receipts = _optional_module("posloyalty.services.receipts")
        if receipts is None:
            raise BackendMissingError(
                "receipts cannot be reprinted: printing is not installed at this till"
            )
        receipts.reprint(ctx, sale_id)
        if self._worker is not None:
            self._worker.wake()

    def print_card(self, ctx: TillContext, member_id: str) -> None:
        """Queue a new member's card for printing and wake the print worker."""
        receipts = _optional_module("posloyalty.services.receipts")
        if receipts is None:
            raise BackendMissingError(
                "the card cannot be printed: printing is not installed at this till"
            )
        receipts.print_card(ctx, member_id)
        if self._worker is not None:
            self._worker.wake()


def configure_file_printer(ctx: TillContext) -> str | None:
    """Set a folder of receipt files in the data folder as the printer, if none is set.

    Returns:
        The printer URI set, or None when a printer was already configured or
        printing is not installed.
    """
    if ctx.settings.get("printer_uri"):
        return None
    settings_module = _optional_module("posloyalty.printing.settings")
    if settings_module is None:
        return None
    uri = settings_module.default_printer_uri(ctx.data_dir)
    ctx.update_settings({"printer_uri": uri})
    return str(uri)

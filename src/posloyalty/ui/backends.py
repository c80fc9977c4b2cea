"""What the till window needs from the printing and sync adapters.

The window reaches the printer and the head office only through
``TillBackends``, and only from the task runner's worker threads, because both
may block on a device or the network. A part that is not installed or not
configured reports ``None``, which the status bar shows as "not configured".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from posloyalty.services.context import TillContext
from posloyalty.services.errors import ServiceError
from posloyalty.services.views import SaleResult

logger = logging.getLogger(__name__)


class BackendMissingError(ServiceError):
    """The printing or sync part that a request needs is not configured."""


@dataclass(frozen=True)
class PrinterState:
    """The printer's state as one line for the status bar.

    Attributes:
        text: such as "ready", "offline" or "out of paper".
        is_ready: False when a receipt would not print now.
    """

    text: str
    is_ready: bool


class TillBackends:
    """The printing and sync operations the window uses; each may be missing."""

    def start(self, ctx: TillContext) -> None:
        """Start background workers, such as the print worker; called once."""
        # TODO(ui): start the print worker and the sync loop here once
        # ``printing`` and ``sync`` provide them; until then receipts stay queued.

    def stop(self) -> None:
        """Stop what ``start`` started; called when the window closes."""

    def printer_state(self, ctx: TillContext) -> PrinterState | None:
        """Return the printer's state, or None when no printer is configured."""
        # TODO(ui): ask the ``printer_status`` service of ``printing`` once it exists.
        return None

    def pending_sync_count(self, ctx: TillContext) -> int | None:
        """Return the entries waiting for the head office, or None without sync."""
        # TODO(ui): ask the sync service for its outbox size once it exists.
        return None

    def after_sale(self, ctx: TillContext, result: SaleResult) -> None:
        """Tell the print worker that a receipt was queued with a sale."""

    def reprint_receipt(self, ctx: TillContext, sale_id: str) -> None:
        """Queue the receipt of ``sale_id`` again.

        Raises:
            BackendMissingError: printing is not configured.
        """
        raise BackendMissingError(
            "receipts cannot be reprinted: no printer is configured at this till"
        )

"""The status bar: store and till, the printer's state and the sync backlog."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from posloyalty.ui.backends import PrinterState, SyncState
from posloyalty.ui.tasks import DEVICE_LANE, NETWORK_LANE

if TYPE_CHECKING:
    from posloyalty.ui.window import TillWindow

logger = logging.getLogger(__name__)

STATUS_REFRESH_MS = 5000


class TillStatus(QObject):
    """Keeps the status bar current, reading the backends on worker threads.

    Signals:
        printer_changed(): the print worker reported a new state (any thread).
        refreshed(): the labels show the latest state.
    """

    printer_changed = Signal()
    refreshed = Signal()

    def __init__(self, window: TillWindow) -> None:
        super().__init__(window)
        self.window = window
        settings = window.ctx.settings
        self.place_label = QLabel(
            self.tr("{store} · {till}").format(store=settings.store, till=settings.till)
        )
        self.printer_label = QLabel()
        self.sync_label = QLabel()
        bar = window.statusBar()
        bar.addWidget(self.place_label)
        bar.addPermanentWidget(self.printer_label)
        bar.addPermanentWidget(self.sync_label)

        self._refresh_in_flight = False
        self._sync_in_flight = False
        self._printer_was_ready = True
        self._timer = QTimer(self)
        self._timer.setInterval(STATUS_REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        # Emitted from the print worker's thread; Qt queues it to this object.
        self.printer_changed.connect(self.refresh)
        self.show_states(None, None)

    def start(self) -> None:
        """Start the backends and the periodic refresh."""
        window = self.window
        window.runner.submit(
            "start backends",
            lambda: window.backends.start(window.ctx, self.printer_changed.emit),
            on_success=lambda _result: self.refresh(),
            on_failure=lambda error: window.show_message(
                self.tr("The printer could not start: {error}").format(
                    error=window.service_text(error)
                ),
                "warning",
            ),
            lane=DEVICE_LANE,
        )
        self._timer.start()

    def stop(self) -> None:
        """Stop the refresh and the backends, before the runner shuts down."""
        self._timer.stop()
        try:
            self.window.backends.stop()
        except Exception:
            logger.exception("stopping the backends failed")

    def _tick(self) -> None:
        self.refresh()
        self._sync_if_due()

    def refresh(self) -> None:
        """Ask the backends for the printer's state and the sync backlog."""
        if self._refresh_in_flight:
            return
        self._refresh_in_flight = True
        window = self.window

        def read() -> tuple[PrinterState | None, SyncState | None]:
            return (
                window.backends.printer_state(window.ctx),
                window.backends.sync_state(window.ctx),
            )

        def done(states: tuple[PrinterState | None, SyncState | None]) -> None:
            self._refresh_in_flight = False
            self.show_states(*states)

        def failed(error: BaseException) -> None:
            self._refresh_in_flight = False
            logger.warning("status refresh failed: %s", error)
            self.printer_label.setText(self.tr("Printer: unknown"))

        window.runner.submit(
            "refresh status", read, on_success=done, on_failure=failed, lane=DEVICE_LANE
        )

    def _sync_if_due(self) -> None:
        if self._sync_in_flight:
            return
        self._sync_in_flight = True
        window = self.window

        def finished(_result: object = None) -> None:
            self._sync_in_flight = False

        def failed(error: BaseException) -> None:
            self._sync_in_flight = False
            logger.warning("sync failed: %s", error)

        window.runner.submit(
            "sync",
            lambda: window.backends.sync_if_due(window.ctx, STATUS_REFRESH_MS / 1000),
            on_success=finished,
            on_failure=failed,
            lane=NETWORK_LANE,
        )

    def show_states(self, printer: PrinterState | None, sync: SyncState | None) -> None:
        """Show the printer and sync states; a new printer problem is also a message."""
        if printer is None:
            self.printer_label.setText(self.tr("Printer: not configured"))
        else:
            self.printer_label.setText(
                self.tr("Printer: {state}").format(state=printer.text)
            )
        is_ready = printer is None or printer.is_ready
        self._mark(self.printer_label, not is_ready)
        if printer is not None and not is_ready and self._printer_was_ready:
            self.window.show_message(
                self.tr(
                    "Printer problem: {state}. Sales are still recorded; press F5 to"
                    " reprint once the printer is back."
                ).format(state=printer.text),
                "warning",
            )
        self._printer_was_ready = is_ready

        if sync is None or not sync.is_configured:
            self.sync_label.setText(self.tr("Sync: not configured"))
        else:
            self.sync_label.setText(
                self.tr("Waiting to sync: {count}").format(count=sync.waiting)
            )
        self._mark(self.sync_label, sync is not None and bool(sync.last_error))
        self.refreshed.emit()

    @staticmethod
    def _mark(label: QLabel, is_problem: bool) -> None:
        if bool(label.property("problem")) == is_problem:
            return
        label.setProperty("problem", is_problem)
        # The style sheet reads the property only when the label is polished.
        label.style().unpolish(label)
        label.style().polish(label)

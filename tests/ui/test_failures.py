"""Failures after and during a sale: shown in the window, never losing the sale."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from posloyalty.storage import models
from till_helpers import balance_of, press, sales_of


class ResettingPrinter:
    """A TCP listener on 127.0.0.1 that reads a little of each job, then resets."""

    def __init__(self) -> None:
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            connection.settimeout(1.0)
            try:
                connection.recv(64)
            except OSError:
                pass
            # SO_LINGER 0 makes close() send a TCP reset, as a printer that
            # loses power or jams mid-job does.
            connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            connection.close()

    def close(self) -> None:
        self._stopping.set()
        self._server.close()
        self._thread.join(2)


@pytest.fixture
def resetting_printer() -> Iterator[ResettingPrinter]:
    printer = ResettingPrinter()
    yield printer
    printer.close()


def test_printer_reset_keeps_sale(qtbot, till, make_window, enrol, resetting_printer):
    import posloyalty.printing.settings  # noqa: F401  (adds the printer settings)

    till.update_settings({"printer_uri": f"tcp://127.0.0.1:{resetting_printer.port}"})
    window = make_window()
    member = enrol("Ada Lovelace", "07700 900001")
    press(qtbot, window.scan_input, member.card_number + "\r")
    qtbot.waitUntil(lambda: window.member is not None)

    qtbot.keyClicks(window.amount_input, "30.00")
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)

    qtbot.waitUntil(
        lambda: "Printer problem" in window.message_area.text(), timeout=15000
    )
    assert resetting_printer.connections >= 1
    assert window.message_area.level == "warning"
    assert window.status.printer_label.property("problem") is True
    [sale] = sales_of(member.id)
    assert sale.amount_minor == 3000
    assert balance_of(member.id) == 30
    job = models.PrintJob.get(models.PrintJob.sale == sale.id)
    assert job.status in ("failed", "queued", "printing")
    assert window.member_panel.balance_label.text() == "30 points"


def test_rejected_sale_is_reported(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    window.attach(member)

    qtbot.keyClicks(window.amount_input, "0.00")
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "The sale was not recorded" in window.message_area.text())
    assert "invalid sale amount" in window.message_area.text()
    assert sales_of(member.id) == []
    assert window.amount_input.text() == "0.00"
    assert not window.amount_input.isReadOnly()
    assert window.focusWidget() is window.amount_input


def test_double_enter_records_one_sale(qtbot, window, enrol):
    member = enrol("Ada Lovelace", "07700 900001")
    window.attach(member)

    qtbot.keyClicks(window.amount_input, "8.00")
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)
    qtbot.keyClick(window.amount_input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: len(window.recorder.sales) == 1, timeout=5000)
    qtbot.wait(100)
    assert len(sales_of(member.id)) == 1
    assert balance_of(member.id) == 8


def test_unexpected_error_becomes_message(qtbot, window):
    def broken() -> None:
        raise RuntimeError("disk on fire")

    window.run_guarded(broken)

    assert "Something went wrong (RuntimeError)" in window.message_area.text()
    assert window.message_area.level == "error"

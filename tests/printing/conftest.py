"""A network printer on 127.0.0.1 that records every byte, and a fake USB device."""

from __future__ import annotations

import contextlib
import errno
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

DLE_EOT = b"\x10\x04"
STATUS_ONLINE = 0x12  # DLE EOT 1: fixed bits 1 and 4 set, offline bit 3 clear
PAPER_PRESENT = 0x12  # DLE EOT 4: fixed bits set, near-end and end bits clear
PAPER_OUT = 0x72  # DLE EOT 4: roll paper end bits 5 and 6 set


class NetworkPrinter:
    """A TCP listener that acts as a network printer on port 9100.

    Attributes:
        jobs: the bytes received on each connection, in order.
        reset_after_lines: close with a TCP reset once a connection has sent
            this many line feeds in job data (``None``: never).
        silent: read everything and never answer a status request.
        paper_status: the byte answered to ``DLE EOT 4``.
    """

    def __init__(self) -> None:
        self.jobs: list[bytearray] = []
        self.reset_after_lines: int | None = None
        self.silent = False
        self.paper_status = PAPER_PRESENT
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def received(self) -> bytes:
        return b"".join(self.jobs)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                self._handle(connection)

    def _handle(self, connection: socket.socket) -> None:
        data = bytearray()
        self.jobs.append(data)
        connection.settimeout(0.2)
        scanned = 0
        while not self._stopping.is_set():
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            data.extend(chunk)
            while True:
                at = data.find(DLE_EOT, scanned)
                if at < 0 or at + 2 >= len(data):
                    break
                scanned = at + 3
                if not self.silent:
                    answer = self.paper_status if data[at + 2] == 4 else STATUS_ONLINE
                    connection.sendall(bytes((answer,)))
            lines = data.count(b"\n")
            if self.reset_after_lines is not None and lines >= self.reset_after_lines:
                # SO_LINGER with a zero timeout makes close() send RST, as a
                # printer that reboots mid-job does.
                connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                return

    def close(self) -> None:
        self._stopping.set()
        self._server.close()
        self._thread.join(2)


@pytest.fixture
def network_printer() -> Iterator[NetworkPrinter]:
    printer = NetworkPrinter()
    yield printer
    printer.close()


@pytest.fixture
def fast_printer_timeouts(monkeypatch):
    """Shorten the printer I/O timeout so a silent printer fails in half a second."""
    from posloyalty.printing import device

    monkeypatch.setattr(device, "IO_TIMEOUT_S", 0.5)


@pytest.fixture
def open_till(data_dir: Path):
    """Open the test's till again after a command line call closed it."""
    from posloyalty.services.context import TillContext

    @contextlib.contextmanager
    def opened() -> Iterator:
        ctx = TillContext(data_dir)
        try:
            yield ctx
        finally:
            ctx.close()

    return opened


class FakeUsbDevice:
    """A USB printer as pyusb shows it: writes are recorded or fail like hardware.

    Attributes:
        plugged_in: ``usb.core.find`` finds the device.
        busy: writes fail with EBUSY, as when another driver has claimed the device.
        unplug_after_writes: writes after this many fail with ENODEV.
    """

    class _Backend:
        pass

    def __init__(self) -> None:
        self.written = bytearray()
        self.plugged_in = True
        self.busy = False
        self.unplug_after_writes: int | None = None
        self.writes = 0
        self.backend = self._Backend()

    def set_configuration(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def write(self, endpoint: int, data: bytes, timeout: int) -> int:
        import usb.core

        if self.busy:
            raise usb.core.USBError("Resource busy", errno=errno.EBUSY)
        if not self.plugged_in or (
            self.unplug_after_writes is not None
            and self.writes >= self.unplug_after_writes
        ):
            self.plugged_in = False
            raise usb.core.USBError("No such device", errno=errno.ENODEV)
        self.writes += 1
        self.written.extend(data)
        return len(data)


@pytest.fixture
def usb_printer(monkeypatch) -> FakeUsbDevice:
    """Replace the USB bus with one fake printer, 04b8:0202."""
    import usb.core
    import usb.util

    device = FakeUsbDevice()

    def find(**match):
        if match.get("idVendor") == 0x04B8 and match.get("idProduct") == 0x0202:
            return device if device.plugged_in else None
        return None

    monkeypatch.setattr(usb.core, "find", find)
    monkeypatch.setattr(usb.util, "dispose_resources", lambda device: None)
    return device

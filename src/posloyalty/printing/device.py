"""Sending a job's bytes to the printer, through python-escpos's connectors.

Each job opens the device, sends, and closes it, so a printer that was reset,
power-cycled or unplugged and plugged in again is found afresh by the next
job. Every failure becomes one ``PrinterError`` with a message for the
cashier. python-escpos's own errors (``DeviceNotFoundError``, ``USBError``,
``OSError`` from the socket) are mapped here and never reach the caller.

A network printer is asked for its status with ``DLE EOT`` before and after
the job (unless the URI says ``?status=off``): before, so paper out is
reported without sending; after, because a connection reset after the last
byte was buffered would otherwise go unnoticed.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posloyalty.printing.escpos_lib import capabilities
from posloyalty.printing.settings import PrinterSettings, PrinterUri

logger = logging.getLogger(__name__)

IO_TIMEOUT_S = 5.0  # connect, write and status read, each
USB_TIMEOUT_MS = 5000

DLE_EOT_PRINTER = b"\x10\x04\x01"  # DLE EOT 1: printer status
DLE_EOT_PAPER = b"\x10\x04\x04"  # DLE EOT 4: roll paper sensor status
# Status bits as the Epson ESC/POS command reference defines DLE EOT 1 and 4.
_OFFLINE_BIT = 0x08  # printer status, bit 3: offline
_PAPER_END_BITS = 0x60  # roll paper status, bits 5 and 6: paper end
_PAPER_NEAR_END_BITS = 0x0C  # roll paper status, bits 2 and 3: near end


class PrinterError(Exception):
    """The printer could not print a job; ``str()`` is the message for the cashier.

    Attributes:
        reason: ``offline``, ``busy``, ``reset``, ``timeout``, ``paper``,
            ``not_configured`` or ``error``.
        retry_soon: the condition usually clears within seconds (a busy device).
    """

    def __init__(self, message: str, reason: str, retry_soon: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_soon = retry_soon


@dataclass(frozen=True)
class JobFile:
    """Names a job's bytes when the printer URI is a folder."""

    job_id: int
    kind: str


def _offline(uri: PrinterUri, detail: str) -> PrinterError:
    return PrinterError(
        f"printer offline: {uri.description} {detail}; check that it is switched"
        " on and connected, then reprint",
        "offline",
    )


def _connector(uri: PrinterUri) -> Any:
    """Create the python-escpos connector for a URI, not yet opened."""
    capabilities()
    if uri.scheme == "tcp":
        from escpos.printer import Network

        return Network(uri.host, uri.port, timeout=IO_TIMEOUT_S)
    if uri.scheme == "usb":
        from escpos.printer import Usb

        return Usb(uri.vendor_id, uri.product_id, timeout=USB_TIMEOUT_MS)
    if uri.scheme == "serial":
        from escpos.printer import Serial

        return Serial(uri.device, baudrate=uri.baudrate, timeout=IO_TIMEOUT_S)
    if uri.scheme == "cups":
        from escpos.printer import LP

        return LP(uri.queue)
    raise ValueError(f"no python-escpos connector for scheme {uri.scheme}")


def _map_error(uri: PrinterUri, error: BaseException) -> PrinterError:
    """Turn an error raised while talking to the printer into a ``PrinterError``."""
    if isinstance(error, PrinterError):
        return error
    from escpos.exceptions import DeviceNotFoundError

    if isinstance(error, socket.timeout | TimeoutError):
        return PrinterError(
            f"printer timed out: {uri.description} did not respond within"
            f" {IO_TIMEOUT_S:g} s; check it, then reprint",
            "timeout",
        )
    if isinstance(error, ConnectionResetError | BrokenPipeError):
        return PrinterError(
            f"printer connection reset: {uri.description} closed the connection"
            " during the job, which did not print completely; reprint it",
            "reset",
        )
    if isinstance(error, DeviceNotFoundError):
        return _offline(uri, "cannot be opened")
    if type(error).__name__ == "NoBackendError":
        # pyusb found no libusb library on this machine, so no USB printer opens.
        return PrinterError(
            f"USB printing needs libusb, which is not installed: install it (Debian:"
            f" apt-get install libusb-1.0-0), then reprint; printer {uri.description}",
            "error",
        )
    usb_errno = _usb_errno(error)
    if usb_errno == errno.EBUSY:
        return PrinterError(
            f"printer busy: {uri.description} is in use by another program;"
            " the job will be retried",
            "busy",
            retry_soon=True,
        )
    if usb_errno is not None:
        return _offline(uri, f"stopped answering ({error})")
    if isinstance(error, FileNotFoundError) and uri.scheme == "cups":
        return PrinterError(
            "CUPS is not installed: the lp and lpstat commands are missing; install"
            " the cups-client package or use another printer URI",
            "error",
        )
    if isinstance(error, OSError):
        return _offline(uri, f"failed ({error.strerror or error})")
    return PrinterError(f"printer error on {uri.description}: {error!r}", "error")


def _usb_errno(error: BaseException) -> int | None:
    try:
        import usb.core
    except ImportError:
        return None
    if isinstance(error, usb.core.USBError):
        return error.errno if error.errno is not None else errno.EIO
    return None


def _read_status(printer: Any, uri: PrinterUri, query: bytes) -> int:
    printer._raw(query)
    answer = printer._read()
    if not answer:
        raise PrinterError(
            f"printer connection reset: {uri.description} closed the connection"
            " without answering; reprint the job",
            "reset",
        )
    return answer[-1]


def _check_paper(printer: Any, uri: PrinterUri) -> None:
    status = _read_status(printer, uri, DLE_EOT_PAPER)
    if status & _PAPER_END_BITS == _PAPER_END_BITS:
        raise PrinterError(
            f"printer out of paper: load a new roll into {uri.description}, then"
            " reprint",
            "paper",
        )
    if status & _PAPER_NEAR_END_BITS == _PAPER_NEAR_END_BITS:
        logger.warning("printer %s: paper roll near its end", uri.description)


def _check_online(printer: Any, uri: PrinterUri) -> None:
    status = _read_status(printer, uri, DLE_EOT_PRINTER)
    if status & _OFFLINE_BIT:
        raise PrinterError(
            f"printer offline: {uri.description} reports it is offline (cover open"
            " or paper out); fix it, then reprint",
            "offline",
        )


def _send_to_connector(uri: PrinterUri, data: bytes) -> None:
    printer = _connector(uri)
    try:
        printer.open()
        if uri.scheme == "tcp" and uri.status_query:
            _check_paper(printer, uri)
        printer._raw(data)
        if uri.scheme == "tcp" and uri.status_query:
            _check_online(printer, uri)
    except Exception as error:  # every connector error maps to PrinterError
        raise _map_error(uri, error) from error
    finally:
        try:
            printer.close()
        except Exception:  # the device may be gone already
            logger.debug("closing printer %s failed", uri.description, exc_info=True)


def _write_file(uri: PrinterUri, data: bytes, job: JobFile, preview: str) -> Path:
    path = Path(uri.path)
    try:
        if uri.path.endswith("/") or path.is_dir():
            path.mkdir(parents=True, exist_ok=True)
            stem = f"job-{job.job_id:06d}-{job.kind}"
            _write_atomically(path / f"{stem}.txt", preview.encode("utf-8"))
            target = path / f"{stem}.escpos"
            _write_atomically(target, data)
            return target
        if path.exists() and stat.S_ISCHR(path.stat().st_mode):
            with open(path, "wb") as device:
                device.write(data)
            return path
        with open(path, "ab") as handle:
            handle.write(data)
        return path
    except OSError as error:
        raise PrinterError(
            f"cannot write receipts to {uri.path}: {error.strerror or error}; check"
            " the folder exists and is writable, or set another printer URI",
            "offline",
        ) from error


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".job-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def send_job(
    settings: PrinterSettings, data: bytes, job: JobFile, preview: str = ""
) -> str:
    """Send one job's bytes to the configured printer.

    Args:
        settings: the checked printer settings.
        data: the ESC/POS bytes.
        job: the job's id and kind, naming its file when printing to a folder.
        preview: the job as plain text, written beside it when printing to a
            folder.

    Returns:
        Where the job went, for the log.

    Raises:
        PrinterError: the printer is not configured, offline, busy, out of
            paper, timed out or reset the connection.
    """
    uri = settings.uri
    if uri.scheme == "none":
        raise PrinterError(
            "no printer configured: set one with posloyalty printer set URI",
            "not_configured",
        )
    if uri.scheme == "file":
        return str(_write_file(uri, data, job, preview))
    _send_to_connector(uri, data)
    return uri.description

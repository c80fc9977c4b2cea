"""Printer URIs typed wrong, and a printer that accepts a connection but never reads."""

from __future__ import annotations

import socket
import time

import pytest

from posloyalty.services import print_jobs, sales


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        pytest.param("tcp://", "the host is missing", id="no-host"),
        pytest.param(
            "tcp://host:99999", "the port 99999 is not between 1 and 65535", id="high"
        ),
        pytest.param(
            "tcp://127.0.0.1:0", "the port 0 is not between 1 and 65535", id="zero"
        ),
        pytest.param("tcp://host:abc", "the port 'abc' is not a number", id="word"),
        pytest.param("tcp://host:", "the port '' is not a number", id="empty-port"),
        pytest.param("tcp://host:²", "the port '²' is not a number", id="superscript"),
        pytest.param("tcp://[::1", "Invalid IPv6 URL", id="open-bracket"),
        pytest.param("usb://zz:zz", "hex VID:PID", id="usb-letters"),
        pytest.param(
            "serial:///dev/ttyUSB0?baudrate=²", "baudrate '²'", id="baud-superscript"
        ),
        pytest.param("", "unknown scheme", id="empty"),
    ],
)
def test_printer_set_rejects_uri(cli, open_till, uri, message):
    result = cli("printer", "set", uri)

    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with open_till() as ctx:
        assert "printer_uri" not in ctx.settings.values


@pytest.mark.parametrize(
    ("uri", "host", "port"),
    [
        pytest.param("tcp://printer", "printer", 9100, id="default-port"),
        pytest.param("tcp://printer:9101", "printer", 9101, id="port"),
        pytest.param("tcp://[::1]", "::1", 9100, id="ipv6"),
        pytest.param("tcp://[::1]:65535", "::1", 65535, id="ipv6-port"),
    ],
)
def test_printer_uri_reads_host_and_port(uri, host, port):
    from posloyalty.printing.settings import parse_printer_uri

    parsed = parse_printer_uri(uri)

    assert parsed.host == host
    assert parsed.port == port


@pytest.fixture
def deaf_printer():
    """Return the port of a listener on 127.0.0.1 that never reads a byte."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    # The kernel completes the handshake from the listen backlog, so nothing
    # needs to accept: the printer side never reads a byte.
    yield server.getsockname()[1]
    server.close()


def test_deaf_printer_fails_job_keeps_sale(
    cli, open_till, deaf_printer, fast_printer_timeouts
):
    port = deaf_printer
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    assert cli("printer", "set", f"tcp://127.0.0.1:{port}").exit_code == 0
    card = cli("member", "add", "--name", "Ann Lee", "--phone", "07700 900123")

    started = time.monotonic()
    result = cli(
        "sale", "--member", card.stdout.strip(), "--amount", "12.00", "--print"
    )
    elapsed = time.monotonic() - started

    assert result.exit_code == 0
    assert "receipt not printed" in result.stderr
    assert "timed out" in result.stderr
    assert elapsed < 30
    sale_id = result.stdout.split()[0].removeprefix("sale_id=")
    with open_till() as ctx:
        assert sales.get_sale(ctx, sale_id).amount_minor == 1200
        assert print_jobs.count_jobs(ctx, "failed") == 1
        assert print_jobs.count_jobs(ctx, "printed") == 0
    assert cli("verify").exit_code == 0

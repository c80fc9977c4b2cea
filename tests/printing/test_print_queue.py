"""The print queue: failures never lose a sale, jobs retry, devices reopen."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest

from posloyalty.printing.queue import PrintWorker
from posloyalty.services import print_jobs, receipts, sales
from posloyalty.services.members import NewMember, enrol_member
from posloyalty.services.sales import SaleRequest


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _sale_cli(cli, printer_uri: str) -> tuple[str, object]:
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    assert cli("printer", "set", printer_uri, "--profile", "TM-T88V").exit_code == 0
    card = cli("member", "add", "--name", "Ann Lee", "--phone", "07700 900123").stdout
    result = cli("sale", "--member", card.strip(), "--amount", "30.00", "--print")
    sale_id = result.stdout.split()[0].removeprefix("sale_id=")
    return sale_id, result


def _member(ctx, name: str = "Ann Lee") -> str:
    return enrol_member(ctx, NewMember(name, phone="07700 900125")).id


def _configure(ctx, uri: str, profile: str = "TM-T88V") -> None:
    import posloyalty.printing.settings  # noqa: F401 registers the printer keys

    ctx.update_settings({"printer_uri": uri, "printer_profile": profile})


def test_reset_mid_job_keeps_sale_and_fails_job(cli, network_printer, open_till):
    network_printer.reset_after_lines = 2

    sale_id, result = _sale_cli(cli, network_printer.uri)

    assert result.exit_code == 0
    assert result.stdout.startswith("sale_id=")
    assert "receipt not printed: printer connection reset" in result.stderr
    with open_till() as ctx:
        sale = sales.get_sale(ctx, sale_id)
        assert sale.points_earned == 30
        job = print_jobs.list_jobs(ctx)[0]
        assert job.status == print_jobs.FAILED
        assert job.sale_id == sale_id
        assert "connection reset" in job.last_error
        status = receipts.printer_status(ctx)
        assert status.state == "failed"
        assert [failed.id for failed in status.failed_jobs] == [job.id]


def test_failed_receipt_reprints_from_sale(cli, network_printer, open_till):
    network_printer.reset_after_lines = 2
    sale_id, _ = _sale_cli(cli, network_printer.uri)
    network_printer.reset_after_lines = None

    result = cli("receipt", "reprint", sale_id)

    assert result.exit_code == 0, result.stderr
    assert "receipt printed" in result.stderr
    assert b"Ann Lee" in network_printer.jobs[-1]
    with open_till() as ctx:
        jobs = print_jobs.list_jobs(ctx)
        assert len(jobs) == 1
        assert jobs[0].status == print_jobs.PRINTED
        assert receipts.printer_status(ctx).failed_jobs == []


def test_printed_receipt_reprints_as_copy(cli, network_printer):
    sale_id, _ = _sale_cli(cli, network_printer.uri)

    result = cli("receipt", "reprint", sale_id)

    assert result.exit_code == 0
    assert b"COPY" not in network_printer.jobs[0]
    assert b"COPY" in network_printer.jobs[-1]


def test_silent_printer_times_out_and_sale_stays(
    cli, network_printer, fast_printer_timeouts, open_till
):
    network_printer.silent = True

    sale_id, result = _sale_cli(cli, network_printer.uri)

    assert result.exit_code == 0
    assert "printer timed out" in result.stderr
    with open_till() as ctx:
        assert sales.get_sale(ctx, sale_id).amount_minor == 3000


def test_offline_printer_fails_with_reason(cli, open_till):
    sale_id, result = _sale_cli(cli, f"tcp://127.0.0.1:{_closed_port()}")

    assert result.exit_code == 0
    assert "printer offline: 127.0.0.1:" in result.stderr
    status = cli("printer", "status")
    assert "state=failed" in status.stdout
    assert f"receipt {sale_id}: printer offline" in status.stdout


def test_paper_out_is_reported_before_sending(cli, network_printer):
    network_printer.paper_status = 0x72

    _, result = _sale_cli(cli, network_printer.uri)

    assert result.exit_code == 0
    assert "printer out of paper" in result.stderr
    assert b"Ann Lee" not in network_printer.received


def test_sale_without_print_queues_nothing(cli, open_till):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    card = cli("member", "add", "--name", "Ann", "--phone", "07700 900123").stdout

    assert cli("sale", "--member", card.strip(), "--amount", "5.00").exit_code == 0

    with open_till() as ctx:
        assert print_jobs.list_jobs(ctx) == []


def test_worker_prints_after_commit_off_the_caller_thread(till, network_printer):
    _configure(till, network_printer.uri)
    member_id = _member(till)
    statuses = []
    worker = PrintWorker(till, on_status=statuses.append, poll_interval_s=0.1)
    worker.start()
    try:
        result = sales.record_sale(
            till, SaleRequest(member_id, 1250, print_receipt=True)
        )
        worker.wake()
        job = receipts.wait_for_job(till, result.print_job_id, 10)
    finally:
        worker.stop()

    assert job.status == print_jobs.PRINTED
    assert b"New balance" in network_printer.received
    assert statuses[-1].state == "ready"
    assert worker.status == statuses[-1]
    assert not worker.is_running


def test_wake_prints_before_the_next_poll(till, network_printer):
    _configure(till, network_printer.uri)
    member_id = _member(till)
    worker = PrintWorker(till, poll_interval_s=60)
    worker.start()
    try:
        time.sleep(0.2)  # the worker is now waiting for its next poll
        result = sales.record_sale(
            till, SaleRequest(member_id, 100, print_receipt=True)
        )
        started = time.monotonic()
        worker.wake()
        job = receipts.wait_for_job(till, result.print_job_id, 5)
        elapsed = time.monotonic() - started
    finally:
        worker.stop()

    assert job.status == print_jobs.PRINTED
    assert elapsed < 5


def test_failure_is_retried_with_backoff(clocked_till, clock, network_printer):
    ctx = clocked_till
    port = _closed_port()
    _configure(ctx, f"tcp://127.0.0.1:{port}")
    result = sales.record_sale(ctx, SaleRequest(_member(ctx), 1000, print_receipt=True))
    worker = PrintWorker(ctx)

    assert worker.run_once(ctx) is True
    failed = print_jobs.get_print_job(ctx, result.print_job_id)
    assert failed.status == print_jobs.FAILED
    assert failed.next_attempt_at == clock() + timedelta(seconds=2)
    assert worker.run_once(ctx) is False  # not due yet

    _configure(ctx, network_printer.uri)
    clock.advance(seconds=2)
    assert worker.run_once(ctx) is True

    job = print_jobs.get_print_job(ctx, result.print_job_id)
    assert job.status == print_jobs.PRINTED
    assert job.attempts == 2


def test_retries_stop_after_max_attempts(clocked_till, clock):
    ctx = clocked_till
    _configure(ctx, f"tcp://127.0.0.1:{_closed_port()}")
    result = sales.record_sale(ctx, SaleRequest(_member(ctx), 1000, print_receipt=True))
    worker = PrintWorker(ctx)
    delays = []

    for _ in range(print_jobs.MAX_ATTEMPTS):
        clock.advance(seconds=60)
        assert worker.run_once(ctx) is True
        job = print_jobs.get_print_job(ctx, result.print_job_id)
        if job.next_attempt_at is not None:
            delays.append((job.next_attempt_at - clock()).total_seconds())

    assert delays == [2, 5, 15, 30]
    assert job.status == print_jobs.FAILED
    assert job.is_finished
    clock.advance(seconds=3600)
    assert worker.run_once(ctx) is False


def test_interrupted_job_is_marked_failed_not_reprinted(clocked_till, clock):
    ctx = clocked_till
    _configure(ctx, "none")
    result = sales.record_sale(ctx, SaleRequest(_member(ctx), 1000, print_receipt=True))
    print_jobs.claim_next_job(ctx)
    clock.advance(seconds=print_jobs.INTERRUPTED_AFTER_S + 1)

    assert print_jobs.recover_interrupted_jobs(ctx) == 1

    job = print_jobs.get_print_job(ctx, result.print_job_id)
    assert job.status == print_jobs.FAILED
    assert job.last_error == print_jobs.INTERRUPTED
    assert job.next_attempt_at is None


def test_no_printer_keeps_jobs_queued(till):
    _configure(till, "none")
    result = sales.record_sale(
        till, SaleRequest(_member(till), 1000, print_receipt=True)
    )

    assert PrintWorker(till).run_once(till) is False

    assert print_jobs.get_print_job(till, result.print_job_id).status == "queued"
    status = receipts.printer_status(till)
    assert status.state == "not_configured"
    assert status.queued == 1


def test_default_printer_writes_receipt_files(till):
    result = sales.record_sale(
        till, SaleRequest(_member(till, "Jürgen Weiß"), 999, print_receipt=True)
    )

    assert PrintWorker(till).run_once(till) is True

    folder = till.data_dir / "receipts"
    preview = (folder / f"job-{result.print_job_id:06d}-receipt.txt").read_text()
    assert "Jürgen Weiß" in preview
    assert "Points earned" in preview
    data = (folder / f"job-{result.print_job_id:06d}-receipt.escpos").read_bytes()
    assert data.startswith(b"\x1b@\x1bt")


def test_usb_printer_unplugged_then_back(till, usb_printer):
    _configure(till, "usb://04b8:0202")
    member_id = _member(till)
    worker = PrintWorker(till)

    first = sales.record_sale(till, SaleRequest(member_id, 100, print_receipt=True))
    assert worker.run_once(till)
    assert print_jobs.get_print_job(till, first.print_job_id).status == "printed"
    assert b"Ann Lee" in usb_printer.written

    usb_printer.plugged_in = False
    second = sales.record_sale(till, SaleRequest(member_id, 200, print_receipt=True))
    assert worker.run_once(till)
    failed = print_jobs.get_print_job(till, second.print_job_id)
    assert failed.status == "failed"
    assert failed.last_error.startswith("printer offline: USB 04b8:0202")

    usb_printer.plugged_in = True
    usb_printer.written.clear()
    third = sales.record_sale(till, SaleRequest(member_id, 300, print_receipt=True))
    assert worker.run_once(till)
    assert print_jobs.get_print_job(till, third.print_job_id).status == "printed"
    assert b"3.00 GBP" in usb_printer.written


def test_usb_printer_power_cycled_during_job(till, usb_printer):
    _configure(till, "usb://04b8:0202")
    # Found when opened, gone when the job's bytes are written.
    usb_printer.unplug_after_writes = 0
    member_id = _member(till)
    worker = PrintWorker(till)
    result = sales.record_sale(till, SaleRequest(member_id, 100, print_receipt=True))

    assert worker.run_once(till)

    job = print_jobs.get_print_job(till, result.print_job_id)
    assert job.status == "failed"
    assert "printer offline" in job.last_error
    assert usb_printer.written == b""

    usb_printer.unplug_after_writes = None
    usb_printer.plugged_in = True
    receipts.reprint(till, result.sale_id)
    assert worker.run_once(till)
    assert print_jobs.get_print_job(till, result.print_job_id).status == "printed"
    assert b"1.00 GBP" in usb_printer.written


def test_usb_busy_is_retried_soon(clocked_till, clock, usb_printer):
    ctx = clocked_till
    _configure(ctx, "usb://04b8:0202")
    usb_printer.busy = True
    result = sales.record_sale(ctx, SaleRequest(_member(ctx), 100, print_receipt=True))
    worker = PrintWorker(ctx)

    assert worker.run_once(ctx)
    job = print_jobs.get_print_job(ctx, result.print_job_id)
    assert job.status == "failed"
    assert job.last_error.startswith("printer busy")
    assert job.next_attempt_at == clock() + timedelta(
        seconds=print_jobs.BUSY_RETRY_DELAY_S
    )

    usb_printer.busy = False
    clock.advance(seconds=print_jobs.BUSY_RETRY_DELAY_S)
    assert worker.run_once(ctx)
    assert print_jobs.get_print_job(ctx, result.print_job_id).status == "printed"


def test_invalid_setting_at_start_names_it(till, network_printer):
    till.db.execute_sql(
        "INSERT OR REPLACE INTO setting (key, value) VALUES ('printer_profile', ?)",
        ("TM-T99",),
    )
    result = sales.record_sale(
        till, SaleRequest(_member(till), 100, print_receipt=True)
    )
    statuses = []
    worker = PrintWorker(till, on_status=statuses.append)

    assert worker.run_once(till) is False
    worker._publish(till)

    assert statuses[-1].state == "invalid_settings"
    assert "unknown printer profile 'TM-T99'" in statuses[-1].message
    assert print_jobs.get_print_job(till, result.print_job_id).status == "queued"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["ftp://printer"], "unknown scheme 'ftp'", id="scheme"),
        pytest.param(["tcp://:9100"], "the host is missing", id="host"),
        pytest.param(["usb://printer"], "hex VID:PID", id="usb"),
        pytest.param(["serial:///dev/ttyS0?baudrate=x"], "baudrate", id="baud"),
        pytest.param(["none", "--profile", "TM-T99"], "'TM-T99'", id="profile"),
        pytest.param(["none", "--width", "76"], "use 58 or 80", id="width"),
    ],
)
def test_printer_set_rejects_invalid_values(cli, open_till, args, message):
    result = cli("printer", "set", *args)

    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with open_till() as ctx:
        assert "printer_uri" not in ctx.settings.values


def test_worker_thread_does_not_hold_caller(till, fast_printer_timeouts):
    _configure(till, f"tcp://127.0.0.1:{_closed_port()}")
    member_id = _member(till)
    worker = PrintWorker(till, poll_interval_s=0.05)
    worker.start()
    try:
        started = time.monotonic()
        job_ids = []
        for amount in (100, 200, 300):
            request = SaleRequest(member_id, amount, print_receipt=True)
            job_ids.append(sales.record_sale(till, request).print_job_id)
            worker.wake()
        elapsed = time.monotonic() - started
        jobs = [receipts.wait_for_job(till, job_id, 10) for job_id in job_ids]
    finally:
        worker.stop()

    assert elapsed < 1.0
    assert [job.status for job in jobs] == ["failed"] * 3
    assert all(job.last_error.startswith("printer offline") for job in jobs)


def test_day_slip_prints_to_file(till):
    from posloyalty.services import reports

    _member(till, "Jürgen Weiß")
    report = reports.day_report(till, till.now().date())
    job_id = reports.queue_day_slip(till, report)

    assert PrintWorker(till).run_once(till) is True

    assert print_jobs.get_print_job(till, job_id).status == print_jobs.PRINTED
    folder = till.data_dir / "receipts"
    preview = (folder / f"job-{job_id:06d}-slip.txt").read_text()
    assert f"End of day {report.day.isoformat()}" in preview
    assert "members enrolled" in preview


def test_usb_without_libusb_names_the_package(till, monkeypatch):
    import usb.core

    def no_backend(**_match):
        raise usb.core.NoBackendError("No backend available")

    monkeypatch.setattr(usb.core, "find", no_backend)
    _configure(till, "usb://04b8:0202")
    result = sales.record_sale(
        till, SaleRequest(_member(till), 1000, print_receipt=True)
    )

    assert PrintWorker(till).run_once(till) is True

    job = print_jobs.get_print_job(till, result.print_job_id)
    assert job.status == print_jobs.FAILED
    assert "needs libusb" in job.last_error
    assert "apt-get install libusb-1.0-0" in job.last_error

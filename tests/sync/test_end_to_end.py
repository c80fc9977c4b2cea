"""Tills as separate processes syncing through a faulty proxy with a real server.

Each test ends with every entry stored once at the head office, every till
holding the same entries and balances, and ``verify`` green everywhere.
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_helpers import (
    SCRIPTS,
    FaultProxy,
    ServerProcess,
    check,
    postgres_database,
    postgres_rows,
    run,
    till_entries,
)

pytestmark = pytest.mark.slow


class Till:
    """One till: the ``posloyalty`` command with its own data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return run("posloyalty", "--data-dir", str(self.data_dir), *args)

    def ok(self, *args: str) -> str:
        return check("posloyalty", "--data-dir", str(self.data_dir), *args)

    def sync_fails(self, message: str) -> None:
        result = self.run("sync")
        assert result.returncode == 1, result.stdout + result.stderr
        assert message in result.stderr
        assert "Traceback" not in result.stderr

    def enrol(self, name: str, phone: str) -> str:
        return self.ok("member", "add", "--name", name, "--phone", phone).strip()

    def balances(self) -> dict[str, int]:
        rows = csv.DictReader(io.StringIO(self.ok("export", "balances")))
        return {row["member_id"]: int(row["balance"]) for row in rows}


@pytest.fixture
def office(tmp_path) -> Iterator[tuple[ServerProcess, FaultProxy]]:
    with postgres_database() as database:
        server = ServerProcess(database, tmp_path)
        server.start()
        proxy = FaultProxy(server.port)
        try:
            yield server, proxy
        finally:
            proxy.close()
            server.stop()


def new_till(tmp_path, office, store: str, name: str) -> Till:
    server, proxy = office
    token = server.add_till(store, name)
    till = Till(tmp_path / f"{store}-{name}")
    till.ok("init", "--region", "GB", "--currency", "GBP", "--locale", "en_GB",
            "--store", store, "--till", name)  # fmt: skip
    out = till.ok("config", "set", "server", proxy.url, "--token", token)
    assert token not in out
    return till


def server_balances(server: ServerProcess) -> dict[str, int]:
    rows = csv.DictReader(io.StringIO(server.command("export", "balances")))
    return {row["member_id"]: int(row["balance"]) for row in rows}


def assert_consistent(server: ServerProcess, tills: list[Till]) -> None:
    """Sync every till twice, then compare entries and balances everywhere."""
    for _ in range(2):
        for till in tills:
            till.ok("sync")
    ids = [
        row[0] for row in postgres_rows(server.database, "SELECT id FROM ledger_entry")
    ]
    assert len(ids) == len(set(ids))
    for till in tills:
        entries = till_entries(till.data_dir)
        assert sorted(row[0] for row in entries) == sorted(ids)
        assert "ok:" in till.ok("verify")
        assert till.ok("sync", "--status").count("waiting=0") == 1
        assert till.balances() == server_balances(server)
    assert "ok:" in server.command("verify")


def test_dropped_reply_after_store_counts_once(tmp_path, office):
    server, proxy = office
    leeds = new_till(tmp_path, office, "Leeds", "Front")
    card = leeds.enrol("Ann Lee", "07700 900123")
    leeds.ok("sale", "--member", card, "--amount", "10.00")
    leeds.ok("sale", "--member", card, "--amount", "20.00")
    leeds.ok("redeem", "--member", card, "--points", "5")

    proxy.fault("/v1/push", "drop")
    leeds.sync_fails("cannot reach head office")
    assert len(postgres_rows(server.database, "SELECT id FROM ledger_entry")) == 3
    assert "waiting=0" not in leeds.ok("sync", "--status")

    leeds.ok("sync")
    assert list(server_balances(server).values()) == [25]
    assert_consistent(server, [leeds])


def test_timeout_after_store_counts_once(tmp_path, office):
    server, proxy = office
    leeds = new_till(tmp_path, office, "Leeds", "Front")
    leeds.ok("config", "set", "sync_timeout_seconds", "1")
    card = leeds.enrol("Ann Lee", "07700 900123")
    leeds.ok("sale", "--member", card, "--amount", "25.00")

    proxy.delay = 3
    proxy.fault("/v1/push", "delay")
    leeds.sync_fails("did not answer within 1 s")
    leeds.ok("sync")
    assert list(server_balances(server).values()) == [25]
    assert_consistent(server, [leeds])


def test_server_restart_mid_sync(tmp_path, office):
    server, proxy = office
    leeds = new_till(tmp_path, office, "Leeds", "Front")
    leeds.ok("config", "set", "sync_batch_size", "2")
    card = leeds.enrol("Ann Lee", "07700 900123")
    for amount in ("1.00", "2.00", "3.00", "4.00", "5.00", "6.00"):
        leeds.ok("sale", "--member", card, "--amount", amount)

    proxy.fault("/v1/push", "drop", on_reply=server.kill)
    leeds.sync_fails("cannot reach head office")
    stored = postgres_rows(server.database, "SELECT COUNT(*) FROM ledger_entry")
    assert stored[0][0] < 6

    server.start()
    leeds.ok("sync")
    assert list(server_balances(server).values()) == [21]
    assert_consistent(server, [leeds])


def test_same_batch_twice_counts_once(tmp_path, office):
    server, proxy = office
    leeds = new_till(tmp_path, office, "Leeds", "Front")
    card = leeds.enrol("Ann Lee", "07700 900123")
    leeds.ok("sale", "--member", card, "--amount", "30.00")

    proxy.fault("/v1/push", "replay")
    leeds.ok("sync")
    assert sum(line.startswith("POST /v1/push") for line in proxy.requests) == 1
    assert list(server_balances(server).values()) == [30]
    assert_consistent(server, [leeds])


def test_two_tills_at_once_and_an_overdraft(tmp_path, office):
    server, proxy = office
    leeds = new_till(tmp_path, office, "Leeds", "Front")
    york = new_till(tmp_path, office, "York", "Back")
    shared = leeds.enrol("Ann Lee", "07700 900123")
    leeds.ok("sale", "--member", shared, "--amount", "100.00")
    leeds.ok("sync")
    york.ok("sync")
    for index in range(3):
        card = leeds.enrol(f"Leeds {index}", f"07700 90020{index}")
        leeds.ok("sale", "--member", card, "--amount", f"{index + 1}0.00")
        card = york.enrol(f"York {index}", f"07700 90030{index}")
        york.ok("sale", "--member", card, "--amount", f"{index + 2}0.00")
    # Both tills are offline and accept the same 80 points.
    leeds.ok("redeem", "--member", shared, "--points", "80")
    york.ok("redeem", "--member", shared, "--points", "80")

    syncs = [
        subprocess.Popen(
            [str(SCRIPTS / "posloyalty"), "--data-dir", str(till.data_dir), "sync"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for till in (leeds, york)
    ]  # fmt: skip
    for process in syncs:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, out + err

    report = server.command("report", "below-zero")
    assert "-60" in report
    assert assert_consistent(server, [leeds, york]) is None
    assert sorted(leeds.balances().values()) == [-60, 10, 20, 20, 30, 30, 40]


def test_till_offline_for_days_catches_up(tmp_path, office):
    server, proxy = office
    leeds = new_till(tmp_path, office, "Leeds", "Front")
    york = new_till(tmp_path, office, "York", "Back")
    york.ok("config", "set", "sync_batch_size", "4")
    york_card = york.enrol("Offline Olly", "07700 900999")

    proxy.fault("/v1/", "refuse", times=3)
    for day in range(3):
        york.ok("sale", "--member", york_card, "--amount", f"{day + 1}.00")
        york.sync_fails("cannot reach head office")
    status = york.ok("sync", "--status")
    assert "waiting=0" not in status
    assert "last_error=cannot reach head office" in status

    for index in range(5):
        card = leeds.enrol(f"Member {index}", f"07700 90010{index}")
        for amount in ("5.00", "7.00"):
            leeds.ok("sale", "--member", card, "--amount", amount)
    leeds.ok("sync")

    out = york.ok("sync")
    assert "received=10" in out
    assert "last_error" not in york.ok("sync", "--status")
    assert_consistent(server, [leeds, york])


def test_revoked_till_gets_a_clear_message(tmp_path, office):
    server, proxy = office
    leeds = new_till(tmp_path, office, "Leeds", "Front")
    leeds.ok("sync")
    server.command("revoke-till", "--store", "Leeds", "--till", "Front")
    leeds.sync_fails("till token rejected: the till was revoked")


JOURNAL = Path(__file__).resolve().parents[1] / "data" / "online_retail_2010-12.csv"
EXCLUDED = "POST,DOT,M,AMAZONFEE,C2,D,BANK CHARGES,S,CRUK,PADS"
IMPORT_ARGS = (
    "--map",
    "invoice=InvoiceNo,sku=StockCode,quantity=Quantity,unit_price=UnitPrice,"
    "member=CustomerID,time=InvoiceDate",
    "--time-format",
    "%m/%d/%y %H:%M",
    "--enroll-unknown",
)


def split_journal(folder: Path, parts: int) -> list[Path]:
    """Cut the journal into ``parts`` files at invoice boundaries."""
    with JOURNAL.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    cuts = [len(body) * n // parts for n in range(1, parts)]
    for index, cut in enumerate(cuts):
        while cut < len(body) and body[cut][0] == body[cut - 1][0]:
            cut += 1
        cuts[index] = cut
    bounds = [0, *cuts, len(body)]
    paths = []
    for index in range(parts):
        path = folder / f"part-{index}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(body[bounds[index] : bounds[index + 1]])
        paths.append(path)
    return paths


def balances_by_customer(till: Till) -> dict[str, int]:
    rows = csv.DictReader(io.StringIO(till.ok("export", "balances")))
    return {row["external_id"]: int(row["balance"]) for row in rows}


def test_three_tills_match_one_till_on_the_journal(tmp_path, office):
    server, _proxy = office
    single = Till(tmp_path / "single")
    single.ok("init", "--region", "GB", "--currency", "GBP")
    single.ok("rules", "set", "--earn-rate", "1", "--exclude-sku", EXCLUDED)
    single.ok("import", "sales", str(JOURNAL), *IMPORT_ARGS)
    expected = balances_by_customer(single)
    assert len(expected) == 713

    server.command("rules", "set", "--earn-rate", "1", "--exclude-sku", EXCLUDED)
    parts = split_journal(tmp_path, 3)
    tills = [new_till(tmp_path, office, "Shop", f"Till {n}") for n in range(3)]
    for till, part in zip(tills, parts, strict=True):
        till.ok("sync")  # takes the head office's rules and the members so far
        till.ok("import", "sales", str(part), *IMPORT_ARGS)
        till.ok("sync")

    assert_consistent(server, tills)
    for till in tills:
        assert balances_by_customer(till) == expected
    exported = csv.DictReader(io.StringIO(server.command("export", "balances")))
    assert {row["external_id"]: int(row["balance"]) for row in exported} == expected

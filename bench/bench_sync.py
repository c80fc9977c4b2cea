"""Sync push: 100,000 entries from a till's outbox to PostgreSQL through the server.

``sync_push`` times ``posloyalty.sync.client.run_sync`` of a till whose outbox
contains 1,000 members and 100,000 ledger entries (manual adjustments, so no
sales travel with them), against ``posloyalty-server`` on uvicorn in its own
process on 127.0.0.1 and PostgreSQL. The baseline, measured in the same run on
the same cluster, loads the same rows with a raw ``COPY`` into a staging table
and ``INSERT ... ON CONFLICT DO NOTHING`` into a table with the same columns.
``sync_push_again`` queues every entry again and syncs: the server inserts
nothing, and the ratio compares that time with the first push.

The PostgreSQL URL comes from ``POSLOYALTY_TEST_POSTGRES_URL``; without it the
benchmark starts its own cluster with ``tools/pg-throwaway.sh``.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import CACHE_DIR, percentile

ENTRIES = 100_000
MEMBERS = 1_000
ROUNDS = int(os.environ.get("BENCH_SYNC_ROUNDS", "3"))
REPO = Path(__file__).resolve().parents[1]
SCRIPTS = Path(sys.executable).parent

_TARGET_DDL = (
    "CREATE TABLE baseline_entry (id text PRIMARY KEY, member_id text, kind text,"
    " points bigint, sale_id text, store text, till text, staff text, reason text,"
    " reverses_id text, rule_version integer, created_at text, prev_hash text,"
    " chain_hash text)"
)
_STAGING_DDL = (
    "CREATE TEMP TABLE baseline_staging (id text, member_id text, kind text,"
    " points bigint, sale_id text, store text, till text, staff text, reason text,"
    " reverses_id text, rule_version integer, created_at text, prev_hash text,"
    " chain_hash text) ON COMMIT DELETE ROWS"
)


def _build_till(data_dir: Path) -> None:
    """Create (once) a till whose outbox contains the members and entries."""
    from posloyalty.services import members, sync_status  # noqa: F401
    from posloyalty.services.context import TillContext
    from posloyalty.services.ledger import append_entry
    from posloyalty.services.members import NewMember

    marker = data_dir / f"built-{ENTRIES}"
    if marker.exists():
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    ctx = TillContext(data_dir)
    ctx.update_settings({"region": "GB", "currency": "GBP", "store": "Bench",
                         "till": "Till 1"})  # fmt: skip
    with ctx.db.atomic():
        ids = [
            members.insert_member(ctx, NewMember(f"Member {n}", f"+4477009{n:05d}")).id
            for n in range(MEMBERS)
        ]
        for n in range(ENTRIES):
            append_entry(ctx, ids[n % MEMBERS], "adjust", 1 + n % 7, reason="bench")
    ctx.close()
    marker.touch()


class _Cluster:
    """The PostgreSQL server the benchmark uses, started here when none is given."""

    def __init__(self) -> None:
        self.url = os.environ.get("POSLOYALTY_TEST_POSTGRES_URL")
        self.folder: str | None = None
        if not self.url:
            self.folder = tempfile.mkdtemp(prefix="posloyalty-bench-pg.")
            # The cluster runs as the postgres user, who must enter this folder.
            os.chmod(self.folder, 0o755)
            self.url = subprocess.run(
                [str(REPO / "tools" / "pg-throwaway.sh"), "start", f"{self.folder}/c"],
                check=True, capture_output=True, text=True,
            ).stdout.strip()  # fmt: skip

    def close(self) -> None:
        if self.folder:
            subprocess.run(
                [str(REPO / "tools" / "pg-throwaway.sh"), "stop", f"{self.folder}/c"],
                check=False, capture_output=True,
            )  # fmt: skip
            shutil.rmtree(self.folder, ignore_errors=True)


def _start_server(database: str, log: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    with socket_port() as port:
        pass
    process = subprocess.Popen(
        [str(SCRIPTS / "posloyalty-server"), "--database", database,
         "--listen", f"127.0.0.1:{port}"],
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"posloyalty-server did not start; see {log}")


class socket_port:  # noqa: N801 - used as a context manager
    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def _entry_rows(data_dir: Path) -> list[tuple]:
    import sqlite3

    from posloyalty.sync.protocol import ENTRY_COLUMNS

    with sqlite3.connect(data_dir / "till.sqlite3") as db:
        return db.execute(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM ledger_entry ORDER BY rowid"
        ).fetchall()


def _time_baseline(connection, rows: list[tuple]) -> float:
    """COPY the rows into a staging table, then insert the new ones; one transaction."""
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE baseline_entry")
    connection.commit()
    start = time.perf_counter()
    with connection.cursor() as cursor:
        buffer.seek(0)
        cursor.copy_expert("COPY baseline_staging FROM STDIN WITH (FORMAT csv)", buffer)
        cursor.execute(
            "INSERT INTO baseline_entry SELECT * FROM baseline_staging"
            " ON CONFLICT DO NOTHING"
        )
    connection.commit()
    return time.perf_counter() - start


def _reset_server(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE ledger_entry, sale, card, member_profile, member, chain_claim;"
            " UPDATE change_counter SET value = 0"
        )
    connection.commit()


def run(results: dict) -> None:
    import psycopg2

    from posloyalty.services.context import TillContext
    from posloyalty.sync.client import run_sync

    source = CACHE_DIR / "sync-till"
    _build_till(source)
    rows = _entry_rows(source)
    cluster = _Cluster()
    name = f"bench_sync_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(cluster.url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    database = cluster.url.rsplit("/", 1)[0] + "/" + name
    work = Path(tempfile.mkdtemp(prefix="posloyalty-bench-sync."))
    server = None
    try:
        server, url = _start_server(database, work / "server.log")
        token = subprocess.run(
            [str(SCRIPTS / "posloyalty-server"), "--database", database, "add-till",
             "--store", "Bench", "--till", "Till 1"],
            check=True, capture_output=True, text=True,
        ).stdout.splitlines()[-1]  # fmt: skip
        connection = psycopg2.connect(database)
        with connection.cursor() as cursor:
            cursor.execute(_TARGET_DDL)
            cursor.execute(_STAGING_DDL)
        connection.commit()

        product, again, baseline = [], [], []
        for round_number in range(ROUNDS):
            _reset_server(connection)
            till_dir = work / f"till-{round_number}"
            shutil.copytree(source, till_dir)
            ctx = TillContext(till_dir)
            ctx.update_settings({"server_url": url, "server_token": token,
                                 "sync_timeout_seconds": "120"})  # fmt: skip
            start = time.perf_counter()
            report = run_sync(ctx)
            product.append(time.perf_counter() - start)
            assert report.waiting == 0, report
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM ledger_entry")
                assert cursor.fetchone()[0] == ENTRIES

            # Queue every entry again, as after a lost reply: nothing is new.
            with ctx.db.atomic():
                ctx.db.execute_sql(
                    "INSERT OR IGNORE INTO outbox_item (kind, object_id, queued_at)"
                    " SELECT 'entry', id, created_at FROM ledger_entry"
                )
            start = time.perf_counter()
            run_sync(ctx)
            again.append(time.perf_counter() - start)
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*), MAX(seq) FROM ledger_entry")
                count, top = cursor.fetchone()
            assert count == ENTRIES, count
            assert top == ENTRIES + MEMBERS, top
            ctx.close()
            shutil.rmtree(till_dir)

            baseline.append(_time_baseline(connection, rows))
        connection.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)

    median, base = statistics.median(product), statistics.median(baseline)
    results["sync_push"] = {
        "median": median, "p99": percentile(product, 0.99), "unit": "s",
        "ratio": median / base, "baseline_median": base,
        "baseline_p99": percentile(baseline, 0.99), "target": "ratio <= 3",
        "samples": len(product), "entries": ENTRIES,
    }  # fmt: skip
    median_again = statistics.median(again)
    results["sync_push_again"] = {
        "median": median_again, "p99": percentile(again, 0.99), "unit": "s",
        "ratio": median_again / median, "baseline_median": median,
        "target": "ratio <= 1 (inserts nothing)", "samples": len(again),
    }  # fmt: skip


if __name__ == "__main__":
    out: dict = {}
    run(out)
    for key, value in out.items():
        print(key, {k: round(v, 3) if isinstance(v, float) else v
                    for k, v in value.items()})  # fmt: skip

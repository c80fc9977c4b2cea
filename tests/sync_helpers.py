"""Helpers for sync tests: a PostgreSQL database per test, a real server, a faulty proxy."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

POSTGRES_ENV = "POSLOYALTY_TEST_POSTGRES_URL"
SCRIPTS = Path(sys.executable).parent


def postgres_base_url() -> str:
    """Return the throwaway cluster's URL; fail under CI and skip elsewhere without it."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    message = (
        f"{POSTGRES_ENV} is not set: run the suite with make test, which starts a"
        " throwaway PostgreSQL cluster (tools/pg-throwaway.sh)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create an empty database on the throwaway cluster and drop it afterwards."""
    import psycopg2

    base = postgres_base_url()
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a console script of this venv and return what it printed."""
    return subprocess.run(
        [str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def check(script: str, *args: str, timeout: float = 300) -> str:
    """Run a console script and return its stdout, failing the test on a non-zero exit."""
    result = run(script, *args, timeout=timeout)
    assert result.returncode == 0, (
        f"{script} {' '.join(args)} exited {result.returncode}:\n"
        f"{result.stdout}\n{result.stderr}"
    )
    return result.stdout


class ServerProcess:
    """``posloyalty-server`` on uvicorn in its own process, on 127.0.0.1."""

    def __init__(self, database: str, log_dir: Path, port: int | None = None):
        self.database = database
        self.port = port or free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"server-{self.starts}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(SCRIPTS / "posloyalty-server"), "--database", self.database,
             "--listen", f"127.0.0.1:{self.port}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server did not start:\n{self.log()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log(self) -> str:
        return "\n".join(
            path.read_text() for path in sorted(self.log_dir.glob("server-*.log"))
        )

    def command(self, *args: str) -> str:
        return check("posloyalty-server", "--database", self.database, *args)

    def add_till(self, store: str, till: str) -> str:
        return self.command("add-till", "--store", store, "--till", till).splitlines()[
            -1
        ]


def _read_message(sock: socket.socket, buffer: bytearray) -> tuple[bytes, str] | None:
    """Read one HTTP/1.1 message with a Content-Length body; None at end of stream."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer.extend(chunk)
    head_end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:head_end]).decode("latin-1")
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        if name.strip().lower() == "transfer-encoding":
            raise AssertionError("the proxy handles Content-Length bodies only")
    while len(buffer) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer.extend(chunk)
    message = bytes(buffer[: head_end + length])
    del buffer[: head_end + length]
    return message, head.split("\r\n", 1)[0]


class FaultProxy:
    """A TCP proxy on 127.0.0.1 that forwards HTTP requests and injures replies.

    ``fault(path, mode, times)`` arms a fault for requests whose path starts
    with ``path``: ``drop`` forwards the request, reads the server's reply and
    closes the till's connection without it; ``delay`` holds the reply for
    ``delay`` seconds; ``replay`` sends the request to the server twice;
    ``refuse`` closes the connection before forwarding. ``on_reply`` runs after
    the server replied to a faulted request, before the fault acts.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.delay = 0.0
        self.requests: list[str] = []
        self._faults: list[list] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fault(
        self,
        path: str,
        mode: str,
        times: int = 1,
        on_reply: Callable[[], None] | None = None,
    ) -> None:
        with self._lock:
            self._faults.append([path, mode, times, on_reply])

    def _take_fault(self, request_line: str) -> tuple[str, Callable | None] | None:
        path = request_line.split(" ")[1] if " " in request_line else ""
        with self._lock:
            self.requests.append(request_line)
            for fault in self._faults:
                if path.startswith(fault[0]) and fault[2] > 0:
                    fault[2] -= 1
                    return fault[1], fault[3]
        return None

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        client_buffer, upstream_buffer = bytearray(), bytearray()
        try:
            while True:
                request = _read_message(client, client_buffer)
                if request is None:
                    return
                message, line = request
                fault = self._take_fault(line)
                mode, on_reply = fault if fault else ("pass", None)
                if mode == "refuse":
                    return
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.target_port))
                upstream.sendall(message)
                reply = _read_message(upstream, upstream_buffer)
                if mode == "replay" and reply is not None:
                    upstream.sendall(message)
                    reply = _read_message(upstream, upstream_buffer)
                if reply is None:
                    return
                if on_reply is not None:
                    on_reply()
                if mode == "drop":
                    return
                if mode == "delay":
                    time.sleep(self.delay)
                client.sendall(reply[0])
        except OSError:
            return
        finally:
            client.close()
            if upstream is not None:
                upstream.close()


def till_entries(data_dir: Path) -> list[tuple]:
    """Return (id, member_id, points, store, till) of every entry in a till's file."""
    with sqlite3.connect(data_dir / "till.sqlite3") as db:
        return db.execute(
            "SELECT id, member_id, points, store, till FROM ledger_entry ORDER BY rowid"
        ).fetchall()


def postgres_rows(url: str, sql: str) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    connection.close()
    return rows


def open_till(data_dir: Path, clock=None):
    """Open a GB till in GBP; close the previous one first, one per process."""
    from posloyalty.services import sync_status  # noqa: F401  (adds sync settings)
    from posloyalty.services.context import TillContext

    ctx = TillContext(data_dir, clock=clock) if clock else TillContext(data_dir)
    ctx.update_settings({"region": "GB", "currency": "GBP", "locale": "en_GB"})
    return ctx


def join(ctx, office, store: str, till: str) -> str:
    """Register the till at the head office and point its settings there."""
    token = office.add_till(store, till)
    ctx.update_settings({"server_url": office.url, "server_token": token})
    return token

"""Lookups among a million members, a durable sale, the journal import, memory."""

from __future__ import annotations

import csv
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from bench.common import (
    CACHE_DIR,
    build_member_database,
    phone_for,
    summary,
    time_calls,
    time_pairs,
)

MILLION = 1_000_000
LOOKUPS = 20_000
REPO = Path(__file__).resolve().parents[1]
JOURNAL = REPO / "tests" / "data" / "online_retail_2010-12.csv"

CARD_SQL = (
    "SELECT m.id, m.name, m.phone, m.email, m.external_id, c.number, m.balance,"
    " m.consent_email, m.consent_sms, m.is_demo, c.blocked_at FROM card c"
    " JOIN member m ON m.id = c.member_id WHERE c.number = ?"
)
PHONE_SQL = (
    "SELECT m.id, m.name, m.phone, m.email, m.external_id, c.number, m.balance,"
    " m.consent_email, m.consent_sms, m.is_demo FROM member m LEFT JOIN card c"
    " ON c.member_id = m.id AND c.blocked_at IS NULL WHERE m.phone = ?"
)


def _typed_phone(index: int) -> str:
    digits = phone_for(index)[3:]  # national significant number
    return f"0{digits[:4]} {digits[4:]}"


def bench_lookups(results: dict) -> None:
    from posloyalty.services import members
    from posloyalty.services.context import TillContext

    data_dir = CACHE_DIR / "million"
    cards = build_member_database(data_dir, MILLION)
    rng = random.Random(7)
    card_sample = [rng.choice(cards) for _ in range(LOOKUPS)]
    phone_sample = [_typed_phone(rng.randrange(MILLION)) for _ in range(LOOKUPS)]

    ctx = TillContext(data_dir)
    raw = sqlite3.connect(ctx.db.database)
    import phonenumbers

    def raw_card(i: int) -> None:
        row = raw.execute(CARD_SQL, (card_sample[i],)).fetchone()
        assert row is not None

    def product_card(i: int) -> None:
        members.find_by_card(ctx, card_sample[i])

    def raw_phone(i: int) -> None:
        number = phonenumbers.parse(phone_sample[i], "GB")
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        assert raw.execute(PHONE_SQL, (e164,)).fetchall()

    def product_phone(i: int) -> None:
        assert members.find_by_phone(ctx, phone_sample[i])

    for function in (raw_card, product_card, raw_phone, product_phone):
        time_calls(function, 2000)  # warm the page cache and the import
    # Time both sides on each key in turn, the side that goes first
    # alternating: whichever runs first on a key reads its pages from disk into
    # the OS cache, and the other then finds them there.
    product_c, base_c = time_pairs(product_card, raw_card, LOOKUPS)
    product_p, base_p = time_pairs(product_phone, raw_phone, LOOKUPS)
    results["lookup_card"] = summary(product_c, base_c, "p99 ratio <= 2", use_p99=True)
    results["lookup_phone"] = summary(product_p, base_p, "p99 ratio <= 2", use_p99=True)
    raw.close()
    ctx.close()


def bench_sale_commit(results: dict) -> None:
    from posloyalty.services import sales
    from posloyalty.services.context import TillContext
    from posloyalty.services.members import NewMember, enrol_member

    count = 300
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as folder:
        ctx = TillContext(Path(folder) / "till")
        ctx.update_settings({"region": "GB", "currency": "GBP"})
        member = enrol_member(ctx, NewMember("Bench", "07700 900123"))

        def product(i: int) -> None:
            sales.record_sale(ctx, sales.SaleRequest(member.id, 1234 + i))

        raw = sqlite3.connect(Path(folder) / "raw.sqlite3", isolation_level=None)
        raw.execute("PRAGMA journal_mode = wal")
        raw.execute("PRAGMA synchronous = full")
        raw.execute("CREATE TABLE entry (id TEXT PRIMARY KEY, member TEXT, points INT,"
                    " sale TEXT, created_at TEXT, chain_hash TEXT)")  # fmt: skip
        raw.execute("CREATE TABLE balance (member TEXT PRIMARY KEY, points INT)")
        raw.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, action TEXT,"
                    " member TEXT, created_at TEXT)")  # fmt: skip
        raw.execute("INSERT INTO balance VALUES ('m', 0)")

        def baseline(i: int) -> None:
            now = datetime.now().isoformat()
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("INSERT INTO entry VALUES (?, 'm', 12, ?, ?, '')",
                        (str(uuid.uuid4()), str(uuid.uuid4()), now))  # fmt: skip
            raw.execute("UPDATE balance SET points = points + 12 WHERE member = 'm'")
            raw.execute("INSERT INTO audit (action, member, created_at) VALUES"
                        " ('sale', 'm', ?)", (now,))  # fmt: skip
            raw.execute("COMMIT")

        time_calls(product, 20)
        time_calls(baseline, 20)
        product_samples, base_samples = [], []
        for _ in range(3):
            base_samples += time_calls(baseline, count // 3)
            product_samples += time_calls(product, count // 3)
        results["sale_commit"] = summary(
            product_samples, base_samples, "median ratio <= 2"
        )
        raw.close()
        ctx.close()


def _baseline_parse() -> int:
    rows = 0
    with JOURNAL.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            Decimal(row["Quantity"]) * Decimal(row["UnitPrice"])
            datetime.strptime(row["InvoiceDate"], "%m/%d/%y %H:%M")
            rows += 1
    return rows


def bench_import(results: dict) -> None:
    from posloyalty.importing.sales import import_sales
    from posloyalty.services.context import TillContext

    mapping = ("invoice=InvoiceNo,sku=StockCode,quantity=Quantity,unit_price=UnitPrice,"
               "member=CustomerID,time=InvoiceDate")  # fmt: skip
    product, baseline = [], []
    for round_number in range(3):
        start = time.perf_counter()
        rows = _baseline_parse()
        baseline.append((time.perf_counter() - start) / rows)
        with tempfile.TemporaryDirectory(dir=CACHE_DIR) as folder:
            ctx = TillContext(Path(folder) / f"till{round_number}")
            ctx.update_settings({"region": "GB", "currency": "GBP",
                                 "excluded_skus": "POST,DOT,M,AMAZONFEE,C2,D,"
                                 "BANK CHARGES,S,CRUK,PADS"})  # fmt: skip
            start = time.perf_counter()
            report = import_sales(ctx, JOURNAL, mapping, "%m/%d/%y %H:%M", True)
            product.append((time.perf_counter() - start) / report.rows)
            ctx.close()
    entry = summary(product, baseline, "median ratio <= 3 (time per row)")
    entry["unit"] = "s/row"
    results["import_sales"] = entry


_MEMORY_CHILD = """
import json, random, sys
from pathlib import Path
from posloyalty.services import members
from posloyalty.services.context import TillContext
ctx = TillContext(Path(sys.argv[1]))
cards = Path(sys.argv[1], "sample-cards.txt").read_text().split()
rng = random.Random(3)
for _ in range(20000):
    members.find_by_card(ctx, rng.choice(cards))
    members.find_by_phone(ctx, "07" + str(rng.randrange(len(cards))).zfill(9)[:9])
# VmHWM is this process's own peak; ru_maxrss would include the parent's
# peak from before exec.
status = Path("/proc/self/status").read_text().splitlines()
print(json.dumps(int(next(l for l in status if l.startswith("VmHWM")).split()[1])))
"""


def bench_memory(results: dict) -> None:
    small = CACHE_DIR / "hundred"
    build_member_database(small, 100)
    large = CACHE_DIR / "million"
    build_member_database(large, MILLION)
    samples = {"small": [], "large": []}
    for _ in range(3):
        for key, folder in (("small", small), ("large", large)):
            output = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(folder)],
                                    capture_output=True, text=True, check=True)  # fmt: skip
            samples[key].append(json.loads(output.stdout) / 1024)
    large_mib = statistics.median(samples["large"])
    small_mib = statistics.median(samples["small"])
    results["memory_lookup"] = {
        "median": large_mib, "p99": max(samples["large"]), "unit": "MiB peak RSS",
        "ratio": large_mib / small_mib, "baseline_median": small_mib,
        "target": "ratio <= 1.10 (1,000,000 vs 100 members)",
    }  # fmt: skip


def run(results: dict) -> None:
    CACHE_DIR.mkdir(exist_ok=True)
    bench_lookups(results)
    bench_sale_commit(results)
    bench_import(results)
    bench_memory(results)

"""Timing helpers and the cached databases the benchmarks share."""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

CACHE_DIR = Path(__file__).resolve().parent / ".cache"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))
    return ordered[index]


def time_calls(function: Callable[[int], object], count: int) -> list[float]:
    """Call ``function(i)`` for i in range(count); return each call's seconds."""
    samples = []
    clock = time.perf_counter
    for i in range(count):
        start = clock()
        function(i)
        samples.append(clock() - start)
    return samples


def time_pairs(
    product: Callable[[int], object], baseline: Callable[[int], object], count: int
) -> tuple[list[float], list[float]]:
    """Time ``product(i)`` and ``baseline(i)`` for each i, alternating which goes first."""
    product_samples, baseline_samples = [], []
    clock = time.perf_counter
    for i in range(count):
        order = ((product, product_samples), (baseline, baseline_samples))
        for function, samples in order if i % 2 else reversed(order):
            start = clock()
            function(i)
            samples.append(clock() - start)
    return product_samples, baseline_samples


def summary(product: list[float], baseline: list[float], target: str,
            use_p99: bool = False) -> dict:  # fmt: skip
    """Median and p99 of the product, and its ratio to the baseline."""
    p_med, b_med = statistics.median(product), statistics.median(baseline)
    p_99, b_99 = percentile(product, 0.99), percentile(baseline, 0.99)
    ratio = (p_99 / b_99) if use_p99 else (p_med / b_med)
    return {
        "median": p_med, "p99": p_99, "unit": "s", "ratio": ratio,
        "baseline_median": b_med, "baseline_p99": b_99, "target": target,
        "samples": len(product),
    }  # fmt: skip


def phone_for(index: int) -> str:
    """A distinct, possible GB mobile number in E.164 for member ``index``."""
    return f"+447{index:09d}"


def build_member_database(data_dir: Path, count: int) -> list[str]:
    """Create (once) a till data folder with ``count`` members; return some card numbers.

    Rows are written with raw ``executemany`` so building a million members
    takes seconds; the schema and card keys are the product's own.
    """
    from posloyalty.services.context import TillContext

    marker = data_dir / f"built-{count}"
    cards_file = data_dir / "sample-cards.txt"
    if marker.exists():
        return cards_file.read_text().split()
    ctx = TillContext(data_dir)
    ctx.update_settings({"region": "GB", "currency": "GBP"})
    keyring = ctx.keyring
    db_path = Path(ctx.db.database)
    ctx.close()

    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA synchronous = OFF")
    stamp = "2025-01-01 00:00:00.000000"
    samples: list[str] = []
    issued: set[str] = set()
    batch = 50_000
    for start in range(0, count, batch):
        members, cards = [], []
        for index in range(start, min(start + batch, count)):
            member_id = str(uuid.UUID(int=index + 1, version=4))
            name = f"Member {index:07d}"
            members.append((member_id, None, phone_for(index), name, name.casefold(),
                            None, 0, 0, 0, 0, stamp, stamp, None))  # fmt: skip
            number = keyring.issue()
            while number in issued:
                number = keyring.issue()
            issued.add(number)
            cards.append((number, member_id, stamp, None))
            if index % max(count // 2000, 1) == 0:
                samples.append(number)
        raw.executemany(
            "INSERT INTO member VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", members
        )
        raw.executemany("INSERT INTO card VALUES (?,?,?,?)", cards)
        raw.commit()
    raw.execute("ANALYZE")
    raw.commit()
    raw.close()
    cards_file.write_text("\n".join(samples))
    marker.touch()
    return samples


def peak_rss_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def env_without_pythonpath() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

"""Run every ``bench/bench_*.py`` and write ``results.json`` and ``results.md``.

Each module exposes ``run(results)``, which adds entries of the form
``{"median": s, "p99": s, "unit": "s", "ratio": product / baseline, ...}``.
Ratios compare with a baseline measured in the same run, because the
machines are shared and absolute times drift with their load.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def machine_description() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def write_markdown(path: Path, machine: dict[str, str], results: dict) -> None:
    lines = ["# Benchmark results", ""]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    lines += ["", "| benchmark | median | p99 | baseline median | unit | ratio | target |",
              "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for name, entry in sorted(results.items()):
        if name == "machine":
            continue
        if "error" in entry:
            lines.append(f"| {name} | failed: {entry['error']} | | | | | |")
            continue
        baseline = entry.get("baseline_median")
        shown_baseline = f"{baseline:.6g}" if baseline is not None else ""
        lines.append(
            f"| {name} | {entry['median']:.6g} | {entry.get('p99', float('nan')):.6g}"
            f" | {shown_baseline} | {entry['unit']} | {entry['ratio']:.2f}"
            f" | {entry.get('target', '')} |"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="run only these bench modules")
    args = parser.parse_args()

    results: dict = {}
    modules = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    failed = False
    for name in modules:
        if args.only and name not in args.only:
            continue
        print(f"running {name} ...", flush=True)
        try:
            importlib.import_module(f"bench.{name}").run(results)
        except Exception as error:  # one broken benchmark must not hide the others
            traceback.print_exc()
            results[name] = {"error": f"{type(error).__name__}: {error}"}
            failed = True

    machine = machine_description()
    results_file = BENCH_DIR / "results.json"
    if args.only and results_file.exists():
        # A partial run updates its own entries and keeps the others.
        previous = json.loads(results_file.read_text())
        previous.pop("machine", None)
        for name in args.only:
            previous.pop(name, None)  # the error of an earlier failed run
        results = {**previous, **results}
    output = {"machine": machine, **results}
    results_file.write_text(json.dumps(output, indent=2) + "\n")
    write_markdown(BENCH_DIR / "results.md", machine, results)
    for name, entry in sorted(results.items()):
        if "error" in entry:
            print(f"{name}: FAILED {entry['error']}")
        else:
            print(f"{name}: median {entry['median']:.6g} {entry['unit']},"
                  f" ratio {entry['ratio']:.2f} (target {entry.get('target', '-')})")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

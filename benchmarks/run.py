"""``python -m benchmarks``: run every measure against a sandbox with injected latency, print the table,
and with ``--record`` write it, with the machine it ran on, to ``benchmarks/RESULTS.md``."""

from __future__ import annotations

import argparse
import compileall
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import measures
from benchmarks.harness import REPO, Sandbox, machine
from benchmarks.measures import Row

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
COLUMNS = ("measure", "target", "figure", "verdict")


def table(rows: Sequence[Row]) -> list[list[str]]:
    return [[r.measure, r.target, r.figure, r.verdict] for r in rows]


def print_table(rows: Sequence[Row]) -> None:
    cells = [list(COLUMNS), *table(rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    for n, row in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))
    print()
    for r in rows:
        for line in r.details:
            print(f"- {r.measure}: {line}")


def markdown(rows: Sequence[Row], about: dict[str, str], latency: float, took: float) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"`make bench` (`python -m benchmarks --record`), {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"sandbox latency {latency * 1000:g} ms per request, whole run {took:.0f} s.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | `{value}` |" for key, value in about.items()),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table(rows)),
        "",
        "Details (what the figures mean, and the floors where a target is missed: README.md, Performance):",
        "",
        *(f"- {r.measure}: {line}" for r in rows for line in r.details),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds the sandbox adds to each request"
    )
    parser.add_argument("--record", action="store_true", help=f"also write the results to {RESULTS}")
    args = parser.parse_args(argv)
    # Every provider host and import-time process would otherwise compile what changed since the last
    # compile again, from source (PYTHONDONTWRITEBYTECODE keeps Python from caching it): the figures
    # would measure the compiler. As `make bytecode` does; up-to-date files are skipped.
    for package in ("pulumi_webhooks", "benchmarks"):
        compileall.compile_dir(REPO / package, quiet=1)
    about = machine()
    started = time.perf_counter()
    print(f"sandbox latency {args.latency * 1000:g} ms; " + "; ".join(f"{k}: {v}" for k, v in about.items()))
    rows: list[Row] = []
    sandbox = Sandbox(args.latency)
    steps: list[tuple[str, Callable[[], list[Row]]]] = [
        ("40 creates against the minimal provider", lambda: measures.versus_minimal(sandbox)),
        (
            "200 resources over the four platforms: preview, up, up, preview",
            lambda: measures.mixed_stack(sandbox),
        ),
        ("100 creates on one store and a refresh", lambda: measures.one_store(sandbox)),
        (
            f"{measures.PACED_COUNT} creates with the documented limit on",
            lambda: [measures.paced_store(sandbox)],
        ),
        ("import time", lambda: [measures.import_time()]),
        ("serialized provider size", lambda: [measures.provider_size()]),
        ("memory for 1,000 resources", lambda: [measures.memory(sandbox)]),
    ]
    try:
        for n, (what, measure) in enumerate(steps, start=1):
            print(f"[{n}/{len(steps)}] {what} ({time.perf_counter() - started:.0f} s so far)", flush=True)
            found = measure()
            for row in found:
                print(f"  {row.verdict}: {row.measure}: {row.figure}", flush=True)
            rows += found
    finally:
        sandbox.close()
    took = time.perf_counter() - started
    print()
    print_table(rows)
    print(f"\n{sum(r.met for r in rows)} of {len(rows)} targets met in {took:.0f} s")
    if args.record:
        RESULTS.write_text(markdown(rows, about, args.latency, took), encoding="utf-8")
        print(f"written to {RESULTS}")
    missed = [r.measure for r in rows if not r.met]
    if missed:
        print(f"missed: {'; '.join(missed)}")
    return 1 if missed else 0

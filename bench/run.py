"""Benchmarks for the triage engine (issue #2), run by hand on the target 2-core machine:

    .venv/bin/python bench/run.py [--rows 1000000] [--workbook-rows 100000]

Reports: engine time for 1M in-memory rows; the scalar path's per-call time and the engine's speed-up
over calling it row by row; end-to-end ``acsxl triage`` of a 100k-row workbook to CSV with peak memory.
Targets: engine <= 1 s; scalar <= 0.2 ms/call; speed-up >= 50x; end to end <= 3 s and <= 1 GB."""

from __future__ import annotations

import acsxl.cli.main  # noqa: F401  first, as the command line: it sets polars' allocator options

# isort: split
import argparse
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

from acsxl.engine import triage
from acsxl.engine.scalar import triage_case
from acsxl.portfolio.columns import ENGINE_COLUMNS
from acsxl.portfolio.sample import sample_cases
from acsxl.rules.schema import HEADER_ALIASES, header_key

AS_OF = date(2026, 11, 23)
DATA = Path(__file__).resolve().parent / "data"


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.rename({c: HEADER_ALIASES[header_key(c)] for c in frame.columns})


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workbook-rows", type=int, default=100_000)
    args = parser.parse_args()

    base = canonical(sample_cases(100_000, seed=11))
    copies = -(-args.rows // base.height)
    big = pl.concat([base.with_columns(pl.col("client_id") + f"-{i}") for i in range(copies)]).head(args.rows)
    triage(big.head(1000), AS_OF, columns=ENGINE_COLUMNS)  # warm up: holiday table, catalogue
    engine_s = best_of(3, lambda: triage(big, AS_OF, columns=ENGINE_COLUMNS))  # the columns the portfolio asks for
    print(f"engine, mixed text cells (3% bad rows make balance and notice date text columns): {args.rows:,} rows "
          f"in {engine_s:.3f} s ({args.rows / engine_s:,.0f} rows/s)  target <= 1 s")
    typed = big.with_columns(  # the same rows as a typed source gives them: numbers and dates typed
        pl.col("balance").cast(pl.Float64, strict=False), pl.col("notice_date").str.to_date(strict=False))
    typed_s = best_of(3, lambda: triage(typed, AS_OF, columns=ENGINE_COLUMNS))
    print(f"engine, typed cells: {args.rows:,} rows in {typed_s:.3f} s  target <= 1 s")

    rows = base.head(10_000).to_dicts()
    triage_case(rows[0], AS_OF)
    scalar_s = best_of(3, lambda: [triage_case(r, AS_OF) for r in rows]) / len(rows)
    per_row_engine = engine_s / args.rows
    print(f"scalar: {scalar_s * 1e3:.4f} ms per call  target <= 0.2 ms")
    print(f"engine speed-up over the scalar path row by row: {scalar_s / per_row_engine:,.0f}x  target >= 50x")

    end_to_end(args.workbook_rows)


def end_to_end(rows: int) -> None:
    """`acsxl triage` as a user runs it, timed and measured from a small wrapper process (so the peak
    memory is the command's own, not this benchmark's)."""
    DATA.mkdir(exist_ok=True)
    workbook = DATA / f"cases-{rows}.xlsx"
    if not workbook.exists():
        sample_cases(rows, seed=5).write_excel(workbook, worksheet="Cases", dtype_formats={pl.Date: "yyyy-mm-dd"})
    out = DATA / "out.csv"
    cli = [sys.executable, "-m", "acsxl.cli", "triage", str(workbook), "--as-of", AS_OF.isoformat(), "--out", str(out), "-q"]
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True); wall = time.perf_counter() - t\n"
        "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    runs = [subprocess.run([sys.executable, "-c", wrapper, *cli], check=True, capture_output=True, text=True).stdout.split()
            for _ in range(3)]
    wall = min(float(r[0]) for r in runs)
    peak_mb = max(float(r[1]) for r in runs)
    print(f"end to end: {rows:,}-row workbook -> CSV in {wall:.2f} s, peak memory {peak_mb:,.0f} MB  targets <= 3 s, <= 1024 MB")


if __name__ == "__main__":
    main()

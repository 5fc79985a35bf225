"""Benchmarks for the portfolio workbook and folder runs (issue #3), run by hand:

    .venv/bin/python bench/portfolio.py [--rows 100000] [--files 200] [--big 1000000]

1. A 100k-row workbook to the formatted portfolio (``acsxl triage``), against the I/O floor measured in
   the same run, like for like two ways: both in this process (Python started, libraries imported),
   and both as new processes (each paying Python's start and its imports); in rounds that interleave
   the four, each round giving its own ratios
   (fastexcel read of the input as acsxl reads it, acsxl.io.inputs.load_sheet, + a plain, unformatted
   write of the same output table with the same writer: the header through xlsxwriter, the rows
   streamed by acsxl.xlsx.rows). Target: <= 1.3x
   the floor. For reference, the plain write through polars' write_excel (xlsxwriter cell by cell).
2. A folder of 200 client workbooks of 50 rows each to one portfolio. Target: <= 20 s.
3. 1M rows to the formatted portfolio: peak memory. Target: <= 2.5 GB."""

from __future__ import annotations

import acsxl.cli.main

# isort: split
import argparse
import compileall
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from statistics import median

import polars as pl
from floor import plain_write

from acsxl.cli import main as main_cli
from acsxl.io.inputs import load_sheet
from acsxl.io.reader import FileResult, read_cases
from acsxl.portfolio import service
from acsxl.portfolio.columns import HEADERS
from acsxl.portfolio.sample import sample_cases

AS_OF = date(2026, 11, 23)
DATA = Path(__file__).resolve().parent / "data"
WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True); wall = time.perf_counter() - t\n"
    "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
)


def measured(cli: list[str]) -> tuple[float, float]:
    wall, peak = subprocess.run([sys.executable, "-c", WRAPPER, *cli], check=True, capture_output=True, text=True).stdout.split()
    return float(wall), float(peak)


def workbook(rows: int, seed: int = 5) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"cases-{rows}.xlsx"
    if not path.exists():
        sample_cases(rows, seed=seed).write_excel(path, worksheet="Cases", dtype_formats={pl.Date: "yyyy-mm-dd"})
    return path


def cli(inputs: list[Path], out: Path) -> list[str]:
    return [sys.executable, "-m", "acsxl.cli", "triage", *map(str, inputs), "--as-of", AS_OF.isoformat(), "--out", str(out), "-q"]


def shown_table(path: Path) -> pl.DataFrame:
    """The output table as the portfolio shows it, under its headers."""
    shown = service.triage_read([(FileResult(str(path), path.name), read_cases(path))], AS_OF).shown()
    return shown.rename(lambda c: HEADERS.get(c, c))


def floor(path: Path, out: Path, through_polars: bool = False) -> float:
    """fastexcel read + plain write of the same output table with the same writer."""
    table = shown_table(path)
    started = time.perf_counter()
    pl.from_arrow(load_sheet(path, "Cases").batch)  # fastexcel, as acsxl reads (eager, types guessed from every row)
    if through_polars:
        table.write_excel(out, autofit=False, autofilter=False, table_style=None)
    else:
        plain_write(table, out)
    return time.perf_counter() - started


def floor_process(path: Path, table: Path, out: Path) -> float:
    """The floor in a new process (bench/floor.py), as `acsxl triage` runs: its wall time less the time
    it took to load the output table it writes (``table``, which the real run computes instead)."""
    started = time.perf_counter()
    loading = subprocess.run([sys.executable, str(Path(__file__).with_name("floor.py")), str(path), str(table), str(out)],
                             check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - started - float(loading)


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def in_order(ours, base, floor_first: bool) -> tuple[float, float]:
    if floor_first:
        floor_time = base()
        return ours(), floor_time
    return ours(), base()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    # Compiled as an installed package is: this machine sets PYTHONDONTWRITEBYTECODE, so each new process
    # would compile acsxl's modules from source again, a cost a user's installed copy never pays.
    compileall.compile_dir(Path(acsxl.__file__).parent, quiet=1)

    path = workbook(args.rows)
    table = DATA / "floor-table.parquet"
    shown_table(path).write_parquet(table)
    # Rounds interleave the four measurements, so the machine's drift (10-15% here) hits both sides alike.
    pairs = [(lambda: timed(lambda: main_cli(cli([path], DATA / "portfolio.xlsx")[3:])), lambda: floor(path, DATA / "plain.xlsx")),
             (lambda: measured(cli([path], DATA / "portfolio.xlsx"))[0], lambda: floor_process(path, table, DATA / "plain.xlsx"))]
    # Every other round runs the floor first, so neither side always follows the other's traces (page
    # cache being written back, memory freed late).
    rounds = [tuple(x for ours, base in pairs for x in in_order(ours, base, floor_first=i % 2 == 1)) for i in range(args.rounds)]
    print("rounds, s (formatted and floor in this process, formatted and floor as new processes):")
    for r in rounds:
        print("  " + "  ".join(f"{x:.2f}" for x in r))
    cell_by_cell = floor(path, DATA / "plain-polars.xlsx", through_polars=True)
    for name, ours, base in (("in this process", 0, 1), ("as new processes", 2, 3)):
        ratios = sorted(r[ours] / r[base] for r in rounds)
        print(f"{args.rows:,} rows -> formatted portfolio, {name}: {min(r[ours] for r in rounds):.2f} s against an I/O floor of "
              f"{min(r[base] for r in rounds):.2f} s (best of {args.rounds}); ratio per round: median {median(ratios):.2f}x, "
              f"{ratios[0]:.2f}-{ratios[-1]:.2f}x  target <= 1.3x")
    print(f"(the plain write through polars/xlsxwriter, cell by cell: {cell_by_cell:.2f} s)")

    if args.files:
        folder = DATA / f"firm-{args.files}"
        if not folder.exists():
            folder.mkdir()
            for i in range(args.files):
                sample_cases(50, seed=100 + i).write_excel(folder / f"client-{i:03d}.xlsx", worksheet="Cases",
                                                           dtype_formats={pl.Date: "yyyy-mm-dd"})
        wall, _ = measured(cli([folder], DATA / "firm-portfolio.xlsx"))
        print(f"folder of {args.files} workbooks x 50 rows -> one portfolio: {wall:.2f} s  target <= 20 s")

    if args.big:
        big = DATA / f"cases-{args.big}.csv"
        if not big.exists():
            sample_cases(args.big, seed=9).write_csv(big)
        wall, peak = measured(cli([big], DATA / "big-portfolio.xlsx"))
        print(f"{args.big:,} rows -> formatted portfolio: {wall:.1f} s, peak memory {peak:,.0f} MB  target <= 2,560 MB")


if __name__ == "__main__":
    main()

"""Benchmarks for the in-place refresh (issue #23), run by hand:

    .venv/bin/python bench/refresh.py [--rows 200000] [--files 2000] [--file-rows 50]

1. One client workbook of 200k rows refreshed in place (``acsxl refresh``), against the same rows
   written to ``--out`` (the formatted portfolio beside it) in the same run. Target: <= 1.5x.
2. A folder of 2,000 client workbooks of 50 rows each refreshed in place (``acsxl triage FOLDER
   --in-place``), beside, in the same run, a plain openpyxl load-and-save of the same files and the
   read-and-triage alone (``--out`` CSV). Target: <= 60 s, linear in the number of workbooks.

Every run is a new process (Python's start and imports paid), on fresh copies of the workbooks."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

from acsxl.portfolio.sample import sample_cases

AS_OF = date(2026, 11, 23)
DATA = Path(__file__).resolve().parent / "data"
WORK = DATA / "refresh-work"
OPENPYXL = """
import sys
from pathlib import Path
import openpyxl
for path in sorted(Path(sys.argv[1]).rglob("*.xlsx")):
    openpyxl.load_workbook(path).save(path)
"""


def workbook(path: Path, rows: int, seed: int) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        sample_cases(rows, seed=seed).write_excel(path, worksheet="Cases", dtype_formats={pl.Date: "yyyy-mm-dd"})
    return path


def folder(files: int, rows: int) -> Path:
    """``files`` client workbooks of ``rows`` rows (made once, kept in bench/data)."""
    root = DATA / f"firm-{files}x{rows}"
    if not (root / f"client-{files - 1:05d}.xlsx").exists():
        base = DATA / f"client-{rows}.xlsx"
        workbook(base, rows, 3)
        root.mkdir(parents=True, exist_ok=True)
        for i in range(files):
            shutil.copyfile(base, root / f"client-{i:05d}.xlsx")
    return root


def fresh(source: Path) -> Path:
    """A fresh copy of a file or folder to refresh (the data stays as made)."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    target = WORK / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    return target


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def acsxl(*args: str) -> list[str]:
    return [sys.executable, "-m", "acsxl.cli", *args, "--as-of", AS_OF.isoformat(), "-q"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--file-rows", type=int, default=50)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-folder", action="store_true")
    args = parser.parse_args()

    if not args.skip_big:
        big = workbook(DATA / f"cases-{args.rows}.xlsx", args.rows, 5)
        out = timed(acsxl("triage", str(fresh(big)), "--out", str(WORK / "beside.xlsx")))
        refresh = timed(acsxl("refresh", str(fresh(big))))
        print(f"refresh of a {args.rows:,}-row workbook: {refresh:.2f} s; the same rows to --out: {out:.2f} s "
              f"({refresh / out:.2f}x)  target <= 1.5x")

    if not args.skip_folder:
        firm = folder(args.files, args.file_rows)
        read = timed(acsxl("triage", str(fresh(firm)), "--out", str(DATA / "refresh-folder.csv")))
        copy = fresh(firm)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", OPENPYXL, str(copy)], check=True)
        plain = time.perf_counter() - started
        refresh = timed(acsxl("triage", str(fresh(firm)), "--in-place"))
        print(f"folder of {args.files:,} workbooks x {args.file_rows} rows: refresh in place {refresh:.1f} s "
              f"({refresh / args.files * 1000:.0f} ms each)  target <= 60 s; openpyxl load-and-save {plain:.1f} s; "
              f"read and triage alone {read:.1f} s")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()

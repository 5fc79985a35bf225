"""The I/O floor's plain write, kept apart from the benchmark so a new process can import it alone:
the header through xlsxwriter (polars' write_excel), the rows streamed by acsxl.xlsx.rows.

As a script it is the floor as a new process: ``python bench/floor.py CASES.xlsx TABLE.parquet OUT.xlsx``
reads the case workbook with fastexcel and writes the table; it prints the seconds spent loading the
table (which the real run computes instead), for the caller to take off."""

from __future__ import annotations

import acsxl.cli.main  # noqa: F401  first, as the command line: it sets polars' allocator options

# isort: split
import io
import sys
import time
from pathlib import Path

import polars as pl

from acsxl.xlsx.package import Package
from acsxl.xlsx.rows import Cell, Fill, write_with_rows


def plain_write(table: pl.DataFrame, out: str | Path) -> None:
    header = io.BytesIO()
    table.head(0).write_excel(header, autofit=False, autofilter=False, table_style=None)
    package = Package.read(header.getvalue())
    sheet = next(iter(package.sheet_parts().values()))
    write_with_rows(package, {sheet: Fill(table, [Cell(c) for c in table.columns])}, str(out))


if __name__ == "__main__":
    from acsxl.io.inputs import load_sheet

    cases, table_path, out = sys.argv[1:4]
    started = time.perf_counter()
    table = pl.read_parquet(table_path)
    loading = time.perf_counter() - started
    pl.from_arrow(load_sheet(Path(cases), "Cases").batch)  # fastexcel, as acsxl reads
    plain_write(table, out)
    print(loading)

"""Benchmarks for the Excel worksheet functions (issue #4), Python side only (no Excel here):

    .venv/bin/python bench/excel.py [--rows 10000] [--calls 3000]

Reports the per-call time of each single-cell function, fed values as Excel hands them (floats,
datetimes, None), and the time of one call over a whole range: ACS_TRIAGE on --rows rows with
headers, and the column functions on --rows cells. Targets: <= 0.2 ms per single-cell call;
ACS_TRIAGE on 10,000 rows <= 0.5 s."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from run import best_of  # bench/run.py, beside this script

from acsxl.excel import udfs
from acsxl.excel.functions import BY_NAME
from acsxl.io.reader import canonical_names
from acsxl.portfolio.sample import sample_cases

AS_OF = datetime(2026, 11, 23)


def per_call_ms(fn: Callable[..., Any], args: tuple, calls: int) -> float:
    """Median over 5 batches of the mean time per call."""
    batches = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            fn(*args)
        batches.append((time.perf_counter() - started) / calls * 1000)
    return statistics.median(batches)


def excel_values(rows: int) -> list[list[Any]]:
    """A case list as xlwings hands a range over: numbers as floats, dates as datetimes, None for blanks."""
    frame = sample_cases(rows, seed=7, anchor=date(2026, 11, 21))

    def cell(value: Any) -> Any:
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    return [list(frame.columns), *([cell(x) for x in row] for row in frame.iter_rows())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=3_000)
    args = parser.parse_args()

    single = {
        "ACS_CAUSE": (1040.0, "CP504", "Y", None, None, "150 290"),
        "ACS_STAGE": ("LT11", datetime(2026, 10, 5), AS_OF),
        "ACS_DEADLINE": ("CP504", 46300.0, 12_000.0, AS_OF),
        "ACS_DEADLINE_TYPE": ("LT11", datetime(2026, 11, 1), None, AS_OF),
        "ACS_DAYS_LEFT": ("CP504", 46300.0, 12_000.0, AS_OF),
        "ACS_PASSPORT_RISK": (70_000.0, True, None, None, AS_OF),
        "ACS_PAYROLL_RISK": (941.0, None, 4.0),
        "ACS_RO_RISK": (150_000.0,),
        "ACS_CSED": (datetime(2018, 5, 1), 30.0),
    }
    print(f"single-cell calls ({args.calls} per batch, median of 5; target <= 0.2 ms):")
    for name, call_args in single.items():
        print(f"  {name:<18} {per_call_ms(getattr(udfs, name), call_args, args.calls):.3f} ms")
    values = excel_values(args.rows)
    headers, rows = values[:1], values[1:]
    one_row = per_call_ms(udfs.ACS_NEXT_ACTION, (headers, rows[:1], AS_OF), args.calls // 3)
    print(f"  {'ACS_NEXT_ACTION':<18} {one_row:.3f} ms (headers + one row)")

    print(f"whole ranges of {args.rows:,} rows:")
    triage_s = best_of(5, lambda: udfs.ACS_TRIAGE(values, AS_OF))
    print(f"  ACS_TRIAGE        {triage_s:.3f} s   (target <= 0.5 s)")
    col = {name: [[r[i]] for r in rows] for i, name in canonical_names(values[0]).items()}
    deadline = best_of(5, lambda: udfs.ACS_DEADLINE(col["last_notice"], col["notice_date"], col["balance"], AS_OF))
    print(f"  ACS_DEADLINE      {deadline:.3f} s   (three columns in, one out)")
    cause = best_of(5, lambda: udfs.ACS_CAUSE(*(col[a.target] for a in BY_NAME["ACS_CAUSE"].args)))
    print(f"  ACS_CAUSE         {cause:.3f} s   (seven columns in, one out)")
    print(f"  ACS_NEXT_ACTION   {best_of(5, lambda: udfs.ACS_NEXT_ACTION(headers, rows, AS_OF)):.3f} s")


if __name__ == "__main__":
    main()

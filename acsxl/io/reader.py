"""Read a case list from a workbook or a .csv into the engine's input frame: headers mapped to
canonical names (aliases in ``acsxl.rules.schema``), values left as the file holds them (the engine
parses and reports them per row), plus ``source_row``, the sheet row each case came from. Many files
are read in worker processes (``read_all``)."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from acsxl.errors import UnreadableInput
from acsxl.io.inputs import PARALLEL_FROM, LoadedSheet, Prefetch, checked, first_line, is_csv, load_sheet
from acsxl.rules import values as v
from acsxl.rules.schema import HEADER_ALIASES, REQUIRED, header_key


@dataclass(frozen=True)
class Source:
    """Where cases came from: the name shown for the file (its path inside a swept folder), its path,
    and the sheet read (None for a CSV file or a range handed over)."""

    label: str
    path: Path
    sheet: str | None = None


@dataclass
class CaseList:
    path: Path
    sheet: str | None
    frame: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    label: str = ""
    stamp: tuple[int, int] | None = None  # (modification time, size) when read: a later change is detected

    @property
    def rows(self) -> int:
        return self.frame.height

    @property
    def source(self) -> Source:
        return Source(self.label, self.path, self.sheet)


class NotCaseList(UnreadableInput):
    """A file that is not a case list at all (one of acsxl's own outputs): passed over, not a failure."""


def read_cases(path: str | Path, sheet: str | None = None, label: str | None = None,
               prefetched: Callable[[Path, str | None, tuple[int, int]], LoadedSheet | None] | None = None,
               not_cases: Callable[[Path], str | None] | None = None) -> CaseList:
    """Read one case list. ``label`` names the file where it is shown (default: its name).
    ``prefetched``: where a sheet loaded ahead of time may be waiting (``acsxl.io.inputs.Prefetch.take``).
    ``not_cases``: why a file is no case list at all, or None (raised as ``NotCaseList``)."""
    path = Path(path)
    stamp = checked(path)
    reason = not_cases(path) if not_cases else None
    if reason:
        raise NotCaseList(reason)
    if is_csv(path):
        raw, sheet_name, first_row = _read_csv(path), None, 2
    else:
        loaded = prefetched(path, sheet, stamp) if prefetched else None
        loaded = loaded or load_sheet(path, sheet)
        raw, sheet_name, first_row = pl.from_arrow(loaded.batch), loaded.sheet, loaded.first_row
        if loaded.warning:
            cases = _case_list(raw, path, sheet_name, first_row, label or path.name, stamp)
            cases.warnings.append(loaded.warning)
            return cases
    return _case_list(raw, path, sheet_name, first_row, label or path.name, stamp)


def read_rows(rows: Sequence[Sequence[Any]], label: str, sheet: str | None = None, first_row: int = 2) -> CaseList:
    """A case list handed over as values, headers in the first row: an Excel range, for instance.
    ``first_row`` is the sheet row of the first case, for ``source_row``."""
    return _case_list(value_frame(rows, label), Path(label), sheet, first_row, label, None)


def value_frame(rows: Sequence[Sequence[Any]], label: str) -> pl.DataFrame:
    """Rows of cell values, headers first, as a frame of raw columns (one per header)."""
    if not rows or not any(cell is not None and cell != "" for cell in rows[0]):
        raise UnreadableInput(f"{label}: no headers in the first row")
    headers = _unique_headers(rows[0])
    body = rows[1:]
    return pl.DataFrame([value_column(h, [r[i] if i < len(r) else None for r in body]) for i, h in enumerate(headers)])


def value_column(name: str, values: list[Any]) -> pl.Series:
    """One column of cell values as Python hands them (float, str, bool, datetime, None). A column of
    one kind keeps its type; a mix (dates among serials, yes among booleans) becomes text, which the
    engine parses value by value. (polars' own non-strict typing would turn the odd ones into nulls.)"""
    kinds = {_KINDS.get(type(x), object) for x in values if x is not None}
    if len(kinds) == 1 and object not in kinds:
        return pl.Series(name, values, dtype=_DTYPES[kinds.pop()])
    if not kinds:
        return pl.Series(name, values, dtype=pl.Null)
    return pl.Series(name, [v.text(x) for x in values], dtype=pl.String)


_KINDS: dict[type, type] = {float: float, int: float, str: str, bool: bool, datetime: datetime, date: date}
_DTYPES: dict[type, pl.DataType] = {float: pl.Float64(), str: pl.String(), bool: pl.Boolean(), datetime: pl.Datetime(), date: pl.Date()}


def _unique_headers(cells: Sequence[Any]) -> list[str]:
    out: list[str] = []
    for i, cell in enumerate(cells):
        name = v.text(cell) or f"__UNNAMED__{i}"
        while name in out:
            name += "_"
        out.append(name)
    return out


def _case_list(raw: pl.DataFrame, path: Path, sheet: str | None, first_row: int, label: str,
               stamp: tuple[int, int] | None) -> CaseList:
    frame, warnings = canonical_columns(raw, path)
    frame = (
        frame.with_columns(pl.int_range(first_row, first_row + pl.len(), dtype=pl.Int64).alias("source_row"))
        .filter(~pl.all_horizontal(pl.exclude("source_row").is_null()))  # blank rows keep their numbers
    )
    if frame.height == 0:
        raise UnreadableInput(f"{path}: no case rows under the headers")
    return CaseList(path, sheet, frame, warnings, label, stamp)


def _read_csv(path: Path) -> pl.DataFrame:
    try:
        return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True)
    except (pl.exceptions.PolarsError, OSError) as err:
        raise UnreadableInput(f"{path}: not a readable CSV file ({first_line(err)})") from None


def canonical_names(headers: Sequence[Any]) -> dict[int, str]:
    """Position -> canonical name of each recognised header (aliases: ``acsxl.rules.schema``); the
    first of duplicates wins."""
    names: dict[int, str] = {}
    for i, header in enumerate(headers):
        canonical = HEADER_ALIASES.get(header_key(v.text(header) or ""))
        if canonical is not None and canonical not in names.values():
            names[i] = canonical
    return names


def no_headers(name: object) -> UnreadableInput:
    return UnreadableInput(f"{name}: no case-list headers found (expected {', '.join(REQUIRED)} in the first row)")


def canonical_columns(raw: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, list[str]]:
    """Rename recognised headers to canonical names; keep the first of duplicates; drop unnamed empty columns."""
    names = canonical_names(raw.columns)
    if not names:
        raise no_headers(path)
    drops, warnings = [], []
    for i, column in enumerate(raw.columns):
        if i in names:
            continue
        canonical = HEADER_ALIASES.get(header_key(column))
        if canonical is not None:
            warnings.append(f"{path.name}: column {column!r} repeats {canonical}; the first one is used")
            drops.append(column)
        elif column.startswith("__UNNAMED__") and raw.get_column(column).null_count() == raw.height:
            drops.append(column)
    return raw.drop(drops).rename({raw.columns[i]: name for i, name in names.items()}), warnings


@dataclass
class FileResult:
    """How reading one file went (for the run log and the Issues sheet)."""

    path: str
    label: str
    rows: int = 0
    sheet: str | None = None
    seconds: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    passed_over: str | None = None  # not a case list (one of acsxl's own outputs): not read, and not a failure


Task = tuple[Path, str, str | None, Callable[[Path], str | None] | None]


def _read(task: Task, prefetch: Prefetch | None = None) -> tuple[FileResult, CaseList | None]:
    path, label, sheet, not_cases = task
    started = time.perf_counter()
    try:
        cases = read_cases(path, sheet, label, prefetch.take if prefetch else None, not_cases)
    except NotCaseList as err:
        return FileResult(str(path), label, passed_over=str(err), seconds=time.perf_counter() - started), None
    except UnreadableInput as err:
        return FileResult(str(path), label, error=str(err), seconds=time.perf_counter() - started), None
    except Exception as err:  # a file must never stop the run: said as the file's reason, with its type
        return FileResult(str(path), label, error=f"{path}: cannot be read ({type(err).__name__}: {err})"), None
    result = FileResult(str(path), label, cases.rows, cases.sheet, time.perf_counter() - started, warnings=cases.warnings)
    return result, cases


def read_all(inputs: Sequence[tuple[Path, str]], sheet: str | None, step: Callable[[], None] = lambda: None,
             prefetch: Prefetch | None = None, not_cases: Callable[[Path], str | None] | None = None,
             ) -> list[tuple[FileResult, CaseList | None]]:
    """Read every input, in worker processes when there are many; results in input order, ``step``
    called after each. A few are read here, one after the other, taking what ``prefetch`` (see
    ``acsxl.io.inputs.prefetch_for``) has loaded."""
    tasks = [(path, label, sheet, not_cases) for path, label in inputs]
    results = []
    if len(tasks) < PARALLEL_FROM:
        for task in tasks:
            results.append(_read(task, prefetch))
            step()
        return results
    # spawn, not fork: forking a process whose polars thread pool is running can deadlock.
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        for result in pool.map(_read, tasks, chunksize=4):
            results.append(result)
            step()
    return results

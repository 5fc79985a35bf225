"""Read a case list from a workbook (.xlsx, .xlsm) or a .csv into the engine's input frame: headers
mapped to canonical names (aliases in ``acsxl.rules.schema``), values left as the file holds them
(the engine parses and reports them per row), plus a ``source`` column naming file, sheet and row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from acsxl.io.inputs import LoadedSheet, UnreadableInput, checked, first_line, load_sheet
from acsxl.rules import values as v
from acsxl.rules.schema import HEADER_ALIASES, REQUIRED, header_key


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


def read_cases(path: str | Path, sheet: str | None = None, label: str | None = None,
               prefetched: Callable[[Path, str | None, tuple[int, int]], LoadedSheet | None] | None = None) -> CaseList:
    """Read one case list. ``label`` names the file in the ``source`` column (default: its name).
    ``prefetched``: where a sheet loaded ahead of time may be waiting (``acsxl.io.inputs.Prefetch.take``)."""
    path = Path(path)
    stamp = checked(path)
    if path.suffix.lower() == ".csv":
        raw, sheet_name, first_row = _read_csv(path), None, 2
    else:
        loaded = prefetched(path, sheet, stamp) if prefetched else None
        loaded = loaded or load_sheet(path, sheet)
        raw, sheet_name, first_row = pl.from_arrow(loaded.batch), loaded.sheet, loaded.first_row
    return _case_list(raw, path, sheet_name, first_row, label or path.name, stamp)


def read_rows(rows: Sequence[Sequence[Any]], label: str, sheet: str | None = None, first_row: int = 2) -> CaseList:
    """A case list handed over as values, headers in the first row: an Excel range, for instance.
    ``first_row`` is the sheet row of the first case, for the ``source`` column."""
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
    where = "".join(f"{part}, " for part in (label, sheet) if part) + "row "
    frame = (
        frame.with_row_index("_row", offset=first_row)
        .filter(~pl.all_horizontal(pl.exclude("_row").is_null()))  # blank rows keep their numbers
        .with_columns(pl.format("{}{}", pl.lit(where), pl.col("_row")).alias("source"))
        .drop("_row")
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

"""Read a case list from a workbook or a .csv into the engine's input frame: headers mapped to
canonical names (aliases in ``acsxl.rules.schema``), values left as the file holds them (the engine
parses and reports them per row), plus ``source_row``, the sheet row each case came from. Many files
are read in worker processes (``read_all``)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from xlsxwriter.utility import xl_col_to_name

from acsxl.errors import UnreadableInput
from acsxl.io.inputs import PARALLEL_FROM, LoadedSheet, Prefetch, checked, first_line, is_csv, load_sheet
from acsxl.io.workers import bounded_call, bounded_map
from acsxl.rules import values as v
from acsxl.rules.schema import FIELDS, HEADER_ALIASES, REQUIRED, header_key


@dataclass(frozen=True)
class Source:
    """Where cases came from: the name shown for the file (its path inside a swept folder), its path,
    and the sheet read (None for a CSV file or a range handed over)."""

    label: str
    path: Path
    sheet: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # (canonical column, the header it had in the file)
    cells: tuple[tuple[str, str], ...] = ()  # (canonical column, its column letters in the sheet), where known for sure


@dataclass
class CaseList:
    path: Path
    sheet: str | None
    frame: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    label: str = ""
    stamp: tuple[int, int] | None = None  # (modification time, size) when read: a later change is detected
    columns: list[str] = field(default_factory=list)  # the canonical columns found
    unrecognised: list[str] = field(default_factory=list)  # headers kept as the user's own columns
    problems: list[str] = field(default_factory=list)  # file-level problems: a column lost (the run exits 1)
    headers: dict[str, str] = field(default_factory=dict)  # canonical column -> the header it had in the file
    letters: dict[str, str] = field(default_factory=dict)  # canonical column -> its column letters in the sheet, where known

    @property
    def rows(self) -> int:
        return self.frame.height

    @property
    def source(self) -> Source:
        return Source(self.label, self.path, self.sheet, tuple(self.headers.items()), tuple(self.letters.items()))


class NotCaseList(UnreadableInput):
    """A file that is not a case list at all (one of acsxl's own outputs): passed over, not a failure."""


def read_cases(path: str | Path, sheet: str | None = None, label: str | None = None,
               prefetched: Callable[[Path, str | None, tuple[int, int]], LoadedSheet | None] | None = None,
               not_cases: Callable[[Path], str | None] | None = None, aliases: Mapping[str, str] | None = None) -> CaseList:
    """Read one case list. ``label`` names the file where it is shown (default: its name).
    ``prefetched``: where a sheet loaded ahead of time may be waiting (``acsxl.io.inputs.Prefetch.take``).
    ``not_cases``: why a file is no case list at all, or None (raised as ``NotCaseList``). ``aliases``:
    header key -> canonical column, in place of the built-in ones (``acsxl.io.config``)."""
    path = Path(path)
    stamp = checked(path)
    reason = not_cases(path) if not_cases else None
    if reason:
        raise NotCaseList(reason)
    if is_csv(path):
        (raw, note), sheet_name, first_row = _read_csv(path), None, 2
    else:
        loaded = prefetched(path, sheet, stamp) if prefetched else None
        loaded = loaded or load_sheet(path, sheet, aliases)
        raw, sheet_name, first_row, note = pl.from_arrow(loaded.batch), loaded.sheet, loaded.first_row, loaded.warning
    cases = _case_list(raw, path, sheet_name, first_row, label or path.name, stamp, aliases,
                       None if is_csv(path) else loaded.first_column)
    if note:  # how the file was read (an encoding, a separator, where its table starts)
        cases.warnings.append(note)
    return cases


def read_rows(rows: Sequence[Sequence[Any]], label: str, sheet: str | None = None, first_row: int = 2) -> CaseList:
    """A case list handed over as values, headers in the first row: an Excel range, for instance.
    ``first_row`` is the sheet row of the first case, for ``source_row``."""
    return _case_list(value_frame(rows, label), Path(label), sheet, first_row, label, None, first_column=0)  # from A


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
               stamp: tuple[int, int] | None, aliases: Mapping[str, str] | None = None, first_column: int | None = None) -> CaseList:
    """``first_column``: the sheet column (0-based) of ``raw``'s first column, where it is known for sure."""
    frame, warnings = canonical_columns(raw, path, aliases)
    found = canonical_names(raw.columns, aliases)
    headers = {name: str(raw.columns[i]) for i, name in found.items()}
    letters = {name: xl_col_to_name(first_column + i) for i, name in found.items()} if first_column is not None else {}
    frame = (
        frame.with_columns(pl.int_range(first_row, first_row + pl.len(), dtype=pl.Int64).alias("source_row"))
        .filter(~pl.all_horizontal(pl.exclude("source_row").is_null()))  # blank rows keep their numbers
    )
    # A total row has no tax period: only those rows are looked at.
    maybe = frame.filter(pl.col("tax_period").is_null()) if "tax_period" in frame.columns else frame
    totals = maybe.filter(_total_row(frame)) if maybe.height else maybe
    if totals.height:
        frame = frame.filter(~pl.col("source_row").is_in(totals.get_column("source_row").implode()))
        shown = [f"row {r['source_row']}" + (f" ({r['__label']!r})" if r["__label"] else "") for r in
                 totals.select("source_row", _label(totals).alias("__label")).head(5).iter_rows(named=True)]
        warnings.append(f"{label}: {', '.join(shown)}{' and more' if totals.height > 5 else ''} "
                        f"{'looks like a total row' if totals.height == 1 else 'look like total rows'}: left out of the cases")
    if frame.height == 0:
        raise UnreadableInput(f"{path}: no case rows under the headers")
    columns = [f.name for f in FIELDS if f.name in frame.columns]
    unrecognised = [c for c in frame.columns if c not in columns and c != "source_row" and not c.startswith("__UNNAMED__")]
    return CaseList(path, sheet, frame, warnings, label, stamp, columns, unrecognised, file_problems(label, columns, unrecognised), headers,
                    letters)


SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}


TOTAL = r"(?i)^\s*(grand\s+|sub\s*)?totals?\b|^\s*sum\b"


def _label(frame: pl.DataFrame) -> pl.Expr:
    """The row's client id, else its name, as text (what a total row is labelled by)."""
    parts = [pl.col(c).cast(pl.String) for c in ("client_id", "client_name") if c in frame.columns]
    return pl.coalesce(parts) if parts else pl.lit(None, pl.String)


def _total_row(frame: pl.DataFrame) -> pl.Expr:
    """A summary row, not a case: labelled Total, Grand total, Subtotal or Sum where the client goes,
    with no tax period; or a row that holds nothing but a balance."""
    labelled = _label(frame).str.contains(TOTAL).fill_null(False)
    no_period = pl.col("tax_period").is_null() if "tax_period" in frame.columns else pl.lit(True)
    others = [c for c in frame.columns if c not in ("source_row", "balance")]
    only_sum = (pl.col("balance").is_not_null() & pl.all_horizontal(pl.col(c).is_null() for c in others)
                if "balance" in frame.columns and others else pl.lit(False))
    return (labelled & no_period) | only_sum


def _read_csv(path: Path) -> tuple[pl.DataFrame, str | None]:
    """A CSV file's cells as text, and a note when it was not plain UTF-8 with commas. UTF-8 (with or
    without a byte-order mark), else Windows-1252 (what Excel writes on a US Windows machine): never
    a replacement character in place of a letter. The separator is the one of ``SEPARATORS`` the
    header line holds most of."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UnreadableInput(f"{path}: cannot be read ({err.strerror or err})") from None
    notes = []
    try:
        data.decode("utf-8")  # only a check: polars reads the bytes (a byte-order mark included)
    except UnicodeDecodeError:
        data = data.decode("cp1252", errors="replace").encode("utf-8")
        notes.append("read as Windows-1252 (it is not UTF-8)")
    header = data[:data.find(b"\n")].decode("utf-8", errors="replace")
    separator = max(SEPARATORS, key=header.count)
    if separator != ",":
        notes.append(f"{SEPARATORS[separator]}-separated")
    try:
        frame = pl.read_csv(data, infer_schema=False, separator=separator, truncate_ragged_lines=True)
    except pl.exceptions.PolarsError as err:
        raise UnreadableInput(f"{path}: not a readable CSV file ({first_line(err)})") from None
    return frame, (f"{path.name}: {'; '.join(notes)}" if notes else None)


# What a case list loses without a column, and the words of a header that looks like it.
LOST = {
    "client_id": "every row is reported, and rows are not added up per client",
    "form": "every row is reported, and no cause, payroll or passport risk is worked out",
    "tax_period": "every row is reported",
    "balance": "every row is reported, and no balance counts toward client totals or risks",
    "last_notice": "no row gets a notice stage or a deadline",
    "notice_date": "no deadline is counted from a notice date",
}
LOOKS_LIKE = (  # checked in this order: a header with "notice" and "date" is the notice date
    ("notice_date", ("notice date", "letter date", "date of notice", "date of letter", "notice dt", "date notice", "date letter")),
    ("last_notice", ("notice", "letter", "irs cp")),
    ("client_id", ("client", "customer", "account")),
    ("tax_period", ("period", "year", "quarter")),
    ("balance", ("balance", "amount", "owed", "liability")),
    ("form", ("form", "mft")),
)


def looks_like(header: str) -> str | None:
    """The canonical column an unrecognised header seems to be, if any."""
    words = " ".join(re.findall(r"[a-z0-9]+", header.lower()))
    return next((name for name, hints in LOOKS_LIKE if any(re.search(rf"\b{hint}\b", words) for hint in hints)), None)


def file_problems(label: str, columns: Sequence[str], unrecognised: Sequence[str]) -> list[str]:
    """File-level problems: a required column missing, or a column acsxl needs for deadlines left
    unrecognised under a header that looks like it. One line each, with the fix."""
    problems = []
    for name in LOST:
        if name in columns:
            continue
        candidates = [h for h in unrecognised if looks_like(h) == name]
        if candidates:
            problems.append(f"{label}: header {candidates[0]!r} looks like the {name} column but is not recognised, so {LOST[name]}; "
                            f"map it in acsxl.toml: {name} = [{_quoted(candidates[0])}]")
        elif name in REQUIRED:
            problems.append(f"{label}: no {name} column, so {LOST[name]}; add it, or map your header in acsxl.toml: {name} = [\"Your header\"]")
    return problems


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def canonical_names(headers: Sequence[Any], aliases: Mapping[str, str] | None = None) -> dict[int, str]:
    """Position -> canonical name of each recognised header (``aliases``: header key -> canonical
    column; default the built-in ones, ``acsxl.rules.schema``); the first of duplicates wins."""
    aliases = HEADER_ALIASES if aliases is None else aliases
    names: dict[int, str] = {}
    for i, header in enumerate(headers):
        canonical = aliases.get(header_key(v.text(header) or ""))
        if canonical is not None and canonical not in names.values():
            names[i] = canonical
    return names


def no_headers(name: object, seen: Sequence[Any] = ()) -> UnreadableInput:
    """No row names a case-list column; says what the first row held, and the way out."""
    cells = [str(c) for c in seen if c is not None and str(c).strip() and not str(c).startswith("__UNNAMED__")][:6]
    held = f"; its first row holds {', '.join(repr(c) for c in cells)}" if cells else "; its first row is empty"
    return UnreadableInput(f"{name}: no case-list headers found (expected {', '.join(REQUIRED)}{held}); "
                           "rename the headers, or map them in acsxl.toml")


def canonical_columns(raw: pl.DataFrame, path: Path, aliases: Mapping[str, str] | None = None) -> tuple[pl.DataFrame, list[str]]:
    """Rename recognised headers to canonical names; keep the first of duplicates; drop unnamed empty columns."""
    aliases = HEADER_ALIASES if aliases is None else aliases
    names = canonical_names(raw.columns, aliases)
    if not names:
        raise no_headers(path, raw.columns)
    drops, warnings = [], []
    for i, column in enumerate(raw.columns):
        if i in names:
            continue
        canonical = aliases.get(header_key(column))
        if canonical is not None:
            warnings.append(f"{path.name}: column {column!r} repeats {canonical}; the first one is used")
            drops.append(column)
        elif column.startswith("__UNNAMED__") and raw.get_column(column).null_count() == raw.height:
            drops.append(column)
    renamed = {raw.columns[i]: name for i, name in names.items()}
    return raw.select(pl.col(c).alias(renamed.get(c, c)) for c in raw.columns if c not in drops), warnings


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
    columns: list[str] = field(default_factory=list)  # the canonical columns found
    unrecognised: list[str] = field(default_factory=list)  # headers kept as the user's own columns
    problems: list[str] = field(default_factory=list)  # file-level problems (the run exits 1)


Task = tuple[Path, str, str | None, Callable[[Path], str | None] | None, Mapping[str, str] | None]


def _read(task: Task, prefetch: Prefetch | None = None, stop: object = None) -> tuple[FileResult, CaseList | None]:
    # (``stop``: set when the run gave up on the file; reading changes nothing, so nothing to stop)
    path, label, sheet, not_cases, aliases = task
    started = time.perf_counter()
    try:
        cases = read_cases(path, sheet, label, prefetch.take if prefetch else None, not_cases, aliases)
    except NotCaseList as err:
        return FileResult(str(path), label, passed_over=str(err), seconds=time.perf_counter() - started), None
    except UnreadableInput as err:
        return FileResult(str(path), label, error=str(err), seconds=time.perf_counter() - started), None
    except Exception as err:  # a file must never stop the run: said as the file's reason, with its type
        return FileResult(str(path), label, error=f"{path}: cannot be read ({type(err).__name__}: {err})"), None
    result = FileResult(str(path), label, cases.rows, cases.sheet, time.perf_counter() - started, warnings=cases.warnings,
                        columns=cases.columns, unrecognised=cases.unrecognised, problems=cases.problems)
    return result, cases


def read_all(inputs: Sequence[tuple[Path, str]], sheet: str | None, step: Callable[[], None] = lambda: None,
             prefetch: Prefetch | None = None, not_cases: Callable[[Path], str | None] | None = None,
             aliases: Mapping[str, str] | None = None) -> list[tuple[FileResult, CaseList | None]]:
    """Read every input, in worker processes when there are many; results in input order, ``step``
    called after each. A few are read here, one after the other, taking what ``prefetch`` (see
    ``acsxl.io.inputs.prefetch_for``) has loaded. Each file within a time limit (``acsxl.io.workers``)."""
    tasks = [(path, label, sheet, not_cases, aliases) for path, label in inputs]
    results = []
    if len(tasks) < PARALLEL_FROM:
        for task in tasks:
            results.append(bounded_call(_read, task, _too_long, prefetch=prefetch))
            step()
        return results
    return bounded_map(_read, tasks, _too_long, step)


def _too_long(task: Task, seconds: float) -> tuple[FileResult, None]:
    path, label = task[0], task[1]
    return FileResult(str(path), label, error=f"{path}: still being read after {seconds:.0f} s; skipped (a damaged file? "
                                              "open it in Excel and save it again)", seconds=seconds), None

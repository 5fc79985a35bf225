"""The one path from case lists to a portfolio: read -> triage -> build -> write, used by the command
line (``acsxl triage``, ``acsxl refresh``), the Refresh portfolio button and the workbook generator.

Cases cross from the reader to the engine and on to the outputs as data: each row keeps
``source_file`` (its file's place in the run's ``Sources``) and ``source_row``, and the engine gives
back ``problems``; the texts a user reads are rendered only where they are shown."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from acsxl.engine import triage
from acsxl.engine.parse import combine
from acsxl.errors import NotRefreshed, OutputError, Terminated
from acsxl.io.config import Config
from acsxl.io.inputs import Prefetch
from acsxl.io.reader import CaseList, FileResult, read_all, read_rows
from acsxl.io.workers import bounded_call, bounded_map
from acsxl.io.writer import narrowest_mode, write_file, write_table
from acsxl.portfolio.columns import ENGINE_COLUMNS, Sources, shown
from acsxl.portfolio.dates import DATE_STYLES, DEFAULT_DATES
from acsxl.portfolio.inplace import refresh_workbook
from acsxl.portfolio.layout import RunInfo, absolute_links, write_portfolio
from acsxl.portfolio.sheets import our_portfolio
from acsxl.portfolio.working import Reading, unchanged
from acsxl.rules.parameters import RULEBOOK


def _kinds() -> pl.Expr:
    return pl.col("problems").list.eval(pl.element().struct.field("kind"))


@dataclass
class Triaged:
    """A triaged run: the engine's rows (ranked), what the outputs need to know of the run, and how
    reading each file went."""

    result: pl.DataFrame
    run: RunInfo
    files: list[FileResult] = field(default_factory=list)
    stamps: list[tuple[int, int] | None] = field(default_factory=list)  # per source, when read: a later change is detected
    warnings: list[str] = field(default_factory=list)

    @property
    def narrowest_mode(self) -> int | None:
        """The permission bits every case list read allows: an output holding their rows allows no more."""
        return narrowest_mode(source.path for source in self.run.sources.files)

    @property
    def rows_with_issues(self) -> int:
        """Rows with a problem to fix (not counting a row whose only note is an unverified amount it used)."""
        return int(self.result.select(_kinds().list.eval(pl.element() != "unverified").list.any().fill_null(False).sum()).item())

    @property
    def rows_with_unverified(self) -> int:
        """Rows that used an amount acsxl could not verify (their issues say which)."""
        return int(self.result.select(_kinds().list.contains("unverified").fill_null(False).sum()).item())

    def shown(self) -> pl.DataFrame:
        """The rows as the user sees them (CSV, Parquet, ``ACS_TRIAGE``)."""
        return shown(self.result, self.run.sources, self.run.notes)


@dataclass
class InPlace:
    """What became of one workbook in an in-place run (for the log and the Issues sheet)."""

    path: str
    status: str  # refreshed | beside | not_refreshed
    rows: int = 0
    message: str | None = None
    notes: list[str] = field(default_factory=list)  # what was typed in its Portfolio that did not go back as it was


def read_files(inputs: Sequence[tuple[Path, str]], sheet: str | None, step: Callable[[], None] = lambda: None,
               prefetch: Prefetch | None = None, config: Config | None = None) -> list[tuple[FileResult, CaseList | None]]:
    """Every input read (many in worker processes), headers matched with the firm's aliases too
    (``config``); acsxl's own portfolio workbooks passed over."""
    aliases = config.header_aliases() if config is not None and config.aliases else None
    return read_all(inputs, sheet, step, prefetch, our_portfolio, aliases)


def triage_read(read: Sequence[tuple[FileResult, CaseList | None]], as_of: date, dates: str = DEFAULT_DATES) -> Triaged | None:
    """The cases of every file that could be read, triaged together as of ``as_of``, dates in the texts
    in the style ``dates``; None when none could."""
    files, lists, skipped, passed_over, warnings, problems = [], [], [], [], [], []
    for result, cases in read:
        files.append(result)
        if result.passed_over:
            passed_over.append((result.path, result.passed_over))
            continue
        if cases is None:
            skipped.append((result.path, result.error or "unreadable"))
            continue
        warnings.extend((result.path, warning) for warning in cases.warnings)
        problems.extend((result.path, problem) for problem in cases.problems)
        lists.append(cases)
    if not lists:
        return None
    frames = [c.frame.with_columns(pl.lit(i, pl.Int64).alias("source_file")) for i, c in enumerate(lists)]
    cases = combine(frames)  # each file's values as it typed them
    caveats = RULEBOOK.carried_forward(as_of)
    run = RunInfo(as_of, Sources(tuple(c.source for c in lists)), skipped, notes="notes" in cases.columns, passed_over=passed_over,
                  file_problems=problems, file_notes=warnings, caveats=caveats, dates=dates)
    result = triage(cases, as_of, columns=ENGINE_COLUMNS, dates=DATE_STYLES[dates].text)
    return Triaged(result, run, files, [c.stamp for c in lists], [w for _, w in warnings] + caveats)


def triage_rows(values: list[list[Any]], book: Path, as_of: date, sheet: str, dates: str = DEFAULT_DATES) -> Triaged:
    """A case list handed over as cell values, headers first (the Cases sheet of ``book``)."""
    cases = read_rows(values, book.name, sheet)
    frame = cases.frame.with_columns(pl.lit(0, pl.Int64).alias("source_file"))
    caveats = RULEBOOK.carried_forward(as_of)
    run = RunInfo(as_of, Sources((replace(cases.source, path=book),)), inside=book, notes="notes" in frame.columns, caveats=caveats,
                  dates=dates)
    return Triaged(triage(frame, as_of, columns=ENGINE_COLUMNS, dates=DATE_STYLES[dates].text), run, warnings=caveats)


def previous(out: str | Path | None) -> Reading | None:
    """What was typed in the portfolio workbook ``out`` replaces (an .xlsx acsxl wrote), read from now on
    on a thread, so it costs the run little; None when there is none."""
    if out is None or str(out) == "-" or Path(out).suffix.lower() != ".xlsx" or not Path(out).is_file() or our_portfolio(Path(out)) is None:
        return None
    return Reading(Path(out))


def write(triaged: Triaged, out: str | Path, csv_raw: bool = False, typed: Reading | None = None) -> list[str]:
    """The portfolio to ``out`` ('-': CSV on standard output); the format follows the extension, .xlsx
    being the formatted workbook. Atomic. CSV text that would start a formula is neutralised unless ``csv_raw``.
    A workbook replacing one acsxl wrote gives back what was typed in it (``typed``, the reading begun
    by ``previous``; else read here), and is not written when that cannot be read, or the old one was
    saved or opened meanwhile (NotKept).
    Returns what the user should know of it: the case lists a workbook links to by absolute address,
    what was typed that did not go back as it was."""
    narrow = triaged.narrowest_mode
    if str(out) == "-" or Path(out).suffix.lower() != ".xlsx":
        write_table(triaged.shown(), out, raw=csv_raw, narrow_to=narrow)
        return []
    path = Path(out)
    reading = typed or previous(path)
    kept = triaged.run.kept or (reading.result() if reading else None)
    run = replace(triaged.run, output=path, kept=kept)
    notes: list[str] = []
    write_file(path, lambda target: notes.extend(f"{path}: {n}" for n in write_portfolio(triaged.result, target, run)), narrow,
               last_look=lambda: unchanged(path, kept))
    absolute = absolute_links(run)
    return notes + ([f"the source links to {len(absolute)} case list(s) are absolute addresses, which work on this machine only: write the "
                     "portfolio into a folder the case lists share for links that survive a shared folder"] if absolute else [])


PARALLEL_REFRESH_FROM = 40  # workbooks; below this, a run refreshes them here (worker processes cost more to start)


def refresh_in_place(triaged: Triaged, step: Callable[[], None] = lambda: None) -> list[InPlace]:
    """Write each workbook's own rows (ranked within it) into that workbook, ``step`` called after each;
    one failure never stops the rest. Many workbooks are refreshed in worker processes, each handed
    only its own rows and its own source (so the work per workbook does not grow with the folder), each
    within a time limit (``acsxl.io.workers``)."""
    result, run = triaged.result, triaged.run
    by_file = result.partition_by("source_file", as_dict=True)
    tasks = []
    for i, source in enumerate(run.sources.files):
        rows = by_file.get((i,), result.clear())
        rows = rows.with_columns(pl.int_range(1, pl.len() + 1, dtype=result.schema["rank"]).alias("rank"),
                                 pl.lit(0, result.schema["source_file"]).alias("source_file"))
        tasks.append((source.path, rows, replace(run, sources=Sources((source,))), triaged.stamps[i] if i < len(triaged.stamps) else None))
    if len(tasks) < PARALLEL_REFRESH_FROM:
        done = []
        for task in tasks:
            done.append(bounded_call(_refresh_one, task, _too_long))
            step()
        return done
    tasks = [(path, compacted(rows), one, stamp) for path, rows, one, stamp in tasks]
    return bounded_map(_refresh_one, tasks, _too_long, step, initializer=_stop_on_sigterm)


def _too_long(task: tuple[Path, pl.DataFrame, RunInfo, tuple[int, int] | None], seconds: float) -> InPlace:
    path, rows = task[0], task[1]
    return InPlace(str(path), "not_refreshed", rows.height,
                   f"{path}: still being refreshed after {seconds:.0f} s; given up, not refreshed (the workbook is as it was)")


def compacted(rows: pl.DataFrame) -> pl.DataFrame:
    """The same rows holding only their own data. A slice of a bigger frame (``partition_by``) keeps the
    whole frame's list values beneath it, and pickling it for a worker sends them all: megabytes for
    every workbook of a folder. Arrow's export writes only the slice."""
    return pl.from_arrow(rows.to_arrow())


def _stop_on_sigterm() -> None:
    """In a worker: SIGTERM raises Terminated, so a refresh under way removes its temporary file."""
    def stop(signum: int, frame: object) -> None:
        raise Terminated

    signal.signal(signal.SIGTERM, stop)


def _refresh_one(task: tuple[Path, pl.DataFrame, RunInfo, tuple[int, int] | None], stop: threading.Event | None = None) -> InPlace:
    path, rows, run, stamp = task
    try:
        outcome = refresh_workbook(path, rows, run, stamp, stop)
    except (NotRefreshed, OutputError) as err:
        return InPlace(str(path), "not_refreshed", rows.height, str(err))
    except Exception as err:
        return InPlace(str(path), "not_refreshed", rows.height,
                       f"{path}: not refreshed ({type(err).__name__}: {err}); the workbook is as it was")
    return InPlace(str(path), "beside" if outcome.beside else "refreshed", rows.height, outcome.reason, outcome.notes)

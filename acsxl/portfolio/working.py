"""What the user types into the Portfolio survives a refresh (README, "Your own columns on the Portfolio").

The working columns (``Column.working``: Status, Assigned to, Note) start empty, and any column the
user adds to the Portfolio is kept the same way. Before a refresh replaces the Portfolio, what is typed
there is read back with each row's case (``read_kept``; ``kept_from_values`` for the cells Excel hands
the Refresh portfolio button), and ``with_kept`` gives it back to the same cases in the new rows:

- a case is its client (the client id, else the name), form and period; rows matched first with the
  name too (two people sharing an id keep their own notes), then without it (a name spelled anew keeps
  its note); equal cases (one written twice) in their order;
- the case list's Assigned to (Staff, Owner...) wins over one typed in the Portfolio; where they differ
  the row says so in its issues;
- a case the run no longer has keeps its status, note and own columns on the Closed notes sheet (with
  the date it went missing), which the next refresh reads too: a case that comes back takes them back;
- a previous Portfolio that cannot be read stops the refresh (``NotKept``): nothing typed is lost."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from acsxl.errors import NotKept, UnreadableInput
from acsxl.io.inputs import excel_lock, file_stamp, load_columns
from acsxl.io.reader import value_frame
from acsxl.portfolio.columns import BY_NAME, COLUMNS, NOTES, WORKING, add_problems
from acsxl.xlsx.package import part_head

PORTFOLIO, CLOSED = "Portfolio", "Closed notes"  # the sheets read back (acsxl.portfolio.sheets declares them)
KEY = ("client_id", "client_name", "form", "tax_period")  # a case, as the Portfolio shows it
MISSING_SINCE = "missing_since"
# The Closed notes sheet's columns: when, which case, what was typed, where the case was last seen.
CLOSED_HEADERS = {MISSING_SINCE: "Missing since", "client_name": "Name", "client_id": "Client ID", "form": "Form", "tax_period": "Period",
                  **{name: BY_NAME[name].header for name in WORKING}, "source": "Last source"}
READ = {**{BY_NAME[name].header.casefold(): name for name in (*KEY, *WORKING, "source")},
        CLOSED_HEADERS[MISSING_SINCE].casefold(): MISSING_SINCE, CLOSED_HEADERS["source"].casefold(): "source"}
TEXT_HEADERS = (*(h for name, h in CLOSED_HEADERS.items() if name != MISSING_SINCE), BY_NAME["source"].header)  # read as text
OURS = {h.casefold() for c in (*COLUMNS, NOTES) for h in (c.header, c.name)} - set(READ)  # headers never the user's own
KEPT_WHEN_CLOSED = tuple(name for name in WORKING if name != "assigned_to")  # an assignee alone is not kept for a case gone
DATETIME_TEXT = r"^\d{4}-\d{2}-\d{2} 00:00:00$"  # a date typed into a text column, as a cell read as text gives it
# At the top of the Portfolio sheet acsxl writes: how many rows of it and of the Closed notes sheet hold
# typed values. An application that saves the workbook rewrites the part without it, so where it is
# found the sheets are as acsxl wrote them, and "0" says there is nothing to read back.
TYPED_MARK = "<!--acsxl typed {}-->"
_TYPED = re.compile(rb"<!--acsxl typed (\d+)-->")


@dataclass(frozen=True)
class Kept:
    """What was typed in a previous Portfolio and its Closed notes: one row per row that has any,
    the case's columns as text (``KEY``, ``source``), the working columns as text, the user's own
    columns as typed (``own``, their headers), ``missing_since`` (null: the row was on the Portfolio)."""

    rows: pl.DataFrame
    own: tuple[str, ...] = ()
    stamp: tuple[int, int] | None = None  # the file's when it was read: a later save must not be replaced
    notes: tuple[str, ...] = ()  # how the reading went, when it was not as written (said with the run's notes)


def _user_column(header: str) -> bool:
    return header.casefold() not in OURS and not header.endswith(" (yours)")


def read_kept(path: Path) -> Kept | None:
    """The typed values of the portfolio workbook (or client workbook) at ``path``; None when there is no
    file. Raises NotKept when it is there and cannot be read."""
    try:
        stamp = file_stamp(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise NotKept(f"{path}: cannot be read ({err.strerror or err}); left as it is, so nothing typed in its Portfolio is lost") from None
    mark = _TYPED.search(part_head(path, PORTFOLIO) or b"")
    if mark is not None and int(mark.group(1)) == 0:  # as acsxl wrote it, nothing typed: nothing to read
        return Kept(_empty(()), (), stamp)
    try:
        batches = load_columns(path, (PORTFOLIO, CLOSED), _user_column, as_text=TEXT_HEADERS)
    except UnreadableInput as err:
        raise NotKept(f"{err}; left as it is, so nothing typed in its Portfolio is lost (move it aside to start afresh)") from None
    return _kept({sheet: pl.from_arrow(batch) for sheet, batch in batches.items()}, stamp, path.name)


def kept_from_values(portfolio: Sequence[Sequence[Any]] | None, closed: Sequence[Sequence[Any]] | None, label: str) -> Kept:
    """The typed values of the Portfolio and Closed notes sheets as cell values, headers first (the
    Refresh portfolio button reads them out of the open workbook, saved or not)."""
    frames = {}
    for sheet, values in ((PORTFOLIO, portfolio), (CLOSED, closed)):
        if values and any(c not in (None, "") for c in values[0]):
            frame = value_frame(values, label)
            frames[sheet] = frame.select(c for c in frame.columns if _user_column(c) or c.casefold() in READ)
    return _kept(frames, None, label)


def _as_text(column: pl.Series) -> pl.Series:
    """Cell values as the text a key or working column compares and shows: a whole number without
    ".0" (Excel hands every number as a float), a date as the date."""
    if column.dtype.is_float():
        whole = column.is_not_null() & (column == column.round(0)) & (column.abs() < 1e15)
        return pl.select(pl.when(whole).then(column.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(column.cast(pl.String))).to_series()
    if column.dtype in (pl.Datetime, pl.Date):
        return column.cast(pl.Date).cast(pl.String)
    return column.cast(pl.String)


def _kept(frames: dict[str, pl.DataFrame], stamp: tuple[int, int] | None, label: str) -> Kept:
    parts, own, notes = [], [], []
    for sheet, frame in frames.items():
        named = {c: READ[c.casefold()] for c in frame.columns if c.casefold() in READ}
        if sheet == CLOSED and MISSING_SINCE not in named.values():
            continue  # "No notes of closed cases" (nothing kept yet)
        mine = [c for c in frame.columns if c not in named and frame.get_column(c).is_not_null().any()]  # a header alone keeps nothing
        own.extend(c for c in mine if c not in own)
        text = frame.select(*(_as_text(frame.get_column(c)).alias(name) for c, name in named.items() if name != MISSING_SINCE), *mine)
        if MISSING_SINCE in named.values():
            since = next(c for c, name in named.items() if name == MISSING_SINCE)
            text = text.with_columns(_as_date(frame.get_column(since)).alias(MISSING_SINCE))
        unnamed = {"client_id", "client_name"} <= set(KEY) - set(named.values())
        if unnamed or any(k not in named.values() for k in ("form", "tax_period")):
            notes.append(f"its {sheet} sheet has no {', '.join(BY_NAME[k].header for k in KEY if k not in named.values())} column: "
                         "what is typed there cannot be matched to the cases and goes to the Closed notes sheet")
        parts.append(text.with_columns(pl.lit(sheet == CLOSED).alias("__closed")))
    typed = [*WORKING, *own]
    if not parts:
        return Kept(_empty(own), tuple(own), stamp, tuple(notes))
    rows = pl.concat([_empty(own).with_columns(pl.lit(False).alias("__closed")), *parts], how="diagonal_relaxed")
    text_columns = [c for c in (*KEY, *WORKING, "source") if c in rows.columns]
    rows = rows.with_columns(pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in text_columns)
    rows = rows.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in typed)).sort("__closed", maintain_order=True).drop("__closed")
    return Kept(rows, tuple(own), stamp, tuple(notes))


def _as_date(column: pl.Series) -> pl.Series:
    if column.dtype in (pl.Datetime, pl.Date):
        return column.cast(pl.Date)
    if column.dtype.is_float():  # a date serial (the button's values of a cell formatted as a number)
        return pl.select(pl.lit(date(1899, 12, 30)) + pl.duration(days=column.cast(pl.Int64, strict=False))).to_series()
    return column.cast(pl.String).str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _empty(own: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame(schema={**dict.fromkeys((*KEY, *WORKING, "source"), pl.String), MISSING_SINCE: pl.Date, **dict.fromkeys(own, pl.Null)})


def _norm(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ").replace("", None)


def _keys(frame: pl.DataFrame) -> pl.DataFrame:
    """The columns a case is matched on: client (id, else name), name, form, period; never null."""
    return frame.select(pl.coalesce(_norm("client_id"), pl.lit("\x00name ") + _norm("client_name")).fill_null("").alias("__client"),
                        _norm("client_name").fill_null("").alias("__name"), _norm("form").fill_null("").alias("__form"),
                        _norm("tax_period").fill_null("").alias("__period"))


def _pairs(new: pl.DataFrame, old: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    """(new row, old row) for rows equal on ``on``, the n-th of each group with the n-th."""
    def numbered(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.int_range(pl.len()).over(on).alias("__n"))

    return numbered(new).join(numbered(old), on=[*on, "__n"], how="inner").select("__i", "__o")


def matched(new: pl.DataFrame, old: pl.DataFrame) -> pl.DataFrame:
    """(``__i``, ``__o``): each new row's previous row, first with the name, then the rest without it."""
    new = _keys(new).with_row_index("__i")
    old = _keys(old).with_row_index("__o")
    first = _pairs(new, old, ["__client", "__name", "__form", "__period"])
    rest = _pairs(new.join(first, on="__i", how="anti"), old.join(first, on="__o", how="anti"), ["__client", "__form", "__period"])
    return pl.concat([first, rest])


@dataclass(frozen=True)
class Merged:
    result: pl.DataFrame  # the engine's rows with the working columns (and the user's own Portfolio columns) filled
    closed: pl.DataFrame  # the Closed notes sheet's rows (``CLOSED_HEADERS`` names, then the user's own)
    notes: list[str] = field(default_factory=list)
    typed: int = 0  # rows of the Portfolio and the Closed notes sheet holding typed values (an assignee from a case list is not typed)


def with_kept(result: pl.DataFrame, kept: Kept | None, as_of: date, date_text: str) -> Merged:
    """``result`` (the engine's rows) with what ``kept`` holds given back case by case; the rows of
    ``kept`` no case took on the Closed notes sheet (with the Source they were last seen at), gone
    missing ``as_of`` if they were not there yet. ``date_text``: how a date typed into a text column
    (which a spreadsheet application may have made a date) is written back."""
    if kept is None or kept.rows.height == 0:
        return Merged(result, closed_rows(pl.DataFrame(), (), as_of), list(kept.notes) if kept else [])
    own = [c for c in kept.own if c not in result.columns]  # a column the case lists have too is theirs, refilled from them
    rows = kept.rows.with_columns(pl.when(pl.col(c).str.contains(DATETIME_TEXT)).then(pl.col(c).str.to_date("%Y-%m-%d %H:%M:%S", strict=False)
                                                                                   .dt.to_string(date_text)).otherwise(pl.col(c)).alias(c)
                                  for c in WORKING)
    pairs = matched(result.select(*KEY), rows.select(*KEY))
    old = rows.with_row_index("__o").join(pairs, on="__o", how="left")
    found = (result.with_row_index("__i").select("__i").join(old.filter(pl.col("__i").is_not_null()), on="__i", how="left")
             .sort("__i").select(*KEPT_WHEN_CLOSED, *own, pl.col("assigned_to").alias("__typed")))
    listed = pl.col("assigned_to").cast(pl.String) if "assigned_to" in result.columns else pl.lit(None, pl.String)
    out = pl.concat([result.drop(found.columns, strict=False), found], how="horizontal").with_columns(listed.alias("__listed"))
    typed, listed = pl.col("__typed"), pl.col("__listed")
    differs = listed.is_not_null() & typed.is_not_null() & (listed.str.strip_chars().str.to_lowercase() != typed.str.to_lowercase())
    message = pl.format("'{}' typed in the Portfolio gave way to the case list's '{}' (the case list decides: change it there to keep it)",
                        typed, listed)
    out = add_problems(out, [(differs, "assigned_to", message, typed, "value")])
    # Typed: a status, note or own column, or an assignee where the case list gives none.
    on_portfolio = out.select(pl.any_horizontal(*(pl.col(c).is_not_null() for c in (*KEPT_WHEN_CLOSED, *own)),
                                                typed.is_not_null() & listed.is_null()).sum()).item()
    out = out.with_columns(pl.coalesce(listed, typed).alias("assigned_to")).drop("__typed", "__listed")
    unmatched = old.filter(pl.col("__i").is_null())
    gone = unmatched.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in (*KEPT_WHEN_CLOSED, *own)))
    notes = list(kept.notes)
    dropped = unmatched.height - gone.height
    if dropped:
        notes.append(f"{dropped} case(s) no longer in the case lists had no status, note or column of yours, only an assignee: "
                     "not kept on the Closed notes sheet")
    closed = closed_rows(gone, own, as_of)
    return Merged(out, closed, notes, int(on_portfolio) + closed.height)


def closed_rows(gone: pl.DataFrame, own: Sequence[str], as_of: date) -> pl.DataFrame:
    """The Closed notes sheet's rows: the cases gone, those gone longest first."""
    columns = [*CLOSED_HEADERS, *own]
    if gone.height == 0:
        return pl.DataFrame(schema={c: pl.Date if c == MISSING_SINCE else pl.String for c in columns})
    return (gone.with_columns(pl.col(MISSING_SINCE).fill_null(as_of)).select(columns)
            .sort(MISSING_SINCE, "client_name", "client_id", maintain_order=True, nulls_last=True))


class Reading:
    """A previous portfolio's typed values read on a thread from now on (while the case lists are read
    and triaged); ``result`` waits for them. Raises NotKept there when they could not be read."""

    def __init__(self, path: Path) -> None:
        self._done = threading.Event()
        self._kept: Kept | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._kept = read_kept(path)
            except BaseException as err:  # handed to the caller
                self._error = err
            finally:
                self._done.set()

        threading.Thread(target=run, daemon=True).start()  # daemon: a stopped run does not wait for it

    def result(self) -> Kept | None:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._kept


def unchanged(path: Path, kept: Kept | None) -> None:
    """Raise NotKept when the workbook at ``path`` was saved after its typed values were read, or is open
    in a spreadsheet application (its lock file beside it): replacing it would lose what was typed."""
    if kept is None or kept.stamp is None:
        return
    lock = excel_lock(path)
    if lock is not None:
        raise NotKept(f"{path}: open in a spreadsheet application (lock file {lock.name}); left as it is, so nothing typed in it is "
                      "lost: save and close it, then run again")
    try:
        now = file_stamp(path)
    except OSError:
        now = None
    if now != kept.stamp:
        raise NotKept(f"{path}: saved while this run read it; left as it is, so nothing typed in it is lost: run again")


"""The Portfolio's columns, declared once each: name, header, width, number format, wrap, highlight.
The CSV and Parquet outputs, the Portfolio sheet, ``ACS_TRIAGE`` and the in-place refresh all take
their columns, headers and formats from here. Adding an output column is a rule that makes it
(``acsxl.rules.triage``) plus one ``Column`` below.

Two columns are rendered from data where they are shown: ``issues`` from the ``problems`` the engine
gives back (``field: message; ...``) and ``source`` from ``source_file`` and ``source_row``
(``file, sheet, row N``). Nothing parses either text back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from acsxl.io.reader import Source

MONEY, DATE, WHOLE = "$#,##0.00", "yyyy-mm-dd", "0"


@dataclass(frozen=True)
class Column:
    """How one output column is shown. ``highlight``: values that mark the cell as an alert (a text
    ending in ``*`` is a prefix). ``formula``: a live formula (``{name}`` is that column's cell on the
    same row), stored with the run's value."""

    name: str
    header: str
    width: int = 14  # characters
    number_format: str | None = None
    wrap: bool = False
    highlight: tuple[str, ...] = ()
    formula: str | None = None
    deadline_colours: bool = False  # red when overdue or 7 days or fewer, amber when 30 or fewer
    link: bool = False  # links to the row the case came from
    engine: bool = True  # a column the engine gives back (not rendered here)


COLUMNS: tuple[Column, ...] = (
    Column("rank", "Rank"),
    Column("priority", "Priority"),
    Column("client_id", "Client"),
    Column("client_name", "Name", 24),
    Column("taxpayer_type", "Type"),
    Column("form", "Form"),
    Column("tax_period", "Period"),
    Column("balance", "Balance", number_format=MONEY),
    Column("client_total", "Client total", number_format=MONEY),
    Column("cause", "Cause"),
    Column("cause_reason", "Why", 42, wrap=True),
    Column("stage", "Stage"),
    Column("last_notice", "Last notice"),
    Column("notice_date", "Notice date", number_format=DATE),
    Column("deadline_type", "Deadline"),
    Column("next_deadline", "Next deadline", number_format=DATE),
    Column("days_left", "Days left", number_format=WHOLE, formula='IF({next_deadline}="","",{next_deadline}-TODAY())', deadline_colours=True),
    Column("payroll_risk", "Payroll risk", highlight=("tfrp_*",)),
    Column("passport_risk", "Passport risk", highlight=("certifiable", "certified")),
    Column("ro_risk", "RO risk", highlight=("assigned",)),
    Column("csed", "CSED", number_format=DATE),
    Column("csed_status", "CSED status", highlight=("expired", "short")),
    Column("csed_note", "CSED note", 40, wrap=True),
    Column("next_action", "Next action", 70, wrap=True),
    Column("issues", "Issues", 45, wrap=True, engine=False),
    Column("source", "Source", 30, link=True, engine=False),
)
# Shown after the declared columns when the case lists have it, then the user's own; wrapped, so a long
# note stays in its column (printed, too).
NOTES = Column("notes", "Notes", 30, wrap=True)
BY_NAME = {c.name: c for c in (*COLUMNS, NOTES)}
NAMES = tuple(c.name for c in COLUMNS)
HEADERS = {c.name: c.header for c in (*COLUMNS, NOTES)}
ENGINE_COLUMNS = tuple(c.name for c in (*COLUMNS, NOTES) if c.engine and c.name != "rank")  # what the portfolio asks the engine for
PROVENANCE = ("source_file", "source_row", "problems")


@dataclass(frozen=True)
class Sources:
    """The run's sources, in the order ``source_file`` indexes them."""

    files: Sequence[Source] = field(default_factory=tuple)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {"source_file": list(range(len(self.files))), "label": [s.label for s in self.files],
             "workbook": [str(s.path) for s in self.files], "sheet": [s.sheet for s in self.files],
             "prefix": [", ".join(p for p in (s.label, s.sheet) if p) for s in self.files]},
            schema={"source_file": pl.Int64, "label": pl.String, "workbook": pl.String, "sheet": pl.String, "prefix": pl.String})


def issues_text(problems: pl.Expr) -> pl.Expr:
    """``field: message; field: message`` (null when none)."""
    each = pl.concat_str([pl.element().struct.field("field"), pl.lit(": "), pl.element().struct.field("message")])
    return problems.list.eval(each).list.join("; ")


def source_text(frame: pl.DataFrame, sources: Sources) -> pl.Series:
    """``file, sheet, row N`` (or ``row N`` when the cases came with no file)."""
    prefix = frame.select("source_file").join(sources.frame().select("source_file", "prefix"), on="source_file", how="left",
                                              maintain_order="left").get_column("prefix")
    return frame.select(pl.concat_str([pl.when(prefix.is_not_null()).then(pl.lit(prefix) + ", "), pl.lit("row "),
                                       pl.col("source_row").cast(pl.String)], ignore_nulls=True)).to_series().alias("source")


def own_header(name: str) -> str:
    """A user's own column as shown: its own name, with " (yours)" where that is one of ours
    (ignoring case), so it is kept beside ours, never in place of it."""
    ours = {h.casefold() for c in (*COLUMNS, NOTES) for h in (c.name, c.header)}
    return f"{name} (yours)" if name.casefold() in ours else name


def shown(result: pl.DataFrame, sources: Sources, notes: bool) -> pl.DataFrame:
    """The triaged rows as the user sees them: the declared columns in order (issues and source
    rendered), the notes when the case lists have them, then the user's own columns (renamed where
    they would collide with ours: ``own_header``)."""
    own = [c for c in result.columns if c not in (*ENGINE_COLUMNS, "rank", *PROVENANCE)]
    return result.select(
        *[c for c in NAMES if c not in ("issues", "source")],
        issues_text(pl.col("problems")).alias("issues"), source_text(result, sources),
        *(["notes"] if notes else []), *[pl.col(c).alias(own_header(c)) for c in own])

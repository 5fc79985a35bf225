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
from acsxl.rules.catalogue import LABELS

MONEY, WHOLE = "$#,##0.00", "0"
DATE = "date"  # a date column: the number format is the run's date style's (``acsxl.portfolio.dates``)




@dataclass(frozen=True)
class Column:
    """How one output column is shown. ``width``: the most characters it is given (a column is sized to
    its content, from its header's width up to this). ``labels``: the vocabulary whose labels the
    workbook shows for its codes (``acsxl.rules.catalogue.LABELS``; CSV and Parquet keep the codes).
    ``highlight``: codes that mark the cell as an alert. ``formula``: a live formula (``{name}`` is that
    column's cell on the same row), stored with the run's value. ``technical``: grouped, collapsed at
    first (the + above the sheet opens it)."""

    name: str
    header: str
    width: int = 14  # characters
    number_format: str | None = None
    wrap: bool = False
    labels: str | None = None
    highlight: tuple[str, ...] = ()
    formula: str | None = None
    deadline_colours: bool = False  # overdue, 7 days or fewer, 30 days or fewer: three colours (the Summary's legend)
    lost: tuple[str, ...] = ()  # codes that say a right was already lost: shown as overdue is
    link: bool = False  # links to the row the case came from
    technical: bool = False
    centred: bool = False  # short codes beside a right-aligned amount
    engine: bool = True  # a column the engine gives back (not rendered here)
    working: bool = False  # the user's: typed in the Portfolio and kept, case by case, across refreshes (acsxl.portfolio.working)


# The morning's order: who (rank, name), when (days left, the date, which deadline), what to do, how
# much and which period, where it stands (stage), the user's own status, assignee and note (what was
# done about it, printed with the rest), then the notice, the risks that make it urgent, then why
# (cause), the score and the technical columns, where each row came from and its issues last.
COLUMNS: tuple[Column, ...] = (
    Column("rank", "Rank", 6),
    Column("client_name", "Name", 28),
    Column("days_left", "Days left", 6, number_format=WHOLE, formula='IF({next_deadline}="","",{next_deadline}-TODAY())', deadline_colours=True),
    Column("next_deadline", "Next deadline", 11, number_format=DATE),
    Column("deadline_type", "Deadline", 20, wrap=True, labels="deadline_type", lost=("equivalent_hearing",)),
    Column("next_action", "Next action", 60, wrap=True),
    Column("balance", "Balance", 14, number_format=MONEY),
    Column("form", "Form", 8, centred=True),
    Column("tax_period", "Period", 8, centred=True),
    Column("stage", "Stage", 14, wrap=True, labels="stage"),
    Column("status", "Status", 14, engine=False, working=True),
    Column("assigned_to", "Assigned to", 14, working=True),  # also from the case list (Staff, Owner...): the case list's wins
    Column("note", "Note", 32, wrap=True, engine=False, working=True),
    Column("last_notice", "Last notice", 12, labels="last_notice"),
    Column("notice_date", "Notice date", 11, number_format=DATE),
    Column("payroll_risk", "Payroll risk", 14, labels="payroll_risk", highlight=("tfrp_proposed", "tfrp_assessed")),
    Column("passport_risk", "Passport risk", 16, wrap=True, labels="passport_risk", highlight=("certifiable", "certified")),
    Column("ro_risk", "RO risk", 9, labels="ro_risk", highlight=("assigned",)),
    Column("csed_status", "CSED status", 9, labels="csed_status", highlight=("expired", "short")),
    Column("csed", "CSED", 11, number_format=DATE),
    Column("csed_note", "CSED note", 30, wrap=True),
    Column("cause", "Cause", 18, labels="cause"),
    Column("cause_reason", "Why", 40, wrap=True),
    Column("client_total", "Client total", 14, number_format=MONEY),
    Column("priority", "Priority", 8),
    Column("client_id", "Client ID", 14, technical=True),
    Column("taxpayer_type", "Type", 10, labels="taxpayer_type", technical=True),
    Column("source", "Source", 30, link=True, engine=False),
    Column("issues", "Issues", 45, wrap=True, engine=False),
)
PRINTED_THROUGH = "note"  # the Portfolio's print area: Rank through Note, the working columns
# Shown after the declared columns when the case lists have it, then the user's own; wrapped, so a long
# note stays in its column (printed, too).
NOTES = Column("notes", "Notes", 30, wrap=True)
BY_NAME = {c.name: c for c in (*COLUMNS, NOTES)}
NAMES = tuple(c.name for c in COLUMNS)
WORKING = tuple(c.name for c in COLUMNS if c.working)
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

    def headers(self) -> pl.DataFrame:
        """Each file's headers: (source_file, the canonical column, the header it had in the file, its
        column letters in the sheet where known)."""
        return pl.DataFrame([(i, name, header, dict(s.cells).get(name)) for i, s in enumerate(self.files) for name, header in s.headers],
                            schema={"source_file": pl.Int64, "field": pl.String, "header": pl.String, "letters": pl.String}, orient="row")


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


def labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows with each labelled column's codes as the workbook shows them (``Column.labels``); a code
    without a label (a notice not in the catalogue) as it is."""
    return frame.with_columns(labelled_as(c.name, c.name) for c in COLUMNS if c.labels and c.name in frame.columns)


def labelled_as(column: str, name: str) -> pl.Expr:
    """``name``: a column of the vocabulary of ``column``, as the workbook shows it."""
    return pl.col(name).cast(pl.String).replace(LABELS[BY_NAME[column].labels or ""])


def label(column: str, code: str) -> str:
    """One code of a labelled column as the workbook shows it."""
    vocabulary = BY_NAME[column].labels
    return LABELS[vocabulary].get(code, code) if vocabulary else code


def own_header(name: str) -> str:
    """A user's own column as shown: its own name, with " (yours)" where that is one of ours
    (ignoring case), so it is kept beside ours, never in place of it."""
    ours = {h.casefold() for c in (*COLUMNS, NOTES) for h in (c.name, c.header)}
    return f"{name} (yours)" if name.casefold() in ours else name


def shown(result: pl.DataFrame, sources: Sources, notes: bool) -> pl.DataFrame:
    """The triaged rows as the user sees them: the declared columns in order (issues and source
    rendered), the notes when the case lists have them, then the user's own columns (renamed where
    they would collide with ours: ``own_header``)."""
    own = [c for c in result.columns if c not in (*ENGINE_COLUMNS, *NAMES, *PROVENANCE)]
    return result.select(
        *[source_text(result, sources) if c == "source" else issues_text(pl.col("problems")).alias("issues") if c == "issues"
          else pl.lit(None, pl.String).alias(c) if c not in result.columns else c  # a working column nobody typed in yet
          for c in NAMES],
        *(["notes"] if notes else []), *[pl.col(c).alias(own_header(c)) for c in own])


def add_problems(frame: pl.DataFrame, found: Sequence[tuple[pl.Expr, str, pl.Expr, pl.Expr, str]]) -> pl.DataFrame:
    """``frame`` with a problem added to ``problems`` on each row where one of ``found``'s conditions
    holds: (condition, column it is about, message, value found, kind)."""
    if not found:
        return frame
    problem = frame.schema["problems"]
    added = [pl.when(when).then(pl.concat_list(pl.struct(field=pl.lit(column), message=message, value=value.cast(pl.String), kind=pl.lit(kind))))
             .cast(problem) for when, column, message, value, kind in found]
    every = pl.concat_list([pl.col("problems").fill_null(pl.lit([], problem)), *(a.fill_null(pl.lit([], problem)) for a in added)])
    return frame.with_columns(pl.when(every.list.len() > 0).then(every).otherwise(pl.lit(None, problem)).alias("problems"))

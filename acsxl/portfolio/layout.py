"""The formatted portfolio workbook: the sheets declared in ``acsxl.portfolio.sheets``, laid out here:
Portfolio (the ranked rows as an Excel table, columns as ``acsxl.portfolio.columns`` declares them),
Summary (totals, top 10, clients at risk, a chart) and Issues (every problem and every skipped file).

xlsxwriter (through polars' ``write_excel``) writes the formatting, the tables, the conditional colours,
the chart and the small sheets with only their first data row; the rows, which can number a million,
are then generated column-wise with polars and streamed into the file (``acsxl.xlsx.rows``): live
days-left formulas with cached values and hyperlinks to the source rows included."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from acsxl import __version__
from acsxl.errors import OutputError
from acsxl.portfolio import columns as cols
from acsxl.portfolio.columns import BY_NAME, Sources
from acsxl.portfolio.dates import DATE_STYLES, DEFAULT_DATES, DateStyle
from acsxl.portfolio.sheets import OUTPUT_MARK, SHEETS, Sheet
from acsxl.portfolio.working import CLOSED_HEADERS, TYPED_MARK, Kept, with_kept
from acsxl.rules.catalogue import STAGES
from acsxl.rules.parameters import RULEBOOK
from acsxl.rules.schema import FIELDS
from acsxl.xlsx.package import Package, rels_name
from acsxl.xlsx.rows import Fill, Part, write_with_rows
from acsxl.xlsx.template import hyperlinks, stretched, with_hyperlinks

MAX_LINKS = 65_530  # Excel's limit of hyperlinks per worksheet: the top-ranked rows get them
FROZEN_COLUMNS = 2  # rank, name
ROW_HEIGHT = 30  # the Portfolio's default row height, points: two lines, as most next actions take


def _pixels(characters: int) -> int:
    """polars' column widths are pixels; Excel's default font is about 7 pixels a character."""
    return characters * 7 + 5


@dataclass
class RunInfo:
    as_of: date
    sources: Sources = field(default_factory=Sources)
    skipped: Sequence[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    not_refreshed: Sequence[tuple[str, str]] = field(default_factory=list)  # (path, reason): read, but not refreshed in place
    inside: Path | None = None  # the workbook these sheets are written into, if it is a source: links stay inside
    notes: bool = False  # the case lists have a notes column: shown after the declared columns
    passed_over: Sequence[tuple[str, str]] = field(default_factory=list)  # (path, reason): not case lists (acsxl's own outputs)
    file_problems: Sequence[tuple[str, str]] = field(default_factory=list)  # (path, problem): read, but a column lost
    file_notes: Sequence[tuple[str, str]] = field(default_factory=list)  # (path, note): how a file was read (a total row left out...)
    caveats: Sequence[str] = field(default_factory=list)  # the law the run could not rely on (a yearly amount carried forward)
    date1904: bool = False  # dates in the 1904 date system: the client's workbook they go into uses it (Mac Excel's old default)
    dates: str = DEFAULT_DATES  # the date style (acsxl.portfolio.dates)
    output: Path | None = None  # where the workbook is written: links to the case lists are relative to it where they can be
    kept: Kept | None = None  # what was typed in the Portfolio this one replaces (acsxl.portfolio.working)

    @property
    def date_style(self) -> DateStyle:
        return DATE_STYLES[self.dates]

    def day(self, day: date) -> str:
        """A date as the run's style writes it."""
        return day.strftime(self.date_style.text)


def page_header(sheet: Sheet, run: RunInfo) -> str:
    return sheet.page_header(run.day(run.as_of), RULEBOOK.version)


COLUMN_HEADERS = {**cols.HEADERS, **{f.name: f.header for f in FIELDS}}  # a problem's column, where no file names it
ISSUE_COLUMNS = {"Workbook": 40, "Sheet": 12, "Row": 7, "Column": 16, "Message": 70, "Value found": 24, "Client": 12, "Portfolio rank": 9}


def issue_rows(result: pl.DataFrame, sources: Sources) -> pl.DataFrame:
    """One row per problem: workbook, sheet, row, column (as the file heads it, else as acsxl does),
    message, value found, client, portfolio rank, and (not shown) the source the row came from, for its link."""
    problems = (
        result.filter(pl.col("problems").is_not_null())
        .select("rank", "client_id", "source_file", "source_row", "problems")
        .explode("problems")
        .with_columns(pl.col("problems").struct.field("field").alias("field"))
        .join(sources.frame(), on="source_file", how="left", maintain_order="left")
        .join(sources.headers(), on=["source_file", "field"], how="left", maintain_order="left")
    )
    return problems.select(
        pl.coalesce("workbook", pl.lit("(cases given directly)")).alias("Workbook"), pl.col("sheet").alias("Sheet"),
        pl.col("source_row").alias("Row"), pl.coalesce("header", pl.col("field").replace(COLUMN_HEADERS)).alias("Column"),
        pl.col("problems").struct.field("message").alias("Message"), pl.col("problems").struct.field("value").alias("Value found"),
        pl.col("client_id").cast(pl.String).alias("Client"), pl.col("rank").alias("Portfolio rank"),
        "source_file", "letters", (pl.col("problems").struct.field("kind") == "unverified").alias("unverified"),
    )


@dataclass(frozen=True)
class Book:
    """What the sheets are laid out from: the rows as shown, the engine's rows (problems and where each
    case came from), the Issues sheet's rows, and the run."""

    frame: pl.DataFrame
    result: pl.DataFrame
    issues: pl.DataFrame
    run: RunInfo
    closed: pl.DataFrame  # the Closed notes sheet's rows (acsxl.portfolio.working)


@dataclass(frozen=True)
class Rows:
    """Rows a layout leaves to be streamed in after its first one (``first_row``, 1-based), with the
    live formulas of some columns (``{row}`` where the row number goes) and row heights."""

    frame: pl.DataFrame
    first_row: int = 2
    formulas: Mapping[str, str] = field(default_factory=dict)
    height: pl.Expr | None = None


EXCEL_ROWS = 1_048_576  # rows in an Excel sheet, the header row included
EXCEL_CELL_CHARS = 32_767  # characters an Excel cell holds (Excel specifications and limits)
CUT_MARK = " … [cut: an Excel cell holds 32,767 characters; the whole text is in the source row]"


def _cut(text: pl.Expr) -> pl.Expr:
    """Text longer than a cell holds: its start, then ``CUT_MARK`` (so it is never cut silently)."""
    return (pl.when(text.str.len_chars() > EXCEL_CELL_CHARS)
            .then(text.str.slice(0, EXCEL_CELL_CHARS - len(CUT_MARK)) + pl.lit(CUT_MARK)).otherwise(text))


def _long_text(frame: pl.DataFrame) -> list[str]:
    """The text columns of ``frame`` with a value longer than a cell holds (one pass over them)."""
    text = [c for c, dtype in frame.schema.items() if dtype == pl.String]
    if not text or not frame.height:
        return []
    longest = frame.select(pl.col(c).str.len_chars().max() for c in text).row(0)
    return [c for c, n in zip(text, longest, strict=True) if n is not None and n > EXCEL_CELL_CHARS]


def within_cell_limit(result: pl.DataFrame) -> pl.DataFrame:
    """The rows with every text longer than a cell holds cut (``_cut``), and a problem on each such row
    naming the column, so the Issues sheet and the issues column say it. Nothing to do (the usual
    case): the rows as they are."""
    long = _long_text(result)
    if not long:
        return result
    cut = pl.lit(f"cut at Excel's {EXCEL_CELL_CHARS:,}-character limit; whole in the CSV")  # fits its column
    return cols.add_problems(result, [(pl.col(c).str.len_chars() > EXCEL_CELL_CHARS, c, cut, pl.lit(None, pl.String), "value") for c in long]
                             ).with_columns(_cut(pl.col(c)) for c in long)


def write_portfolio(result: pl.DataFrame, path: Path | BinaryIO, run: RunInfo) -> list[str]:
    """Write the portfolio workbook for the engine's ``result`` to ``path`` or a binary stream (the
    caller makes the write atomic: ``path`` is then a temporary file beside the final one, so links
    relative to its folder hold). Returns what the user should know of what was typed in the
    Portfolio it replaces (``run.kept``), when that did not go back as it was."""
    if isinstance(path, Path) and run.output is None:
        run = replace(run, output=path)
    package, fills, replaced, notes = portfolio_parts(result, run)
    write_with_rows(package, fills, str(path) if isinstance(path, Path) else path, replaced)
    return notes


def portfolio_parts(result: pl.DataFrame, run: RunInfo, into: Callable[[Package], Package] | None = None
                    ) -> tuple[Package, dict[str, Fill], dict[str, Part], list[str]]:
    """The portfolio workbook as a package to write with ``write_with_rows``: the package, the rows to
    stream into its sheets, the parts given new contents, and the notes on what was typed in the
    Portfolio it replaces (given back to the same cases first: ``acsxl.portfolio.working``).

    xlsxwriter writes the workbook with only the first data row of each table (that row fixes each
    column's cell format; the table, conditional formats and panes are set for all rows); the rows are
    then generated column-wise and streamed into the file (acsxl.xlsx.rows). ``into`` puts that small
    workbook's sheets into another package (a client's workbook) before the rows are streamed in, so
    the rows are written once, with the formats that package gives them. The source links need only
    the rows: they are worked out on a thread (polars, off the interpreter lock) while xlsxwriter
    writes, so their relationships are ready to be compressed before the Portfolio's rows."""
    merged = with_kept(result, run.kept, run.as_of, run.date_style.text)
    where = str(run.output or run.inside or "the portfolio")
    run = replace(run, file_notes=[*run.file_notes, *((where, note) for note in merged.notes)])
    result = within_cell_limit(merged.result)
    frame = cols.labelled(cols.shown(result, run.sources, run.notes))
    frame = frame.with_columns(_cut(pl.col(c)) for c in _long_text(frame))  # an issues text of many long problems
    issues = issue_table(result, run)
    issues = issues.with_columns(_cut(pl.col(c)) for c in _long_text(issues))  # a long value found, or a long file reason
    for sheet, rows in (("Portfolio", frame.height), ("Issues", issues.height)):
        if rows >= EXCEL_ROWS:  # Excel would not open it, LibreOffice would drop the rest (issue #23 point 8)
            raise OutputError(f"the {sheet} sheet would have {rows:,} rows, more than an Excel sheet holds ({EXCEL_ROWS - 1:,} under "
                              "its header): write the portfolio as .csv or .parquet, or split the case list")
    with ThreadPoolExecutor(max_workers=1) as side:
        link_column = xl_col_to_name(next(i for i, c in enumerate(frame.columns) if c in BY_NAME and BY_NAME[c].link))
        linking = side.submit(_links, result, "source_row", link_column, run) if frame.height else None
        book = Book(frame, result, issues, run, merged.closed)
        package, streamed = _template(book)
        part = package.sheet_parts()[SHEETS[0].name]
        package.put(part, package.text(part).replace("<worksheet", TYPED_MARK.format(merged.typed) + "<worksheet", 1))
        if into is not None:
            package = into(package)
        links, link_rels = linking.result() if linking else (b"", b"")
    parts = package.sheet_parts()
    fills: dict[str, Fill] = {}
    replaced: dict[str, Part] = {}
    for sheet in SHEETS:
        rows = streamed[sheet.name]
        if rows is not None and rows.frame.height:
            fills[parts[sheet.name]], tables = stretched(package, parts[sheet.name], rows.frame, rows.first_row, rows.formulas, rows.height)
            replaced.update(tables)
    if frame.height:
        part = parts[SHEETS[0].name]
        replaced[part], replaced[rels_name(part)] = with_hyperlinks(package, part, links, link_rels)
    if issues.height:  # each problem's Row links to the row in its workbook
        part = parts["Issues"]
        row_column = xl_col_to_name(list(ISSUE_COLUMNS).index("Row"))
        replaced[part], replaced[rels_name(part)] = with_hyperlinks(package, part, *_links(issues, "Row", row_column, run))
    return package, fills, replaced, merged.notes


def _template(book: Book) -> tuple[Package, dict[str, Rows | None]]:
    """The workbook as xlsxwriter writes it, and each sheet's rows still to stream in."""
    run = book.run
    template = io.BytesIO()
    # Client text is never a formula (xlsxwriter would write "=..." as one: OWASP formula injection, issue #23).
    workbook = xlsxwriter.Workbook(template, {"strings_to_urls": False, "strings_to_formulas": False, "strings_to_numbers": False,
                                              "remove_timezone": True, "in_memory": True, "date_1904": run.date1904})
    workbook.set_properties({
        "title": "acsxl portfolio",
        "subject": f"IRS collection triage as of {run.as_of.isoformat()}",
        "comments": f"acsxl {__version__}, parameters {RULEBOOK.version}, as of {run.as_of.isoformat()}",
    })
    workbook.set_custom_property(OUTPUT_MARK, run.as_of.isoformat())
    workbook.set_custom_property("acsxl parameters", RULEBOOK.version)
    streamed = {sheet.name: globals()[sheet.layout](workbook, workbook.add_worksheet(sheet.name), sheet, book) for sheet in SHEETS}
    workbook.close()
    return Package.read(template.getvalue()), streamed


def _column(name: str) -> cols.Column:
    return BY_NAME.get(name) or cols.Column(name, name)  # the user's own columns: as they are


def portfolio_sheet(workbook: xlsxwriter.Workbook, sheet, declared: Sheet, book: Book) -> Rows | None:
    """The ranked rows as an Excel table, written with their first data row: the template the streamed rows follow."""
    frame, run = book.frame, book.run
    shown = frame.head(1).rename({c: _column(c).header for c in frame.columns})
    col = {c: i for i, c in enumerate(frame.columns)}
    last = frame.height  # last data row (0-based; row 0 is the header)
    columns = [_column(c) for c in frame.columns]
    widths = _widths(frame)
    shown.write_excel(
        workbook,
        worksheet=sheet,
        table_style="Table Style Medium 2",
        table_name="PortfolioTable",
        column_formats={c.header: _cell_format(c, frame.schema[c.name], run) for c in columns},
        dtype_formats={pl.Date: run.date_style.number_format},
        column_widths={c.header: _pixels(widths[c.name]) for c in columns},
        header_format=HEADER_FORMAT,
        freeze_panes=(1, FROZEN_COLUMNS),
        autofit=False,
    )
    _group_technical(sheet, columns, widths)
    print_setup(sheet, declared, run, header_row=True)
    sheet.print_area(0, 0, EXCEL_ROWS - 2, col[cols.PRINTED_THROUGH])  # all but the sheet's last row: "$A$1:$J$1048575", as openpyxl reads it
    sheet.set_default_row(ROW_HEIGHT)  # rows of another height say so (_row_height): fewer bytes to write
    if last == 0:
        return None
    _highlights(workbook, sheet, columns, last)
    _template_link(workbook, sheet, next(i for name, i in col.items() if _column(name).link))
    return Rows(frame, formulas=_formulas(frame), height=_row_heights({c: widths[c] for c in frame.columns if _column(c).wrap}))


def _cell_format(column: cols.Column, dtype: pl.DataType, run: RunInfo) -> dict[str, Any]:
    """A Portfolio column's cells: at the top of the row (beside wrapped text), wrapped or centred as
    declared, numbers and dates in their format (dates in the run's style)."""
    number = run.date_style.number_format if column.number_format == cols.DATE or dtype == pl.Date else column.number_format
    return {"valign": "top", **({"num_format": number} if number else {}), **({"text_wrap": True} if column.wrap else {}),
            **({"align": "center"} if column.centred else {})}


def _widths(frame: pl.DataFrame) -> dict[str, int]:
    """Each column's width in characters: text that does not wrap sized to its longest value, from the
    header's longest word (and the filter button) up to the declared width; the rest as declared."""
    columns = [_column(c) for c in frame.columns]
    least = {c.name: max(len(word) for word in c.header.split()) + 3 for c in columns}
    fitted = [c.name for c in columns if not c.wrap and frame.schema[c.name] == pl.String and c.name in BY_NAME]
    longest = frame.select(pl.col(c).str.len_chars().max() for c in fitted).row(0) if fitted and frame.height else [None] * len(fitted)
    found = dict(zip(fitted, longest, strict=True))
    return {c.name: max(least[c.name], min(c.width, (found[c.name] or 0) + 2)) if c.name in found else max(least[c.name], c.width)
            for c in columns}


def _group_technical(sheet, columns: Sequence[cols.Column], widths: Mapping[str, int]) -> None:
    """The technical columns in a collapsed outline group (the + above them opens it)."""
    technical = [i for i, c in enumerate(columns) if c.technical]
    for i in technical:
        sheet.set_column(i, i, widths[columns[i].name], None, {"level": 1, "hidden": True})
    if technical:
        after = technical[-1] + 1
        if after < len(columns):
            sheet.set_column(after, after, widths[columns[after].name], None, {"collapsed": True})


def _formulas(frame: pl.DataFrame) -> dict[str, str]:
    """The live formulas of the declared columns, ``{name}`` made that column's cell on the row."""
    letters = {c: xl_col_to_name(i) for i, c in enumerate(frame.columns)}
    out = {}
    for name in frame.columns:
        formula = _column(name).formula
        if formula:
            out[name] = re.sub(r"\{(\w+)\}", lambda m: letters[m.group(1)] + "{row}", formula)
    return out


def _height(widths: Mapping[str, int]) -> pl.Expr:
    """Rows tall enough for the wrapped text of the columns ``widths`` names (spreadsheet apps do not
    grow rows written by a library): 15 points a line, up to six lines. The text is measured in bytes:
    counting characters costs far more, and the odd accented letter only errs toward a taller row."""
    lines = pl.max_horizontal((pl.col(c).str.len_bytes().fill_null(0) / (width - 2)).ceil() for c, width in widths.items())
    return lines.clip(1, 6).cast(pl.Int64) * 15


def _row_heights(widths: Mapping[str, int]) -> pl.Expr:
    """A sheet's row heights (``_height`` over the wrapped columns ``widths`` names); null where that is
    the sheet's default height (fewer bytes to write)."""
    height = _height(widths)
    return pl.when(height != ROW_HEIGHT).then(height)


HEADER_FORMAT = {"bold": True, "text_wrap": True, "valign": "top"}  # the header row of the Portfolio's tables


def _worklist(workbook: xlsxwriter.Workbook, sheet, rows: pl.DataFrame, name: str, widths: Mapping[str, int], wrapped: Sequence[str],
              frozen: int, run: RunInfo) -> Rows:
    """A table in the Portfolio's style written with its first row (the template the streamed rows
    follow): every cell at the top of its row, the ``wrapped`` columns wrapped and their rows tall
    enough, the header row and the first ``frozen`` columns frozen."""
    rows.head(1).write_excel(
        workbook, worksheet=sheet, table_style="Table Style Medium 2", table_name=name, freeze_panes=(1, frozen),
        column_widths={c: _pixels(widths[c]) for c in rows.columns},
        column_formats={c: {"valign": "top", **({"text_wrap": True} if c in wrapped else {})} for c in rows.columns},
        dtype_formats={pl.Date: run.date_style.number_format}, header_format=HEADER_FORMAT, autofit=False)
    sheet.set_default_row(ROW_HEIGHT)
    return Rows(rows, height=_row_heights({c: widths[c] for c in wrapped if rows.schema[c] == pl.String}))


OVERDUE = {"bg_color": "#C00000", "font_color": "#FFFFFF", "bold": True}  # overdue, or a right already lost
RED = {"bg_color": "#F8CBAD", "font_color": "#9C0006", "bold": True}  # 0 to 7 days
AMBER = {"bg_color": "#FFE699", "font_color": "#7F6000"}  # 8 to 30 days
ALERT = {"bg_color": "#F4B6C2", "font_color": "#7B0C24", "bold": True}  # a risk that makes the case urgent
# The Summary's legend: each colour with what it says.
LEGEND = ((OVERDUE, "Overdue, or a right already lost (a CDP window missed)"), (RED, "Due in 7 days or fewer"),
          (AMBER, "Due in 8 to 30 days"), (ALERT, "A risk: TFRP, passport, revenue officer, statute"))


def _highlights(workbook: xlsxwriter.Workbook, sheet, columns: Sequence[cols.Column], last: int) -> None:
    overdue, red, amber, alert = (workbook.add_format(f) for f in (OVERDUE, RED, AMBER, ALERT))
    for c, column in enumerate(columns):
        cell = f"{xl_col_to_name(c)}2"
        if column.deadline_colours:
            # Three bands; blank (no deadline) stays plain.
            for criteria, shade in ((f'=AND({cell}<>"",{cell}<0)', overdue), (f'=AND({cell}<>"",{cell}>=0,{cell}<=7)', red),
                                    (f'=AND({cell}<>"",{cell}>7,{cell}<=30)', amber)):
                sheet.conditional_format(1, c, last, c, {"type": "formula", "criteria": criteria, "format": shade})
        for codes, shade in ((column.lost, overdue), (column.highlight, alert)):
            for code in codes:  # on the label the cell shows
                sheet.conditional_format(1, c, last, c, {"type": "cell", "criteria": "==", "value": _quoted(cols.label(column.name, code)),
                                                         "format": shade})


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _template_link(workbook: xlsxwriter.Workbook, sheet, column: int) -> None:
    """Give a link column the link look (the links themselves are written with the rows)."""
    sheet.write_url(1, column, "internal:A1", workbook.add_format({"font_color": "#0563C1", "underline": 1, "valign": "top"}), string="-")


def _links(rows: pl.DataFrame, row: str, column: str, run: RunInfo) -> tuple[memoryview | bytes, memoryview | bytes]:
    """Links in ``column`` of a sheet of ``rows`` (from its second row), each to the row named in ``row``
    of the workbook its ``source_file`` is (inside this workbook when written into it), at the cell of
    the column ``letters`` names where ``rows`` has them (an issue's own cell); the first rows only, as
    Excel allows."""
    cells = rows.head(MAX_LINKS).select(pl.int_range(2, pl.len() + 2).alias("at"), pl.col("source_file").alias("key"), pl.col(row).alias("row"),
                                        *(["letters"] if "letters" in rows.columns else []))
    inside = run.inside.resolve() if run.inside else None
    # Only the files these rows came from (one, for a workbook refreshed in place): resolving every
    # file of the run for each workbook made a folder refresh quadratic (issue #23).
    keys = cells.get_column("key").drop_nulls().unique().sort().to_list()
    files = [run.sources.files[k] for k in keys]
    targets = pl.DataFrame(
        {"key": keys,
         "uri": [None if s.path.resolve() == inside else link_target(s.path, run.output)[0] for s in files],
         "sheet": [s.sheet for s in files]},
        schema={"key": pl.Int64, "uri": pl.String, "sheet": pl.String})
    return hyperlinks(cells, targets.with_columns(pl.col("key").cast(cells.schema["key"])), column)


def link_target(path: Path, output: Path | None) -> tuple[str, bool]:
    """A link to the case list at ``path`` from a workbook written at ``output``, and whether it is
    relative: relative (``../clients/a.xlsx``) when the two share a folder below the file system's root
    or drive, so the links still work when the folder is shared or moved as a whole; else absolute (a
    ``file:`` address that holds only on this machine)."""
    target = path.resolve()
    if output is not None:
        folder = output.resolve().parent
        try:
            common = Path(os.path.commonpath([target, folder]))
        except ValueError:  # another drive
            common = None
        if common is not None and common != Path(common.anchor):
            return quote(Path(os.path.relpath(target, folder)).as_posix()), True
    return target.as_uri(), False


def absolute_links(run: RunInfo) -> list[str]:
    """The case lists the portfolio can only link to by absolute address (see ``link_target``)."""
    inside = run.inside.resolve() if run.inside else None
    return [str(s.path) for s in run.sources.files if s.path.resolve() != inside and not link_target(s.path, run.output)[1]]


SUMMARY_WIDTHS = (30, 10, 14, 12, 14, 22, 8, 8, 55, 14)  # characters: each block's first columns are its labels, counts, amounts
OVERDUE_SHOWN = 25  # rows of the overdue list on the Summary (the Portfolio has them all)
WEEKS = 8  # the deadlines-per-week chart's weeks


def _week_table(result: pl.DataFrame, run: RunInfo) -> pl.DataFrame:
    """Deadlines per calendar week (Monday to Sunday) for the next ``WEEKS`` weeks from the week of the
    as-of date: those that lose a right when missed (``priority.right_deadlines``) and the others."""
    monday = run.as_of - timedelta(days=run.as_of.weekday())
    weeks = pl.DataFrame({"week": [monday + timedelta(weeks=k) for k in range(WEEKS)]})
    rights = list(RULEBOOK.at(run.as_of).priority.right_deadlines)
    due = (result.filter(pl.col("next_deadline") >= run.as_of)
           .select(pl.col("next_deadline").dt.truncate("1w").alias("week"),
                   pl.col("deadline_type").cast(pl.String).is_in(rights).alias("right")))
    counted = due.group_by("week").agg(pl.col("right").sum().alias("right"), (~pl.col("right")).sum().alias("other"))
    return (weeks.join(counted, on="week", how="left").fill_null(0)
            .select(pl.col("week").dt.to_string(run.date_style.text).alias("Week of (Monday)"),
                    pl.col("right").cast(pl.Int64).alias("A right at stake"), pl.col("other").cast(pl.Int64).alias("Other deadlines")))


def _case_list(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of the Portfolio as the Summary's lists show them (columns as ``SUMMARY_WIDTHS`` sizes them)."""
    return frame.select(pl.col("client_name").alias("Name"), pl.col("rank").alias("Rank"), pl.col("balance").alias("Balance"),
                        pl.col("days_left").alias("Days left"), pl.col("next_deadline").alias("Next deadline"),
                        pl.col("deadline_type").alias("Deadline"), pl.col("form").alias("Form"), pl.col("tax_period").alias("Period"),
                        pl.col("next_action").alias("Next action"), pl.col("assigned_to").alias("Assigned to"))


def summary_sheet(workbook: xlsxwriter.Workbook, sheet, declared: Sheet, book: Book) -> Rows | None:
    """The day on one sheet: the colours' legend, the deadline windows, stages in collection order,
    causes, deadlines per week (table and chart), the top 10, the overdue or lost rows, and the clients
    at passport or TFRP risk, that last block with only its first row (it can run to thousands: the rest
    is streamed in). Grouped by the labels the Portfolio shows; filtered on the engine's codes."""
    frame, result, run = book.frame, book.result, book.run
    print_setup(sheet, declared, run, header_row=False)
    title = workbook.add_format({"bold": True, "font_size": 14})
    heading = workbook.add_format({"bold": True, "font_size": 11, "bottom": 1})
    sheet.write(0, 0, f"Portfolio as of {run.day(run.as_of)}", title)
    sheet.write(1, 0, f"{frame.height} rows, {frame.get_column('client_id').n_unique()} clients; "
                      f"acsxl {__version__}, parameters {RULEBOOK.version}")
    if run.caveats:  # said once for the run, beside the rows that used it (their issues)
        sheet.write(2, 0, "Unverified: " + "; ".join(run.caveats), workbook.add_format({"bold": True, "font_color": "#9C0006"}))
    absolute = absolute_links(run)
    if absolute:
        sheet.write(3, 0, f"Source links to {len(absolute)} file(s) are absolute: they work on this machine only (the portfolio is not in a "
                          "folder the case lists share)")
    for i, width in enumerate(SUMMARY_WIDTHS):
        sheet.set_column(i, i, width)
    money, day = "$#,##0.00", run.date_style.number_format

    def block(row: int, name: str, key: str, table: pl.DataFrame, formats: Mapping[str, str] | None = None,
              wrapped: Sequence[str] = ()) -> int:
        """A titled table, every cell at the top of its row, the ``wrapped`` columns wrapped; its name
        (Summary + key) is unique in any workbook it is written into."""
        sheet.write(row, 0, name, heading)
        if table.height == 0:
            sheet.write(row + 1, 0, "None.")
            return row + 3
        shown = {**{"Balance": money}, **(formats or {})}
        column_formats = {c: {"valign": "top", **({"num_format": shown[c]} if c in shown else {}), **({"text_wrap": True} if c in wrapped else {})}
                          for c in table.columns}
        table.write_excel(workbook, worksheet=sheet, position=(row + 1, 0), table_style="Table Style Light 9", table_name=f"Summary{key}",
                          column_formats=column_formats, dtype_formats={pl.Date: day}, autofit=False, autofilter=False,
                          header_format={"bold": True, "text_wrap": True, "valign": "bottom"})
        if any(len(c) > SUMMARY_WIDTHS[i] for i, c in enumerate(table.columns)):
            sheet.set_row(row + 1, 30)  # a header on two lines
        return row + table.height + 3

    row = 4
    sheet.write(row, 0, "Colours on the Portfolio", heading)
    for i, (colour, meaning) in enumerate(LEGEND, start=1):
        sheet.merge_range(row + i, 0, row + i, 2, meaning, workbook.add_format(colour))
    row += len(LEGEND) + 2

    # Balances to the cent: a sum's last bits depend on the order polars' threads add in.
    counted = (pl.len().alias("Rows"), pl.col("balance").sum().round(2).alias("Balance"))
    days = pl.col("days_left")
    window = (pl.when(days.is_null()).then(pl.lit("No deadline")).when(days < 0).then(pl.lit("Overdue"))
              .when(days <= 7).then(pl.lit("Due in 0-7 days")).when(days <= 30).then(pl.lit("Due in 8-30 days"))
              .otherwise(pl.lit("Due in more than 30 days")))
    order = ["Overdue", "Due in 0-7 days", "Due in 8-30 days", "Due in more than 30 days", "No deadline"]
    windows = (frame.group_by(window.alias("Deadline window")).agg(*counted)
               .with_columns(pl.col("Deadline window").cast(pl.Enum(order))).sort("Deadline window")
               .with_columns(pl.col("Deadline window").cast(pl.String)))
    stages = [cols.label("stage", code) for code in STAGES] + ["(none)"]  # the collection sequence (catalogue.STAGES)
    by_stage = (frame.group_by(pl.col("stage").fill_null("(none)").alias("Stage")).agg(*counted)
                .with_columns(pl.col("Stage").cast(pl.Enum(stages))).sort("Stage").with_columns(pl.col("Stage").cast(pl.String)))
    by_cause = (frame.group_by(pl.col("cause").fill_null("(none)").alias("Cause")).agg(*counted)
                .sort(["Balance", "Cause"], descending=[True, False]))  # the name breaks ties: group_by's order is not stable
    weeks = _week_table(result, run)
    assignee = pl.col("assigned_to").fill_null("(unassigned)")
    by_assignee = (frame.group_by(assignee.alias("Assigned to"))
                   .agg(*counted, *((window == name).sum().alias(name) for name in order[:3]),
                        window.is_in(order[3:]).sum().alias("Later or none"))
                   .sort(pl.col("Assigned to") == "(unassigned)", "Assigned to"))
    chart_row = row
    row = block(row, "By deadline window", "ByWindow", windows)
    row = block(row, "By stage, in collection order", "ByStage", by_stage)
    row = block(row, "By cause", "ByCause", by_cause)
    week_row = row
    row = block(row, f"Deadlines per week, next {WEEKS} weeks", "ByWeek", weeks, {})
    if frame.get_column("assigned_to").is_not_null().any():
        row = block(row, "By assignee", "ByAssignee", by_assignee)
    else:
        sheet.write(row, 0, "By assignee", heading)
        sheet.write(row + 1, 0, "No case is assigned yet: type a name in the Portfolio's Assigned to column, or add an Assigned to "
                                "(or Staff) column to the case list.")
        row += 3

    chart = workbook.add_chart({"type": "column", "subtype": "stacked"})
    for k, colour in enumerate((OVERDUE["bg_color"], AMBER["bg_color"]), start=1):  # the series' names are the table's headers
        chart.add_series({"name": [declared.name, week_row + 1, k], "categories": [declared.name, week_row + 2, 0, week_row + 1 + WEEKS, 0],
                          "values": [declared.name, week_row + 2, k, week_row + 1 + WEEKS, k], "fill": {"color": colour}})
    chart.set_title({"name": f"Deadlines per week, next {WEEKS} weeks"})
    chart.set_legend({"position": "bottom"})
    chart.set_y_axis({"name": "Rows", "major_gridlines": {"visible": True}})
    sheet.insert_chart(chart_row, 3, chart, {"x_scale": 1.6, "y_scale": 1.3})

    lists = ("Deadline", "Next action")
    top = _case_list(frame.head(10))
    row = block(row, "Top 10 by priority", "Top10", top, wrapped=lists)
    _list_heights(sheet, top, row - top.height - 1)
    lost = BY_NAME["deadline_type"].lost  # a right already lost, as the Portfolio colours it
    overdue = frame.filter(result.select((pl.col("days_left") < 0) | pl.col("deadline_type").cast(pl.String).is_in(lost)).to_series())
    shown = _case_list(overdue.head(OVERDUE_SHOWN))
    more = f" (the first {OVERDUE_SHOWN} by rank; the Portfolio has them all)" if overdue.height > OVERDUE_SHOWN else ""
    row = block(row, f"Overdue, or a right already lost: {overdue.height} rows{more}", "Overdue", shown, wrapped=lists)
    _list_heights(sheet, shown, row - shown.height - 1)

    at_risk = (
        result.filter(pl.col("passport_risk").is_in(["certified", "certifiable", "at_risk"]) | pl.col("payroll_risk").cast(pl.String).str.starts_with("tfrp_"))
        .group_by(pl.col("client_id").alias("Client ID"))
        .agg(pl.col("client_name").first().alias("Name"), pl.col("client_total").first().alias("Client total"),
             pl.col("passport_risk").filter(pl.col("passport_risk") != "none").first().alias("Passport risk"),
             pl.col("payroll_risk").filter(pl.col("payroll_risk").cast(pl.String).str.starts_with("tfrp_")).first().alias("TFRP"))
        .sort(["Client total", "Client ID"], descending=[True, False])  # the id breaks ties: the same output every run
        .select("Name", "Client ID", "Client total", cols.labelled_as("passport_risk", "Passport risk"), cols.labelled_as("payroll_risk", "TFRP"))
    )
    block(row, "Clients at passport or TFRP risk", "AtRisk", at_risk.head(1), {"Client total": money}, wrapped=("Name",))
    return Rows(at_risk, row + 3)  # 1-based: the heading is on row + 1, the table's header on row + 2


def _list_heights(sheet, table: pl.DataFrame, first: int) -> None:
    """Rows of a Summary list tall enough for their wrapped deadline and next action (0-based ``first`` data row)."""
    heights = table.select(_height({c: SUMMARY_WIDTHS[table.columns.index(c)] for c in ("Deadline", "Next action")})).to_series()
    for i, height in enumerate(heights):
        sheet.set_row(first + i, height)


def issue_table(result: pl.DataFrame, run: RunInfo) -> pl.DataFrame:
    """The Issues sheet's rows as a worklist: by workbook, sheet and row, a file's own problems (skipped,
    not refreshed, a column lost) before its rows'; the notes that a row used an unverified amount after
    all the problems to fix, in the same order. ``source_file`` and ``letters`` (for the links) and ``unverified`` are
    dropped before the sheet is written."""
    issues = issue_rows(result, run.sources)
    kinds = (("(file skipped)", run.skipped), ("(file problem)", run.file_problems), ("(not refreshed)", run.not_refreshed),
             ("(not a case list)", run.passed_over), ("(note)", run.file_notes))
    files = pl.DataFrame(
        {"Workbook": [p for _, found in kinds for p, _ in found], "Message": [r for _, found in kinds for _, r in found],
         "Column": [kind for kind, found in kinds for _ in found]},
        schema={"Workbook": pl.String, "Message": pl.String, "Column": pl.String})
    return (pl.concat([files, issues], how="diagonal_relaxed").select(issues.columns)
            .with_columns(pl.col("unverified").fill_null(False))
            .sort(["unverified", "Workbook", "Sheet", "Row"], nulls_last=False, maintain_order=True))


PAGE_FOOTER = "&L&8&F, &A&R&8Page &P of &N"  # the file and sheet on the left, page X of Y on the right


def print_setup(sheet, declared: Sheet, run: RunInfo, header_row: bool) -> None:
    """How a sheet prints: its header (acsxl's mark, the as-of date), a footer with the file, the sheet and
    page X of Y, landscape on Letter, one page wide; the header row on every page when it has one (in
    a client's workbook too: ``acsxl.xlsx.merge.with_print_names``)."""
    sheet.set_header(page_header(declared, run))
    sheet.set_footer(PAGE_FOOTER)
    sheet.set_landscape()
    sheet.set_paper(1)  # Letter
    sheet.fit_to_pages(1, 0)
    if header_row:
        sheet.repeat_rows(0)


def issues_sheet(workbook: xlsxwriter.Workbook, sheet, declared: Sheet, book: Book) -> Rows | None:
    """Every problem and every file skipped, with its first row (the template the streamed rows follow):
    headers as the Portfolio's, the Row cells linking to the row in its workbook."""
    rows, run = book.issues.drop("source_file", "letters", "unverified"), book.run
    print_setup(sheet, declared, run, header_row=rows.height > 0)
    if rows.height == 0:
        sheet.write(0, 0, "No problems found.")
        return None
    table = _worklist(workbook, sheet, rows, "IssuesTable", ISSUE_COLUMNS, ("Workbook", "Message", "Value found"), 0, run)
    _template_link(workbook, sheet, list(ISSUE_COLUMNS).index("Row"))
    return table


CLOSED_WIDTHS = {"Missing since": 11, "Name": 28, "Client ID": 12, "Form": 8, "Period": 8, "Status": 14, "Assigned to": 14, "Note": 50,
                 "Last source": 40}
CLOSED_EMPTY = ("No notes of closed cases. When a case leaves the case lists, what was typed in its Status, Note and your own "
                "Portfolio columns is kept here, and goes back to the Portfolio if the case returns.")


def closed_sheet(workbook: xlsxwriter.Workbook, sheet, declared: Sheet, book: Book) -> Rows | None:
    """The cases gone from the case lists with what was typed for them (``acsxl.portfolio.working``):
    a table the next refresh reads back, rows the user may delete once done with them."""
    rows, run = book.closed.rename(CLOSED_HEADERS, strict=False), book.run
    print_setup(sheet, declared, run, header_row=rows.height > 0)
    if rows.height == 0:
        sheet.write(0, 0, CLOSED_EMPTY)
        return None
    wrapped = [c for c in rows.columns if c in ("Name", "Note", "Last source") or c not in CLOSED_WIDTHS]  # the user's own columns wrap
    return _worklist(workbook, sheet, rows, "ClosedNotesTable", {c: CLOSED_WIDTHS.get(c, 20) for c in rows.columns}, wrapped, 2, run)

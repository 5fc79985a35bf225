"""The formatted portfolio workbook: Portfolio (the ranked rows as an Excel table), Summary (totals,
top 10, clients at risk, a chart) and Issues (every row-level problem and every skipped file).

Written with xlsxwriter through polars' ``write_excel`` for the bulk data; the few things polars does
not do (live days-left formulas with cached values, hyperlinks to the source workbook, conditional
colours on text, the chart) are added on the same worksheet objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from acsxl import __version__
from acsxl.rules.parameters import RULEBOOK

# Human headers.
HEADERS = {
    "rank": "Rank", "priority": "Priority", "client_id": "Client", "client_name": "Name", "taxpayer_type": "Type",
    "form": "Form", "tax_period": "Period", "balance": "Balance", "client_total": "Client total", "cause": "Cause",
    "cause_reason": "Why", "stage": "Stage", "last_notice": "Last notice", "notice_date": "Notice date",
    "deadline_type": "Deadline", "next_deadline": "Next deadline", "days_left": "Days left", "payroll_risk": "Payroll risk",
    "passport_risk": "Passport risk", "ro_risk": "RO risk", "csed": "CSED", "next_action": "Next action",
    "issues": "Issues", "source": "Source", "notes": "Notes",
}
MAX_LINKS = 65_530  # Excel's limit of hyperlinks per worksheet: the top-ranked rows get them
RED, AMBER = {"bg_color": "#F8CBAD", "font_color": "#9C0006"}, {"bg_color": "#FFE699", "font_color": "#7F6000"}
ALERT = {"bg_color": "#F4B6C2", "font_color": "#7B0C24", "bold": True}
WIDTHS = {"next_action": 70, "cause_reason": 42, "issues": 45, "source": 30, "client_name": 24, "notes": 30}
FROZEN_COLUMNS = 3  # rank, priority, client


def _pixels(characters: int) -> int:
    """polars' column widths are pixels; Excel's default font is about 7 pixels a character."""
    return characters * 7 + 5


@dataclass
class SourceFile:
    """Where rows came from: the label used in the ``source`` column, its sheet and its path."""

    label: str
    path: Path
    sheet: str | None = None

    @property
    def prefix(self) -> str:
        return f"{self.label}, {self.sheet}" if self.sheet else self.label


@dataclass
class RunInfo:
    as_of: date
    sources: Sequence[SourceFile] = ()
    skipped: Sequence[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    not_refreshed: Sequence[tuple[str, str]] = field(default_factory=list)  # (path, reason): read, but not refreshed in place
    inside: Path | None = None  # the workbook these sheets are written into, if it is a source: links stay inside


def page_header(title: str, run: RunInfo) -> str:
    """The printed page header; its 'acsxl' also marks the sheet as ours (see acsxl.io.inplace)."""
    return f"&L&\"-,Bold\"acsxl {title}&C as of {run.as_of.isoformat()}&R parameters {RULEBOOK.version}"


def source_parts() -> tuple[pl.Expr, pl.Expr]:
    """'file, sheet, row 12' (or 'file, row 12') -> prefix 'file, sheet' and row 12 (see SourceFile.prefix)."""
    return (pl.col("source").str.extract(r"^(.*), row \d+$", 1).alias("prefix"),
            pl.col("source").str.extract(r", row (\d+)$", 1).cast(pl.Int64, strict=False).alias("row"))


def issue_rows(frame: pl.DataFrame, sources: Sequence[SourceFile]) -> pl.DataFrame:
    """One row per problem: workbook, sheet, row, column, message, value found."""
    known = pl.DataFrame(
        {"prefix": [s.prefix for s in sources], "workbook": [str(s.path) for s in sources], "sheet": [s.sheet for s in sources]},
        schema={"prefix": pl.String, "workbook": pl.String, "sheet": pl.String},
    )
    rows = (
        frame.filter(pl.col("issues").is_not_null())
        .select("rank", "client_id", "source", pl.col("issues").str.split("; ").alias("issue"))
        .explode("issue")
        .with_columns(
            *source_parts(),
            pl.col("issue").str.extract(r"^([^:]+): ", 1).alias("column"),
            pl.col("issue").str.replace(r"^[^:]+: ", "").alias("message"),
            pl.col("issue").str.extract(r'"(.*)"', 1).alias("value found"),
        )
        .join(known, on="prefix", how="left", maintain_order="left")
    )
    return rows.select(
        pl.coalesce("workbook", "prefix").alias("workbook"), "sheet", "row", "column", "message", "value found",
        pl.col("client_id").alias("client"), pl.col("rank").alias("portfolio rank"),
    )


def write_portfolio(frame: pl.DataFrame, path: Path | BinaryIO, run: RunInfo) -> None:
    """Write the portfolio workbook to ``path`` or a binary stream (the caller makes the write atomic)."""
    target = str(path) if isinstance(path, Path) else path
    workbook = xlsxwriter.Workbook(target, {"strings_to_urls": False, "remove_timezone": True, "in_memory": True})
    workbook.set_properties({
        "title": "acsxl portfolio",
        "subject": f"IRS collection triage as of {run.as_of.isoformat()}",
        "comments": f"acsxl {__version__}, parameters {RULEBOOK.version}, as of {run.as_of.isoformat()}",
    })
    workbook.set_custom_property("acsxl as-of", run.as_of.isoformat())
    workbook.set_custom_property("acsxl parameters", RULEBOOK.version)
    _portfolio_sheet(workbook, frame, run)
    _summary_sheet(workbook, frame, run)
    _issues_sheet(workbook, issue_rows(frame, run.sources), run)
    workbook.close()


def _portfolio_sheet(workbook: xlsxwriter.Workbook, frame: pl.DataFrame, run: RunInfo) -> None:
    sheet = workbook.add_worksheet("Portfolio")
    shown = frame.rename({c: HEADERS.get(c, c) for c in frame.columns})
    col = {c: i for i, c in enumerate(frame.columns)}
    last = frame.height  # last data row (0-based; row 0 is the header)
    wrap = {"text_wrap": True, "valign": "top"}
    shown.write_excel(
        workbook,
        worksheet=sheet,
        table_style="Table Style Medium 2",
        table_name="PortfolioTable",
        column_formats={
            **{HEADERS[c]: "$#,##0.00" for c in ("balance", "client_total")},
            **{HEADERS[c]: "yyyy-mm-dd" for c in ("notice_date", "next_deadline", "csed")},
            HEADERS["days_left"]: "0",
            **{HEADERS[c]: wrap for c in ("next_action", "cause_reason", "issues") if c in col},
        },
        dtype_formats={pl.Date: "yyyy-mm-dd"},
        column_widths={HEADERS.get(c, c): _pixels(WIDTHS.get(c, 14)) for c in frame.columns},
        header_format={"bold": True, "text_wrap": True, "valign": "top"},
        freeze_panes=(1, FROZEN_COLUMNS),
        autofit=False,
    )
    sheet.set_header(page_header("portfolio", run))
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    if last == 0:
        return
    _row_heights(sheet, frame)
    _live_days_left(workbook, sheet, frame, col)
    _highlights(workbook, sheet, frame, col, last)
    _source_links(workbook, sheet, frame, col, run)


def _row_heights(sheet, frame: pl.DataFrame) -> None:
    """Rows tall enough for the wrapped text (spreadsheet apps do not grow rows written by a library)."""
    wrapped = [c for c in ("next_action", "cause_reason", "issues") if c in frame.columns]
    lines = frame.select(pl.max_horizontal(
        (pl.col(c).fill_null("").str.len_chars() / (WIDTHS[c] - 2)).ceil() for c in wrapped).clip(1, 6).cast(pl.Int64))
    for i, n in enumerate(lines.to_series().to_list(), start=1):
        if n > 1:
            sheet.set_row(i, 15 * n)


def _live_days_left(workbook: xlsxwriter.Workbook, sheet, frame: pl.DataFrame, col: Mapping[str, int]) -> None:
    """Days left = next deadline - TODAY(), a live formula written with its value as of the run."""
    deadline = xl_col_to_name(col["next_deadline"])
    number = workbook.add_format({"num_format": "0"})
    where = col["days_left"]
    for i, days in enumerate(frame.get_column("days_left").to_list(), start=1):
        cell = f"{deadline}{i + 1}"
        sheet.write_formula(i, where, f'=IF({cell}="","",{cell}-TODAY())', number, "" if days is None else days)


def _highlights(workbook: xlsxwriter.Workbook, sheet, frame: pl.DataFrame, col: Mapping[str, int], last: int) -> None:
    red, amber, alert = workbook.add_format(RED), workbook.add_format(AMBER), workbook.add_format(ALERT)
    days = col["days_left"]
    cell = f"{xl_col_to_name(days)}2"
    # Overdue or 7 days or fewer: red; 30 days or fewer: amber. Blank (no deadline) stays plain.
    sheet.conditional_format(1, days, last, days, {"type": "formula", "criteria": f'=AND({cell}<>"",{cell}<=7)', "format": red})
    sheet.conditional_format(1, days, last, days, {"type": "formula", "criteria": f'=AND({cell}<>"",{cell}>7,{cell}<=30)', "format": amber})
    for name, kind, values in (
        ("passport_risk", "cell", ("certifiable", "certified")),
        ("payroll_risk", "begins", ("tfrp_",)),
        ("ro_risk", "cell", ("assigned",)),
    ):
        c = col[name]
        for value in values:
            rule = ({"type": "text", "criteria": "begins with", "value": value} if kind == "begins"
                    else {"type": "cell", "criteria": "==", "value": f'"{value}"'})
            sheet.conditional_format(1, c, last, c, {**rule, "format": alert})


def _source_links(workbook: xlsxwriter.Workbook, sheet, frame: pl.DataFrame, col: Mapping[str, int], run: RunInfo) -> None:
    """The source cell links to the row in the workbook it came from (inside this one when written into it)."""
    by_prefix = {s.prefix: s for s in run.sources}
    inside = run.inside.resolve() if run.inside else None
    if not by_prefix:
        return
    link = workbook.add_format({"font_color": "#0563C1", "underline": 1})
    where = col["source"]
    parts = frame.head(MAX_LINKS).select(
        "source",
        *source_parts(),
    )
    for i, (text, prefix, row) in enumerate(parts.iter_rows(), start=1):
        source = by_prefix.get(prefix)
        if source is None or row is None:
            continue
        if source.path.resolve() == inside and source.sheet:
            target = f"internal:'{source.sheet}'!A{row}"
        else:
            target = f"external:{source.path.resolve()}" + (f"#'{source.sheet}'!A{row}" if source.sheet else "")
        sheet.write_url(i, where, target, link, string=text)


def _summary_sheet(workbook: xlsxwriter.Workbook, frame: pl.DataFrame, run: RunInfo) -> None:
    sheet = workbook.add_worksheet("Summary")
    sheet.set_header(page_header("summary", run))
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    title = workbook.add_format({"bold": True, "font_size": 14})
    heading = workbook.add_format({"bold": True, "font_size": 11, "bottom": 1})
    sheet.write(0, 0, f"Portfolio as of {run.as_of.isoformat()}", title)
    sheet.write(1, 0, f"{frame.height} rows, {frame.get_column('client_id').n_unique()} clients; "
                      f"acsxl {__version__}, parameters {RULEBOOK.version}")
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 8, 14)
    money = {"Balance": "$#,##0.00"}

    def block(row: int, name: str, key: str, table: pl.DataFrame, formats: Mapping[str, str] | None = None) -> int:
        """A titled table; its name (Summary + key) is unique in any workbook it is written into."""
        sheet.write(row, 0, name, heading)
        table.write_excel(workbook, worksheet=sheet, position=(row + 1, 0), table_style="Table Style Light 9", table_name=f"Summary{key}",
                          column_formats=dict(formats or money), autofit=False, autofilter=False)
        return row + table.height + 3

    def by(column: str, label: str) -> pl.DataFrame:
        return (frame.group_by(pl.col(column).fill_null("(none)").alias(label))
                .agg(pl.len().alias("Rows"), pl.col("balance").sum().alias("Balance"))
                .sort("Balance", descending=True))

    window = (
        pl.when(pl.col("days_left").is_null()).then(pl.lit("no deadline"))
        .when(pl.col("days_left") < 0).then(pl.lit("overdue"))
        .when(pl.col("days_left") <= 7).then(pl.lit("this week (0-7 days)"))
        .when(pl.col("days_left") <= 30).then(pl.lit("this month (8-30 days)"))
        .otherwise(pl.lit("later"))
    )
    order = ["overdue", "this week (0-7 days)", "this month (8-30 days)", "later", "no deadline"]
    windows = (frame.group_by(window.alias("Deadline window")).agg(pl.len().alias("Rows"), pl.col("balance").sum().alias("Balance"))
               .with_columns(pl.col("Deadline window").cast(pl.Enum(order))).sort("Deadline window")
               .with_columns(pl.col("Deadline window").cast(pl.String)))
    causes = by("cause", "Cause")
    row = 3
    cause_row = row
    row = block(row, "By cause", "ByCause", causes)
    row = block(row, "By stage", "ByStage", by("stage", "Stage"))
    row = block(row, "By deadline window", "ByWindow", windows)
    top = frame.head(10).select(
        pl.col("rank").alias("Rank"), pl.col("priority").alias("Priority"), pl.col("client_id").alias("Client"),
        pl.col("client_name").alias("Name"), pl.col("form").alias("Form"), pl.col("tax_period").alias("Period"),
        pl.col("deadline_type").alias("Deadline"), pl.col("next_deadline").alias("Next deadline"),
        pl.col("days_left").alias("Days left"), pl.col("next_action").alias("Next action"))
    row = block(row, "Top 10 by priority", "Top10", top, {"Next deadline": "yyyy-mm-dd"})
    at_risk = (
        frame.filter(pl.col("passport_risk").is_in(["certified", "certifiable", "at_risk"]) | pl.col("payroll_risk").str.starts_with("tfrp_"))
        .group_by(pl.col("client_id").alias("Client"))
        .agg(pl.col("client_name").first().alias("Name"), pl.col("client_total").first().alias("Client total"),
             pl.col("passport_risk").filter(pl.col("passport_risk") != "none").first().alias("Passport risk"),
             pl.col("payroll_risk").filter(pl.col("payroll_risk").str.starts_with("tfrp_")).first().alias("TFRP"))
        .sort("Client total", descending=True)
    )
    block(row, "Clients at passport or TFRP risk", "AtRisk", at_risk, {"Client total": "$#,##0.00"})
    sheet.set_column(9, 9, 60)

    if causes.height:
        chart = workbook.add_chart({"type": "bar"})
        chart.add_series({
            "name": "Balance by cause",
            "categories": ["Summary", cause_row + 2, 0, cause_row + 1 + causes.height, 0],
            "values": ["Summary", cause_row + 2, 2, cause_row + 1 + causes.height, 2],
            "data_labels": {"value": True, "num_format": "$#,##0"},
        })
        chart.set_title({"name": "Balance by cause"})
        chart.set_legend({"none": True})
        chart.set_x_axis({"num_format": "$#,##0"})
        sheet.insert_chart(3, 5, chart, {"x_scale": 1.3, "y_scale": 1.1})


def _issues_sheet(workbook: xlsxwriter.Workbook, issues: pl.DataFrame, run: RunInfo) -> None:
    sheet = workbook.add_worksheet("Issues")
    sheet.set_header(page_header("issues", run))
    files = pl.DataFrame(
        {"workbook": [p for p, _ in (*run.skipped, *run.not_refreshed)], "message": [r for _, r in (*run.skipped, *run.not_refreshed)],
         "column": ["(file skipped)"] * len(run.skipped) + ["(not refreshed)"] * len(run.not_refreshed)},
        schema={"workbook": pl.String, "message": pl.String, "column": pl.String})
    rows = pl.concat([files, issues], how="diagonal_relaxed")
    if rows.height == 0:
        sheet.write(0, 0, "No problems found.")
        return
    rows.select(issues.columns).write_excel(
        workbook, worksheet=sheet, table_style="Table Style Light 1", table_name="IssuesTable", freeze_panes=(1, 0),
        column_widths={name: _pixels(chars) for name, chars in
                       {"workbook": 40, "sheet": 12, "row": 8, "column": 16, "message": 60, "value found": 24, "client": 12,
                        "portfolio rank": 10}.items()},
        autofit=False)

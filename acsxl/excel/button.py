"""The "Refresh portfolio" button: xlwings' RunPython calls ``refresh_portfolio()`` in the workbook that
holds the button (see ``acsxl.excel.workbook``).

The Excel-bound part is thin: one bulk read of the Cases sheet (and one of the Portfolio and Closed
notes sheets each, for what was typed there, saved or not), then our sheets copied in from a portfolio
workbook written beside, one sheet copy each. Everything between is the path ``acsxl refresh``
takes (read the cases, triage, ``write_portfolio`` with the links kept inside the workbook), in
``build_portfolio``, plain Python tested on Linux. The Cases sheet is only ever read."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from acsxl.errors import CannotRefresh, UnreadableInput
from acsxl.io.inputs import DEFAULT_SHEET
from acsxl.portfolio import service
from acsxl.portfolio.sheets import NAMES as SHEETS
from acsxl.portfolio.sheets import written_by_us
from acsxl.portfolio.working import CLOSED, PORTFOLIO, kept_from_values
from acsxl.rules import values as v

AS_OF_NAME = "AsOf"
TITLE = "acsxl"


@dataclass(frozen=True)
class Built:
    path: Path  # the portfolio workbook, written beside (in a temporary folder)
    as_of: date
    rows: int
    with_issues: int

    def summary(self) -> str:
        issues = f"{self.with_issues} with data problems (see the Issues sheet)" if self.with_issues else "no data problems"
        return f"Portfolio refreshed as of {self.as_of.isoformat()}: {self.rows} cases, {issues}."


def build_portfolio(values: list[list[Any]], book: Path, as_of: date, folder: Path, sheet: str = DEFAULT_SHEET,
                    typed: tuple[list[list[Any]] | None, list[list[Any]] | None] = (None, None)) -> Built:
    """The portfolio workbook for the cases in ``values`` (the Cases sheet from A1, headers first) of the
    workbook ``book``, written into ``folder``: the same sheets ``acsxl refresh`` writes into the file.
    ``typed``: the Portfolio and Closed notes sheets' cells as they are now (headers first), so what the
    user typed there goes back onto the same cases (``acsxl.portfolio.working``)."""
    try:
        triaged = service.triage_rows(values, book, as_of, sheet)
    except UnreadableInput as err:
        raise CannotRefresh(f"The {sheet} sheet has no cases to triage: {err}.") from None
    triaged.run.kept = kept_from_values(*typed, book.name)
    out = folder / "portfolio.xlsx"
    service.write(triaged, out)
    return Built(out, as_of, triaged.result.height, triaged.rows_with_issues)


def as_of_date(value: Any, today: date) -> date:
    """The date in the cell named AsOf (empty: today)."""
    if value is None or value == "":
        return today
    day, problem = v.parse_date(value)
    if day is None:
        raise CannotRefresh(f"The cell named {AS_OF_NAME} must hold a date or be empty: {problem}.")
    return day


def is_ours(name: str, first_row: list[Any]) -> bool:
    """Whether a sheet called ``name`` holds what this button wrote (by its first cells), or nothing."""
    return written_by_us(name, first_row)


# -- the Excel-bound part (xlwings objects) ------------------------------------------------------------

def refresh_portfolio(book: Any = None, today: date | None = None) -> None:
    """Rebuild the Portfolio, Summary, Issues and Closed notes sheets of the calling workbook from its Cases sheet.
    Progress shows in Excel's status bar; the outcome, or what went wrong, in a message box."""
    if book is None:
        import xlwings as xw

        book = xw.Book.caller()
    app = book.app
    try:
        app.status_bar = "acsxl: reading the Cases sheet..."
        cases = _sheet(book, DEFAULT_SHEET)
        if cases is None:
            raise CannotRefresh(f"This workbook has no sheet named {DEFAULT_SHEET}.")
        values = cases.range((1, 1), cases.used_range.last_cell).options(ndim=2).value  # one read
        named = book.names(AS_OF_NAME).refers_to_range.value if book.names.contains(AS_OF_NAME) else None
        as_of = as_of_date(named, today or date.today())
        _check_ours(book)
        typed = (_values(book, PORTFOLIO), _values(book, CLOSED))  # what the user typed there, saved or not
        app.status_bar = f"acsxl: triaging {max(len(values) - 1, 0)} rows as of {as_of.isoformat()}..."
        with tempfile.TemporaryDirectory(prefix="acsxl-", dir=_excel_readable_temp()) as folder:
            built = build_portfolio(values, Path(book.fullname), as_of, Path(folder), typed=typed)
            app.status_bar = "acsxl: writing the Portfolio, Summary, Issues and Closed notes sheets..."
            _replace_sheets(book, built.path)
        app.status_bar = False  # give the status bar back to Excel
        app.alert(built.summary(), title=TITLE, mode="info")
    except CannotRefresh as err:
        app.status_bar = False
        app.alert(str(err), title=TITLE, mode="critical")
    except Exception as err:
        app.status_bar = False
        app.alert(f"The portfolio could not be refreshed ({type(err).__name__}: {err}).", title=TITLE, mode="critical")


def _excel_readable_temp() -> str | None:
    """Where Excel may open our temporary workbook without asking: on macOS, sandboxed Excel reads its
    own container freely (xlwings uses it the same way); elsewhere the system's temporary folder."""
    container = Path.home() / "Library" / "Containers" / "com.microsoft.Excel" / "Data"
    return str(container) if sys.platform == "darwin" and container.is_dir() else None


def _values(book: Any, name: str) -> list[list[Any]] | None:
    """A sheet's cells from A1, in one read (None: no such sheet)."""
    sheet = _sheet(book, name)
    return None if sheet is None else sheet.range((1, 1), sheet.used_range.last_cell).options(ndim=2).value


def _sheet(book: Any, name: str) -> Any | None:
    return next((s for s in book.sheets if s.name.lower() == name.lower()), None)


def _check_ours(book: Any) -> None:
    for name in SHEETS:
        sheet = _sheet(book, name)
        if sheet is not None and not is_ours(name, sheet.range("A1:B1").value):
            raise CannotRefresh(f"The sheet {sheet.name!r} is not one acsxl wrote, so it is left alone. "
                                "Rename it, then press Refresh portfolio again.")


def _replace_sheets(book: Any, portfolio: Path) -> None:
    """Each of our sheets replaced where it is (a new one goes last) by a whole-sheet copy from
    ``portfolio``: values, formats, the table, conditional formats, the chart, the live days-left
    formulas. The old sheet goes only once its replacement is in."""
    app = book.app
    app.screen_updating, app.display_alerts = False, False  # no 'delete this sheet?' prompts
    source = app.books.open(str(portfolio))
    try:
        for name in SHEETS:
            old = _sheet(book, name)
            if old is None:
                source.sheets[name].copy(after=book.sheets[len(book.sheets) - 1])
                continue
            new = source.sheets[name].copy(before=old)  # named 'Portfolio (2)' until the old one is gone
            old.delete()
            new.name = name
    finally:
        source.close()
        app.screen_updating, app.display_alerts = True, True
    book.sheets[SHEETS[0]].activate()

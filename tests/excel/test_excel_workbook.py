"""The macro workbook workbooks/acs_portfolio.xlsm and its "Refresh portfolio" button, checked without
Excel: the file is what the generator writes; the button leads through the VBA to refresh_portfolio();
its parts hold the conf sheet and the example formulas; a refresh through the file path fills the
Portfolio sheet and leaves the Cases sheet alone; the button's Excel-bound steps, run against a
stand-in for xlwings' objects, read once, copy three sheets and report in the status bar and a message box."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import fastexcel
import openpyxl
import pytest

from acsxl.cli import main
from acsxl.excel import button, functions
from acsxl.excel import workbook as template
from acsxl.io.reader import read_cases
from acsxl.portfolio.sheets import NAMES
from acsxl.rules.schema import FIELD_BY_NAME, HEADER_ALIASES, header_key
from acsxl.xlsx.package import Package

olevba = pytest.importorskip("oletools.olevba")
REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "workbooks"
AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template.build(tmp_path_factory.mktemp("excel"))


def sheet_xml(path: Path, name: str) -> str:
    package = Package.read(path.read_bytes())
    return package.text(dict(package.sheet_parts())[name])


def test_the_committed_workbook_is_what_the_generator_writes(built: Path) -> None:
    """workbooks/ holds the generator's output, byte for byte: regenerate with `acsxl excel workbooks --force`."""
    assert (COMMITTED / template.WORKBOOK).read_bytes() == built.read_bytes()
    assert (COMMITTED / template.MODULE).read_bytes() == (built.parent / template.MODULE).read_bytes()


def test_the_button_leads_through_the_vba_to_refresh_portfolio(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The button on the Start sheet is bound to a macro ...
    with zipfile.ZipFile(built) as archive:
        vml = archive.read("xl/drawings/vmlDrawing1.vml").decode()
    assert "Refresh portfolio" in vml
    macro = re.search(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml).group(1)
    # ... that is a Sub of the workbook's VBA project, calling RunPython ...
    parser = olevba.VBA_Parser(str(built))
    modules = {name: code for _, _, name, code in parser.extract_macros()}
    parser.close()
    sub = next(code for code in modules.values() if re.search(rf"^Sub {macro}\(\)", code, re.MULTILINE))
    body = re.search(rf"Sub {macro}\(\)(.*?)End Sub", sub, re.DOTALL).group(1)
    assert re.search(r'RunPython "import " & mymodule & ";" & mymodule & "\.main\(\)"', body)
    # ... with the module named after the workbook (Left(ThisWorkbook.Name, up to the last dot)) ...
    assert "Left(ThisWorkbook.Name, (InStrRev(ThisWorkbook.Name" in body
    module_name = built.name.rsplit(".", 1)[0]
    assert "Function RunPython" in "".join(modules.values())  # the standalone xlwings module is in the project
    # ... which is shipped beside the workbook, and whose main() is refresh_portfolio().
    calls = []
    monkeypatch.setattr(button, "refresh_portfolio", lambda: calls.append("refresh_portfolio"))
    spec = importlib.util.spec_from_file_location(module_name, built.parent / f"{module_name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
    assert calls == ["refresh_portfolio"]


def test_the_parts_hold_the_conf_sheet_the_cases_and_the_example_formulas(built: Path) -> None:
    reader = fastexcel.read_excel(str(built))
    assert reader.sheet_names == ["Start", "Cases", *NAMES, "Triage", "xlwings.conf"]
    conf = reader.load_sheet("xlwings.conf", header_row=None).to_polars()
    assert conf.row(0) == ("UDF Modules", template.UDF_MODULE)
    udfs = importlib.import_module(template.UDF_MODULE)
    assert {"ACS_CAUSE", "ACS_DEADLINE", "ACS_TRIAGE"} <= set(dir(udfs))

    cases = reader.load_sheet("Cases").to_polars()
    canonical = list(template.canonical_cases().columns)
    # Human headers, each one read back as its column (the schema declares both).
    assert cases.columns[:len(canonical)] == [FIELD_BY_NAME[name].header for name in canonical]
    assert [HEADER_ALIASES[header_key(h)] for h in cases.columns[:len(canonical)]] == canonical
    assert cases.height == 200
    assert cases.columns[len(canonical):] == [header for header, _, _ in template.EXAMPLES]
    xml = sheet_xml(built, "Cases")
    assert '<f>ACS_CAUSE(D2,H2,K2,L2,M2,N2,F2)</f>' in xml
    assert '<f>ACS_DEADLINE(H3,I3,F3,AsOfDay,J3,Q3)</f>' in xml
    # Cached values are the functions' own answers as of the sample date.
    expected = functions.call(functions.BY_NAME["ACS_CAUSE"], [
        [[x] for x in template.canonical_cases().get_column(a.target).to_list()] for a in functions.BY_NAME["ACS_CAUSE"].args
    ], AS_OF)
    assert cases.get_column("ACS cause").to_list() == [row[0] for row in expected]
    assert "Start!$B$4" in Package.read(built.read_bytes()).text("xl/workbook.xml")
    assert re.search(r'<definedName name="AsOfDay">IF\(Start!\$B\$4="",TODAY\(\),Start!\$B\$4\)</definedName>',
                     Package.read(built.read_bytes()).text("xl/workbook.xml"))
    assert re.search(r'<c r="A1"[^>]* cm="1"[^>]*><f t="array" ref="A1">ACS_TRIAGE\(Cases!A1:T201,AsOfDay\)</f>', sheet_xml(built, "Triage"))
    for name in button.SHEETS:
        assert "acsxl" in re.search(r"<oddHeader>([^<]*)</oddHeader>", sheet_xml(built, name)).group(1)


def test_refresh_through_the_file_path_fills_the_portfolio_and_leaves_the_cases_alone(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / template.WORKBOOK
    shutil.copy(built, copy)
    before = Package.read(copy.read_bytes())
    assert main(["refresh", str(copy), "--as-of", AS_OF.isoformat(), "-q"]) == 0
    after = Package.read(copy.read_bytes())
    names = dict(before.sheet_parts())
    for name in ("Start", "Cases", "Triage", "xlwings.conf"):
        assert after.parts[names[name]] == before.parts[names[name]], f"{name} changed"
    assert after.parts["xl/vbaProject.bin"] == before.parts["xl/vbaProject.bin"]
    reader = fastexcel.read_excel(str(copy))
    assert reader.sheet_names == ["Start", "Cases", *NAMES, "Triage", "xlwings.conf"]  # replaced in place
    portfolio = reader.load_sheet("Portfolio").to_polars()
    assert portfolio.height == 200
    assert portfolio.get_column("Rank").to_list() == list(range(1, 201))
    assert portfolio.get_column("Source").str.starts_with(f"{template.WORKBOOK}, Cases, row ").all()

    # The button's path (build_portfolio, fed the Cases sheet as Excel hands it) writes the same rows.
    values = [list(cases_row) for cases_row in _excel_values(copy)]
    built_here = button.build_portfolio(values, copy, AS_OF, tmp_path)
    from_button = fastexcel.read_excel(str(built_here.path)).load_sheet("Portfolio").to_polars()
    assert from_button.equals(portfolio)
    assert built_here.summary().startswith(f"Portfolio refreshed as of {AS_OF.isoformat()}: 200 cases, ")


def test_notes_typed_in_the_workbook_survive_the_buttons_refresh_and_acsxl_refresh(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / template.WORKBOOK
    shutil.copy(built, copy)
    assert main(["refresh", str(copy), "--as-of", AS_OF.isoformat(), "-q"]) == 0
    book = openpyxl.load_workbook(copy, keep_vba=True)  # the user types, and saves
    sheet = book["Portfolio"]
    headers = {c.value: c.column for c in sheet[1]}
    typed = {}
    for r in (2, 7, 30):
        case = tuple(sheet.cell(r, headers[h]).value for h in ("Client ID", "Form", "Period"))
        typed[case] = f"note on row {r}"
        sheet.cell(r, headers["Note"]).value = typed[case]
        sheet.cell(r, headers["Status"]).value = "open"
    book.save(copy)

    def notes(path: Path) -> dict[tuple[Any, ...], Any]:
        frame = fastexcel.read_excel(str(path)).load_sheet("Portfolio", dtypes="string").to_polars()
        return {(r["Client ID"], r["Form"], r["Period"]): r["Note"] for r in frame.iter_rows(named=True) if r["Note"]}

    # The button's path: what Excel hands over of the Cases, Portfolio and Closed notes sheets, saved or not.
    typed_cells = (_excel_values(copy, "Portfolio"), _excel_values(copy, "Closed notes"))
    from_button = button.build_portfolio(_excel_values(copy), copy, AS_OF, tmp_path / "button", typed=typed_cells)
    assert notes(from_button.path) == typed
    # The file path, twice.
    for _ in range(2):
        assert main(["refresh", str(copy), "--as-of", AS_OF.isoformat(), "-q"]) == 0
        assert notes(copy) == typed


def _excel_values(path: Path, sheet: str = "Cases") -> list[list[Any]]:
    """A sheet from A1 as xlwings hands a range over: numbers as floats, dates as datetimes, None."""
    frame = fastexcel.read_excel(str(path)).load_sheet(sheet, header_row=None).to_polars()
    out = []
    for row in frame.iter_rows():
        out.append([datetime(x.year, x.month, x.day) if isinstance(x, date) and not isinstance(x, datetime) else x for x in row])
    return out


# -- the Excel-bound steps, against a stand-in for xlwings' objects --------------------------------

class FakeRange:
    def __init__(self, sheet: FakeSheet, values: Any) -> None:
        self.sheet, self._values = sheet, values

    def options(self, **kwargs: Any) -> FakeRange:
        assert kwargs == {"ndim": 2}
        return self

    @property
    def value(self) -> Any:
        self.sheet.reads += 1
        return self._values

    @value.setter
    def value(self, new: Any) -> None:
        self.sheet.writes += 1

    @property
    def last_cell(self) -> FakeRange:
        return self


class Sheets(list):
    """xlwings' sheets: indexed by position or by name."""

    def __getitem__(self, key: Any) -> Any:
        return next(s for s in self if s.name == key) if isinstance(key, str) else super().__getitem__(key)


class FakeSheet:
    def __init__(self, book: FakeBook, name: str, values: list[list[Any]]) -> None:
        self.book, self._name, self.values, self.reads, self.writes = book, name, values, 0, 0

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, new: str) -> None:
        assert new not in [s.name for s in self.book.sheets], f"a sheet named {new} is still there"
        self.book.app.log.append(f"rename {self._name} -> {new}")
        self._name = new

    @property
    def index(self) -> int:
        return self.book.sheets.index(self) + 1

    @property
    def used_range(self) -> FakeRange:
        return FakeRange(self, self.values)

    def range(self, *cells: Any) -> FakeRange:
        if cells == ("A1:B1",):
            return FakeRange(self, (self.values[0] + [None, None])[:2] if self.values else [None, None])
        return FakeRange(self, self.values)

    def delete(self) -> None:
        self.book.app.log.append(f"delete {self.name}")
        self.book.sheets.remove(self)

    def copy(self, before: FakeSheet | None = None, after: FakeSheet | None = None) -> FakeSheet:
        target = before or after
        book = target.book
        at = book.sheets.index(target) + (0 if before else 1)
        name = self.name if self.name not in [s.name for s in book.sheets] else f"{self.name} (2)"  # as Excel names a copy
        copied = FakeSheet(book, name, self.values)
        book.sheets.insert(at, copied)
        book.app.log.append(f"copy {self.name}")
        return copied

    def activate(self) -> None:
        pass


class FakeNames:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def contains(self, name: str) -> bool:
        return name in self.values

    def __call__(self, name: str) -> Any:
        return type("Name", (), {"refers_to_range": type("R", (), {"value": self.values[name]})()})()


class FakeApp:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.status: list[Any] = []
        self.alerts: list[tuple[str, str]] = []
        self.screen_updating = self.display_alerts = True
        self.books = self

    @property
    def status_bar(self) -> Any:
        return self.status[-1] if self.status else False

    @status_bar.setter
    def status_bar(self, text: Any) -> None:
        self.status.append(text)

    def alert(self, prompt: str, title: str | None = None, mode: str | None = None) -> None:
        self.alerts.append((mode or "", prompt))

    def open(self, path: str) -> FakeBook:  # app.books.open
        opened = FakeBook(self, Path(path), {})
        names = fastexcel.read_excel(path).sheet_names
        opened.sheets = Sheets(FakeSheet(opened, name, [["from the portfolio workbook"]]) for name in names)
        opened.close = lambda: self.log.append("close portfolio")
        return opened


class FakeBook:
    def __init__(self, app: FakeApp, path: Path, sheets: dict[str, list[list[Any]]], names: dict[str, Any] | None = None) -> None:
        self.app, self.fullname = app, str(path)
        self.sheets = Sheets(FakeSheet(self, name, values) for name, values in sheets.items())
        self.names = FakeNames(names or {})


def fake_book(tmp_path: Path, names: dict[str, Any] | None = None, summary: list[list[Any]] | None = None) -> FakeBook:
    values = _excel_values(template.build(tmp_path / "excel"))
    return FakeBook(FakeApp(), tmp_path / template.WORKBOOK, {
        "Start": [["ACS portfolio"]], "Cases": values, "Portfolio": [[template.PLACEHOLDER]],
        "Summary": summary or [[template.PLACEHOLDER]], "Issues": [[template.PLACEHOLDER]], "Closed notes": [[template.PLACEHOLDER]],
        "Triage": [["Rank"]],
        "xlwings.conf": [["UDF Modules", template.UDF_MODULE]],
    }, names)


def test_the_button_reads_the_cases_once_and_replaces_the_three_sheets_in_place(tmp_path: Path) -> None:
    book = fake_book(tmp_path, names={"AsOf": datetime(2026, 11, 23)})
    cases = book.sheets[1]
    button.refresh_portfolio(book, today=date(2030, 1, 1))
    app = book.app
    assert app.alerts == [("info", "Portfolio refreshed as of 2026-11-23: 200 cases, "
                                   f"{app.alerts[0][1].split('cases, ')[1]}")]
    assert "with data problems (see the Issues sheet)" in app.alerts[0][1]
    assert cases.reads == 1 and cases.writes == 0 and book.sheets[1] is cases
    assert [s.name for s in book.sheets] == ["Start", "Cases", *NAMES, "Triage", "xlwings.conf"]
    assert [s.values for s in book.sheets[2:2 + len(NAMES)]] == [[["from the portfolio workbook"]]] * len(NAMES)
    assert app.log == [step for name in button.SHEETS for step in (f"copy {name}", f"delete {name}", f"rename {name} (2) -> {name}")] + [
        "close portfolio"]
    assert app.status[0] == "acsxl: reading the Cases sheet..." and app.status[-1] is False
    assert any(s.startswith("acsxl: triaging 200 rows as of 2026-11-23") for s in app.status if s)
    assert app.screen_updating and app.display_alerts


def test_the_button_triages_as_of_today_without_an_as_of_date(tmp_path: Path) -> None:
    book = fake_book(tmp_path, names={"AsOf": None})
    button.refresh_portfolio(book, today=date(2026, 12, 1))
    assert book.app.alerts[0][1].startswith("Portfolio refreshed as of 2026-12-01: 200 cases")


@pytest.mark.parametrize(("names", "summary", "message"), [
    ({"AsOf": "someday"}, None, 'The cell named AsOf must hold a date or be empty: "someday" is not a date'),
    ({}, [["Our firm's own summary"]], "The sheet 'Summary' is not one acsxl wrote, so it is left alone."),
])
def test_the_button_explains_what_it_cannot_do_and_changes_nothing(tmp_path: Path, names, summary, message: str) -> None:
    book = fake_book(tmp_path, names=names, summary=summary)
    sheets = [(s.name, s.values) for s in book.sheets]
    button.refresh_portfolio(book, today=AS_OF)
    assert book.app.alerts[0][0] == "critical" and book.app.alerts[0][1].startswith(message)
    assert [(s.name, s.values) for s in book.sheets] == sheets and book.app.log == []
    assert book.app.status[-1] is False


def test_an_unexpected_failure_is_a_message_box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = fake_book(tmp_path)
    monkeypatch.setattr(button.service, "triage_rows", lambda *args: (_ for _ in ()).throw(MemoryError("out of memory")))
    button.refresh_portfolio(book, today=AS_OF)
    assert book.app.alerts == [("critical", "The portfolio could not be refreshed (MemoryError: out of memory).")]


@pytest.mark.libreoffice
@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice is not installed")
def test_the_workbook_opens_in_libreoffice(built: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    run = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to",
                          "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp_path / "out"), str(built)],
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    saved = tmp_path / "out" / "acs_portfolio.xlsx"
    # LibreOffice recalculated the =ACS_... formulas: it has no such functions, so they are #NAME? now.
    # The case list still reads (a column of error cells reads as blanks).
    cases = read_cases(saved)
    assert cases.rows == 200 and cases.frame.get_column("ACS stage").null_count() == 200

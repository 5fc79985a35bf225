"""Case lists laid out as firms lay them out: a title row above the headers, the data on another sheet,
a Total row, a CSV from Windows Excel or with semicolons, dates written out, older spreadsheet
formats. Each read as a person would expect, with a note saying what was done."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from acsxl.cli import main
from acsxl.io.reader import read_cases

AS_OF = "2026-11-23"
HEADER = ["Client ID", "Name", "Form", "Tax Year", "Balance", "Notice", "Notice Date"]
ROWS = [["A1", "Café Ren", 1040, 2023, 8200.0, "CP504", date(2026, 10, 27)],
        ["B2", "Bo", "941", "2025Q2", 41000.0, "LT11", date(2026, 11, 2)]]


def book(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_a_title_row_above_the_headers_is_passed_over_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    """A title row was taken for the headers and the file skipped ('no case-list headers found')."""
    path = book(tmp_path / "c.xlsx", {"Cases": [["ACME Tax Resolution: ACS clients"], ["as of November"], [], HEADER, *ROWS]})
    cases = read_cases(path)
    assert cases.frame["source_row"].to_list() == [5, 6]
    assert cases.frame["client_id"].to_list() == ["A1", "B2"]
    assert any("the headers are on row 4" in w for w in cases.warnings)


def test_the_case_list_on_a_later_sheet_is_found_and_the_sheet_named(tmp_path: Path) -> None:
    path = book(tmp_path / "c.xlsx", {"Cover": [["Prepared for the partners"]], "Data": [HEADER, *ROWS]})
    cases = read_cases(path)
    assert (cases.sheet, cases.rows) == ("Data", 2)
    assert any("read sheet 'Data' (the first sheet, 'Cover', has no case-list headers)" in w for w in cases.warnings)


def test_a_file_with_no_headers_says_what_its_first_row_held(tmp_path: Path, capsys) -> None:
    path = book(tmp_path / "c.xlsx", {"Cases": [["Acct", "Who", "Owed"], ["A1", "Ann", 5]]})
    assert main(["triage", str(path), "--as-of", AS_OF, "--out", str(tmp_path / "p.csv")]) == 2
    assert "its first row holds 'Acct', 'Who', 'Owed'" in capsys.readouterr().err


def test_a_total_row_is_left_out_of_the_cases_and_reported(tmp_path: Path, capsys) -> None:
    """A 'Total' row became a $5.1M client that counted in the Summary."""
    path = book(tmp_path / "c.xlsx", {"Cases": [HEADER, *ROWS, ["Total", None, None, None, 49200.0, None, None], [None, None, None, None, 49200.0]]})
    out = tmp_path / "p.xlsx"
    assert main(["triage", str(path), "--as-of", AS_OF, "--out", str(out)]) == 0
    assert "c.xlsx: row 4 ('Total'), row 5 look like total rows: left out of the cases" in capsys.readouterr().err
    assert pl.read_excel(out, sheet_name="Portfolio").height == 2
    issues = pl.read_excel(out, sheet_name="Issues")
    assert issues.filter(pl.col("Column") == "(note)")["Message"].str.contains("total rows").all()


def test_a_windows_1252_csv_keeps_its_accents_and_says_how_it_was_read(tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("Client,Name,Form,Year,Balance\r\nA1,Café René,1040,2023,100\r\n".encode("cp1252"))
    assert main(["triage", str(path), "--as-of", AS_OF, "--out", str(tmp_path / "p.csv")]) == 0
    assert "read as Windows-1252" in capsys.readouterr().err
    assert pl.read_csv(tmp_path / "p.csv")["client_name"].to_list() == ["Café René"]


def test_a_semicolon_csv_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("\ufeffClient;Name;Form;Year;Balance;Notice;Notice Date\nA1;Zoë;1040;2023;100;CP504;20-Oct-2026\n".encode())
    cases = read_cases(path)
    assert cases.frame.select("client_id", "client_name").row(0) == ("A1", "Zoë")
    assert cases.warnings == ["c.csv: semicolon-separated"]


@pytest.mark.parametrize("written", ["20-May-2024", "May 20, 2024", "2024/05/20", "2024-05-20 00:00:00.000", "2024-05-20T09:30:00.25"])
def test_dates_written_out_are_read(tmp_path: Path, written: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f'Client,Form,Year,Balance,Notice,Notice Date\nA1,1040,2023,100,CP504,"{written}"\n')
    assert main(["triage", str(path), "--as-of", "2024-05-21", "--out", str(tmp_path / "p.csv"), "-q"]) == 0
    out = pl.read_csv(tmp_path / "p.csv", infer_schema=False)
    assert out.select("notice_date", "issues").row(0) == ("2024-05-20", None)


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; .ci/run installs it")
@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_older_and_open_formats_are_read_and_their_portfolio_goes_beside_them(tmp_path: Path, suffix: str) -> None:
    """.xls and .ods files in a folder were skipped silently; they are read as case lists, and an
    in-place refresh writes their portfolio beside them (acsxl cannot preserve those files)."""
    source = book(tmp_path / "c.xlsx", {"Cases": [HEADER, *ROWS]})
    profile = tmp_path / "lo-profile"
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", suffix, "--outdir",
                    str(tmp_path / "folder"), str(source)], check=True, capture_output=True, timeout=240)
    converted = tmp_path / "folder" / f"c.{suffix}"
    before = converted.read_bytes()
    assert main(["triage", str(tmp_path / "folder"), "--as-of", AS_OF, "--out", str(tmp_path / "p.csv"), "-q"]) == 0
    out = pl.read_csv(tmp_path / "p.csv", infer_schema=False)
    assert sorted(out["client_id"]) == ["A1", "B2"]
    assert set(out["notice_date"]) == {"2026-10-27", "2026-11-02"}
    assert main(["refresh", str(converted), "--as-of", AS_OF, "-q"]) == 0
    assert converted.read_bytes() == before
    assert (tmp_path / "folder" / "c.acsxl-portfolio.xlsx").is_file()

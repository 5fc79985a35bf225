"""Writing the portfolio into a client's own workbook: only acsxl's parts change, every other part keeps
its bytes through repeated refreshes; locked, changed and foreign-sheet workbooks are left alone."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from client_workbook import make_client_workbook, without_our_sheets

from acsxl.cli import main
from acsxl.engine import triage
from acsxl.errors import NotRefreshed
from acsxl.io.reader import read_cases
from acsxl.io.writer import backup_path
from acsxl.portfolio.columns import Sources
from acsxl.portfolio.inplace import is_ours, refresh_workbook
from acsxl.portfolio.layout import RunInfo
from acsxl.portfolio.sample import sample_cases
from acsxl.portfolio.sheets import NAMES
from acsxl.xlsx.merge import _drop_from_calc_chain
from acsxl.xlsx.package import Package
from acsxl.xlsx.stylesheet import _items, merge_styles

# Shared parts acsxl edits by adding its own entries; everything else it did not create must be byte-identical.
REGISTERS = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}


def ours(part: str) -> bool:
    return "acsxl_" in part.rsplit("/", 1)[-1]


@pytest.fixture
def client(tmp_path: Path) -> Path:
    return make_client_workbook(tmp_path / "Client Holdings.xlsm")


def refresh(path: Path, as_of: str, *extra: str) -> int:
    return main(["refresh", str(path), "--as-of", as_of, "-q", *extra])


def assert_preserved(original: Package, now: Package) -> None:
    assert set(original.parts) <= set(now.parts), "a part of the client's file disappeared"
    for name, data in original.parts.items():
        if name not in REGISTERS:
            assert now.parts[name] == data, f"{name} changed"
    assert all(ours(name) for name in set(now.parts) - set(original.parts))
    # The registers: removing exactly our entries gives back the original bytes.
    book = now.text("xl/workbook.xml")
    assert without_our_sheets(book) == original.text("xl/workbook.xml")
    rels = now.text("xl/_rels/workbook.xml.rels")
    assert re.sub(r'<Relationship Id="rIdAcsxl\w+"[^>]*/>', "", rels) == original.text("xl/_rels/workbook.xml.rels")
    types = now.text("[Content_Types].xml")
    assert re.sub(r'<Override PartName="/xl/[^"]*acsxl_[^"]*"[^>]*/>', "", types) == original.text("[Content_Types].xml")
    # The file's own styles keep their positions: every original entry is where it was.
    for collection in ("numFmts", "fonts", "fills", "borders", "cellXfs", "dxfs"):
        before, after = _items(original.text("xl/styles.xml"), collection), _items(now.text("xl/styles.xml"), collection)
        assert after[: len(before)] == before, collection


def test_refresh_twice_keeps_every_other_part_byte_for_byte(client: Path) -> None:
    original = Package.read(client.read_bytes())
    assert refresh(client, "2026-11-23") == 0
    first = Package.read(client.read_bytes())
    assert_preserved(original, first)
    assert refresh(client, "2026-12-01") == 0
    second = Package.read(client.read_bytes())
    assert_preserved(original, second)
    assert second.untyped_parts() == []
    # The second refresh reuses the first one's entries and styles: only our sheets' contents differ.
    changed = {name for name in second.parts if first.parts.get(name) != second.parts[name]}
    assert changed and all(ours(name) for name in changed)
    assert set(first.parts) == set(second.parts)
    assert not backup_path(client).exists()
    assert not list(client.parent.glob(".*.acsxl-tmp"))


def test_refreshed_workbook_reads_as_a_portfolio(client: Path) -> None:
    assert refresh(client, "2026-11-23") == 0
    book = openpyxl.load_workbook(client, keep_vba=True)
    assert book.sheetnames == ["Cases", "Notes", *NAMES]
    assert set(book.defined_names) >= {"FeeRate"}
    portfolio = book["Portfolio"]
    headers = [c.value for c in portfolio[1]]
    assert headers[:3] == ["Rank", "Name", "Days left"]
    assert portfolio.max_row == 31 and portfolio.freeze_panes == "C2"
    assert [portfolio.cell(r, 1).value for r in range(2, 32)] == list(range(1, 31))
    assert "PortfolioTable" in portfolio.tables
    days = headers.index("Days left") + 1
    assert str(portfolio.cell(2, days).value).startswith("=IF(")
    source = headers.index("Source") + 1
    link = portfolio.cell(2, source).hyperlink
    assert link is not None and link.location.startswith("'Cases'!A") and not link.target  # a link inside the workbook
    assert book["Summary"]._charts
    # The portfolio holds the same answers as a plain triage of the same cases.
    expected = triage(read_cases(client).frame, date(2026, 11, 23))
    shown = pl.read_excel(client, sheet_name="Portfolio")
    assert shown.get_column("Client ID").to_list() == expected.get_column("client_id").to_list()


def test_our_sheets_print_inside_the_clients_workbook_as_in_a_portfolio_and_its_names_stay(client: Path) -> None:
    for _ in range(2):  # twice: the names of the first refresh are replaced, not added to
        assert refresh(client, "2026-11-23") == 0
        book = openpyxl.load_workbook(client, keep_vba=True)
        assert book["Portfolio"].print_area == "'Portfolio'!$A$1:$M$1048575"
        assert book["Portfolio"].print_title_rows == "$1:$1" and book["Issues"].print_title_rows == "$1:$1"
        assert book["Summary"].print_title_rows is None
        assert not book["Cases"].print_area and set(book.defined_names) >= {"FeeRate"}
        assert book["Notes"].defined_names["LocalTotal"].attr_text == "Notes!$B$1"  # the client's own sheet-level name
        xml = Package.read(client.read_bytes()).text("xl/workbook.xml")
        assert xml.count("_xlnm.Print_Area") == 1 and xml.count("_xlnm.Print_Titles") == 2


def test_a_sheet_the_client_named_summary_is_never_replaced(tmp_path: Path) -> None:
    path = make_client_workbook(tmp_path / "Own Summary.xlsm", own_summary=True)
    before = path.read_bytes()
    assert refresh(path, "2026-11-23") == 0
    assert path.read_bytes() == before
    beside = tmp_path / "Own Summary.acsxl-portfolio.xlsx"
    assert openpyxl.load_workbook(beside).sheetnames == list(NAMES)
    # ... and the next folder run does not take that portfolio for a case list.
    assert main(["triage", str(tmp_path), "--as-of", "2026-11-23", "--out", str(tmp_path / "firm.csv"), "-q"]) == 0
    assert pl.read_csv(tmp_path / "firm.csv").height == 30


def test_open_workbook_is_skipped_and_reported(client: Path, capsys) -> None:
    before = client.read_bytes()
    lock = client.with_name("~$" + client.name)
    lock.write_bytes(b"someone")
    assert refresh(client, "2026-11-23") == 2  # nothing could be read
    assert "open in Excel" in capsys.readouterr().err
    assert client.read_bytes() == before


def test_workbook_opened_or_saved_during_the_run_is_not_touched(client: Path) -> None:
    cases = read_cases(client)
    frame = triage(cases.frame.with_columns(source_file=0), date(2026, 11, 23))
    run = RunInfo(date(2026, 11, 23), Sources((cases.source,)))
    before = client.read_bytes()
    client.with_name(".~lock." + client.name + "#").write_text("LibreOffice")
    with pytest.raises(NotRefreshed, match="open in a spreadsheet application"):
        refresh_workbook(client, frame, run, cases.stamp)
    client.with_name(".~lock." + client.name + "#").unlink()
    later = cases.stamp[0] + 5_000_000_000  # saved again meanwhile: a newer modification time
    os.utime(client, ns=(later, later))
    with pytest.raises(NotRefreshed, match="changed since its cases were read"):
        refresh_workbook(client, frame, run, cases.stamp)
    assert client.read_bytes() == before


def test_failed_verification_puts_the_previous_file_back(client: Path, monkeypatch) -> None:
    import acsxl.portfolio.inplace as refresh_module

    before = client.read_bytes()
    calls = []

    def flaky(path: Path, size: int) -> None:  # the temporary file passed; the renamed one "does not read back"
        calls.append(path)
        raise refresh_module.VerifyFailed("simulated")

    monkeypatch.setattr(refresh_module, "confirm_workbook", flaky)
    cases = read_cases(client)
    with pytest.raises(NotRefreshed, match="the workbook is as it was"):
        refresh_workbook(client, triage(cases.frame.with_columns(source_file=0), date(2026, 11, 23)),
                         RunInfo(date(2026, 11, 23), Sources((cases.source,))), cases.stamp)
    assert client.read_bytes() == before
    assert not backup_path(client).exists()


def _run_of(client: Path) -> tuple[pl.DataFrame, RunInfo, tuple[int, int]]:
    cases = read_cases(client)
    frame = triage(cases.frame.with_columns(source_file=0), date(2026, 11, 23))
    return frame, RunInfo(date(2026, 11, 23), Sources((cases.source,))), cases.stamp


@pytest.mark.parametrize("when", ["writing", "checking"])
def test_a_save_landing_mid_refresh_is_kept_and_the_refresh_refused(client: Path, monkeypatch, when: str) -> None:
    """The user saves while acsxl writes the merged file (or reads it back): that save wins, exit as 'not refreshed'."""
    import acsxl.portfolio.inplace as refresh_module

    frame, run, stamp = _run_of(client)
    saved = client.read_bytes() + b""  # the user's save: other bytes, a newer time

    def save_now() -> None:
        client.write_bytes(saved.replace(b"Notes", b"Notez", 1))
        later = stamp[0] + 3_000_000_000
        os.utime(client, ns=(later, later))

    if when == "writing":
        real_write = refresh_module.write_with_rows

        def write_then_save(*args) -> None:
            real_write(*args)
            save_now()

        monkeypatch.setattr(refresh_module, "write_with_rows", write_then_save)
    else:
        real_verify = refresh_module.verify_workbook
        monkeypatch.setattr(refresh_module, "verify_workbook", lambda p, n: (real_verify(p, n), save_now()))
    with pytest.raises(NotRefreshed, match="changed since its cases were read"):
        refresh_workbook(client, frame, run, stamp)
    assert client.read_bytes() == saved.replace(b"Notes", b"Notez", 1)
    assert not list(client.parent.glob(".*.acsxl-tmp")) and not list(client.parent.glob(".*.acsxl-backup"))


def test_a_second_run_refreshing_the_same_workbook_leaves_it_to_the_first(client: Path) -> None:
    from acsxl.io.writer import output_lock, workbook_lock_path

    frame, run, stamp = _run_of(client)
    before = client.read_bytes()
    with output_lock(client, 0, workbook_lock_path(client)), pytest.raises(NotRefreshed, match="another acsxl run is refreshing it"):
        refresh_workbook(client, frame, run, stamp)
    assert client.read_bytes() == before
    assert not list(client.parent.glob(".*lock*"))  # the lock is not put in the client's folder
    refresh_workbook(client, frame, run, stamp)  # released: the next run goes ahead


def test_each_run_keeps_its_own_backup_and_old_orphans_are_cleared(client: Path) -> None:
    """A concurrent run's backup is never reused or deleted; temporary files and backups left by a killed
    run are removed once they are older than the bound, a fresh one (a run writing now) is kept."""
    from acsxl.io.writer import ORPHAN_SECONDS

    other_backup = backup_path(client, run=999_999)
    other_backup.write_bytes(b"another run's backup")
    old_tmp, fresh_tmp = client.with_name(f".{client.name}.k1ll3d.acsxl-tmp"), client.with_name(f".{client.name}.wr1t1ng.acsxl-tmp")
    old_backup = backup_path(client, run=424_242)
    for orphan in (old_tmp, fresh_tmp, old_backup):
        orphan.write_bytes(b"left over")
    long_ago = os.stat(client).st_mtime - ORPHAN_SECONDS - 60
    for orphan in (old_tmp, old_backup):
        os.utime(orphan, (long_ago, long_ago))
    frame, run, stamp = _run_of(client)
    refresh_workbook(client, frame, run, stamp)
    assert backup_path(client) != other_backup
    assert other_backup.read_bytes() == b"another run's backup"
    assert fresh_tmp.exists() and not old_tmp.exists() and not old_backup.exists()


def test_a_1904_workbook_gets_its_dates_in_its_own_date_system(tmp_path: Path) -> None:
    """Mac Excel's old default (workbookPr date1904): serials count from 1904-01-01, 1,462 days fewer. Our
    sheets' dates, read back with openpyxl (which honours the flag), are the days the portfolio says
    beside it, and the live Days left still counts from today."""
    import xlsxwriter

    cases = sample_cases(40, seed=3, anchor=date(2026, 11, 21))
    client = tmp_path / "mac-1904.xlsx"
    book = xlsxwriter.Workbook(str(client), {"date_1904": True})
    cases.write_excel(book, worksheet="Cases", dtype_formats={pl.Date: "yyyy-mm-dd"})
    book.close()
    beside = tmp_path / "beside.xlsx"
    assert main(["triage", str(client), "--as-of", "2026-11-23", "--out", str(beside), "--in-place", "-q"]) == 0
    assert re.search(r"<workbookPr[^>]*date1904=\"1\"", Package.read(client.read_bytes()).text("xl/workbook.xml"))

    def sheet(path: Path, name: str) -> list[tuple]:
        return list(openpyxl.load_workbook(path, read_only=True)[name].iter_rows(values_only=True))

    inside, expected = sheet(client, "Portfolio"), sheet(beside, "Portfolio")
    dates = [i for i, v in enumerate(expected[1]) if isinstance(v, date)]
    assert len(dates) >= 2 and inside[0] == expected[0]
    assert [[row[i] for i in dates] for row in inside[1:]] == [[row[i] for i in dates] for row in expected[1:]]
    cases_back = sheet(client, "Cases")  # the client's own dates, untouched, still read right
    first = cases.row(0)
    assert [v.date() for v in cases_back[1] if isinstance(v, date)] == [v for v in first if isinstance(v, date)]
    summary_inside = [v for row in sheet(client, "Summary") for v in row if isinstance(v, date)]
    summary_beside = [v for row in sheet(beside, "Summary") for v in row if isinstance(v, date)]
    assert summary_inside == summary_beside and summary_inside
    # The live formula subtracts TODAY() in the same system; its cached value is the days as of the run.
    xml = Package.read(client.read_bytes()).text(Package.read(client.read_bytes()).sheet_parts()["Portfolio"])
    assert "TODAY()" in xml


def test_a_workbook_written_with_single_quoted_attributes_is_refreshed_soundly(tmp_path: Path) -> None:
    """XML allows name='value'. Read with double-quote-only patterns, a single-quoted workbook part gave our
    sheets a sheetId the client's sheet already had, and a styles part a second count attribute."""
    import xlsxwriter

    client = tmp_path / "single-quoted.xlsx"
    book = xlsxwriter.Workbook(str(client))
    sample_cases(20, seed=5, anchor=date(2026, 11, 21)).write_excel(book, worksheet="Cases", dtype_formats={pl.Date: "yyyy-mm-dd"})
    book.add_worksheet("Notes").write("A1", "the client's own notes")
    book.close()
    package = Package.read(client.read_bytes())
    for name in list(package.parts):
        if name.endswith((".xml", ".rels")):
            package.put(name, re.sub(r'(\s[\w:]+)="([^"\']*)"', r"\1='\2'", package.text(name)))
    assert "sheetId='1'" in package.text("xl/workbook.xml") and "count='" in package.text("xl/styles.xml")
    package.write(client)

    assert refresh(client, "2026-11-23") == 0
    now = Package.read(client.read_bytes())
    ids = re.findall(r"""sheetId=["'](\d+)["']""", now.text("xl/workbook.xml"))
    assert len(ids) == 2 + len(NAMES) and len(set(ids)) == len(ids)
    assert all(len(re.findall(r"\bcount=", m)) <= 1 for m in re.findall(r"<\w+\b[^>]*>", now.text("xl/styles.xml")))
    assert now.untyped_parts() == []
    opened = openpyxl.load_workbook(client)
    assert opened.sheetnames == ["Cases", "Notes", *NAMES]
    assert opened["Portfolio"].max_row == 21
    assert refresh(client, "2026-11-24") == 0  # and again: our sheets are found and replaced, not added twice
    assert openpyxl.load_workbook(client, read_only=True).sheetnames == ["Cases", "Notes", *NAMES]


def test_a_package_typing_its_parts_by_override_only_gets_a_type_for_every_part_we_add(tmp_path: Path) -> None:
    """Some writers declare every part's type with an Override and no Default for .rels: the relationship
    parts our sheets bring (tables, links) were added untyped, which Excel offers to repair."""
    import xlsxwriter

    client = tmp_path / "overrides-only.xlsx"
    book = xlsxwriter.Workbook(str(client))
    sample_cases(10, seed=6, anchor=date(2026, 11, 21)).write_excel(book, worksheet="Cases")
    book.close()
    package = Package.read(client.read_bytes())
    types = re.sub(r'<Default Extension="rels"[^>]*/>', "", package.text("[Content_Types].xml"))
    for part in (p for p in package.parts if p.endswith(".rels")):
        types = types.replace("</Types>", f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>')
    package.put("[Content_Types].xml", types)
    assert package.untyped_parts() == []
    package.write(client)
    assert refresh(client, "2026-11-23") == 0
    now = Package.read(client.read_bytes())
    assert any(p.endswith(".rels") and "acsxl_" in p for p in now.parts)
    assert now.untyped_parts() == []
    assert refresh(client, "2026-11-24") == 0
    assert Package.read(client.read_bytes()).untyped_parts() == []


def test_a_workbook_whose_structure_is_protected_gets_no_sheets_added(tmp_path: Path, capsys) -> None:
    """Protect Workbook (structure) forbids adding sheets: the portfolio goes beside it, the file keeps its bytes."""
    import xlsxwriter

    client = tmp_path / "protected-structure.xlsx"
    book = xlsxwriter.Workbook(str(client))
    sample_cases(8, seed=8, anchor=date(2026, 11, 21)).write_excel(book, worksheet="Cases")
    book.close()
    package = Package.read(client.read_bytes())
    package.put("xl/workbook.xml", re.sub(r"(<workbookPr\b[^>]*/>)", r'\1<workbookProtection lockStructure="1"/>', package.text("xl/workbook.xml")))
    package.write(client)
    before = client.read_bytes()
    assert main(["refresh", str(client), "--as-of", "2026-11-23"]) == 0
    assert "structure is protected" in capsys.readouterr().err
    assert client.read_bytes() == before
    assert openpyxl.load_workbook(client.with_name("protected-structure.acsxl-portfolio.xlsx"), read_only=True).sheetnames[0] == "Portfolio"


def test_a_portfolio_excel_resaved_under_other_part_names_is_still_recognised(client: Path) -> None:
    assert refresh(client, "2026-11-23") == 0
    package = Package.read(client.read_bytes())
    # What Excel does on save: renumber parts (sheet3.xml...). Our mark is in the sheet's page header.
    renames = {"xl/worksheets/acsxl_portfolio.xml": "xl/worksheets/sheet3.xml",
               "xl/worksheets/_rels/acsxl_portfolio.xml.rels": "xl/worksheets/_rels/sheet3.xml.rels",
               "xl/tables/acsxl_portfolio_table1.xml": "xl/tables/table9.xml"}
    parts = {}
    for name, data in package.parts.items():
        text = data
        if name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/worksheets/_rels/acsxl_portfolio.xml.rels"):
            text = (data.decode().replace("acsxl_portfolio_table1.xml", "table9.xml")
                    .replace("acsxl_portfolio.xml", "sheet3.xml").encode())
        parts[renames.get(name, name)] = text
    resaved = Package(parts)
    resaved.write(client)
    assert is_ours(resaved.text("xl/worksheets/sheet3.xml"))
    assert refresh(client, "2026-12-01") == 0
    after = Package.read(client.read_bytes())
    assert "xl/worksheets/sheet3.xml" in after.parts and "xl/worksheets/acsxl_portfolio.xml" not in after.parts
    assert "xl/tables/table9.xml" not in after.parts  # the old table went with its sheet
    assert openpyxl.load_workbook(client, keep_vba=True).sheetnames == ["Cases", "Notes", *NAMES]
    assert "as of 12/01/2026" in after.text("xl/worksheets/sheet3.xml")


def test_triage_in_place_over_a_folder_refreshes_each_workbook_with_its_own_rows(tmp_path: Path) -> None:
    folder = tmp_path / "clients"
    folder.mkdir()
    a = make_client_workbook(folder / "a.xlsm", rows=12)
    b = make_client_workbook(folder / "b.xlsm", rows=20)
    (folder / "c.csv").write_text("client_id,form,tax_period,balance,last_notice,notice_date\nC1,1040,2023,5000,CP14,2026-11-02\n")
    out, log = tmp_path / "firm.xlsx", tmp_path / "run.json"
    assert main(["triage", str(folder), "--in-place", "--out", str(out), "--as-of", "2026-11-23", "--json-log", str(log), "-q"]) == 0
    assert pl.read_excel(a, sheet_name="Portfolio").height == 12
    assert pl.read_excel(b, sheet_name="Portfolio").height == 20
    assert pl.read_excel(out, sheet_name="Portfolio").height == 33
    summary = json.loads(log.read_text())
    assert {d["path"].rsplit("/", 1)[-1]: d["status"] for d in summary["in_place"]} == {"a.xlsm": "refreshed", "b.xlsm": "refreshed", "c.csv": "beside"}
    assert (folder / "c.acsxl-portfolio.xlsx").exists()


def test_quiet_refresh_prints_nothing(tmp_path: Path) -> None:
    """Mixed cell types in a column (a bad row among dates) are normal: no reader chatter on stderr."""
    client = tmp_path / "cases.xlsx"
    assert main(["sample", str(client), "--rows", "50", "--seed", "100"]) == 0  # has a text cell among numbers
    run = subprocess.run([sys.executable, "-m", "acsxl.cli", "refresh", str(client), "--as-of", "2026-11-23", "-q"],
                         capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stderr, run.stdout) == (0, "", "")


def test_calc_chain_loses_only_the_replaced_sheets_entries() -> None:
    chain = '<?xml version="1.0"?><calcChain xmlns="x"><c r="B1" i="1"/><c r="B2"/><c r="Q2" i="3"/><c r="Q3"/><c r="C1" i="2"/></calcChain>'
    assert _drop_from_calc_chain(chain, {"3"}) == '<?xml version="1.0"?><calcChain xmlns="x"><c r="B1" i="1"/><c i="1" r="B2"/><c r="C1" i="2"/></calcChain>'
    assert _drop_from_calc_chain(chain, {"9"}) == chain
    assert _drop_from_calc_chain('<calcChain><c r="A1" i="3"/></calcChain>', {"3"}) == ""


def test_styles_merge_appends_only_and_is_idempotent() -> None:
    client = ('<styleSheet xmlns="x"><fonts count="1"><font><sz val="10"/><name val="Arial"/></font></fonts>'
              '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
              '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0"/></cellStyleXfs>'
              '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
              '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles><dxfs count="0"/></styleSheet>')
    ours = ('<styleSheet><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
            '<fonts count="2"><font><sz val="11"/></font><font><b/><sz val="11"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            '<dxfs count="1"><dxf><font><b/></font></dxf></dxfs></styleSheet>')
    merged = merge_styles(client, ours)
    assert merged.xf == {0: 1, 1: 2} and merged.dxf == {0: 0}
    assert '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><fonts' in merged.styles
    assert '<xf numFmtId="164" fontId="2" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' in merged.styles
    assert '<dxfs count="1"><dxf><font><b/></font></dxf></dxfs>' in merged.styles
    again = merge_styles(merged.styles, ours)
    assert again.styles == merged.styles and again.xf == merged.xf


def test_the_check_before_the_rename_catches_a_short_or_damaged_file(client: Path, tmp_path: Path) -> None:
    """The check reads every part through its checksum and counts the Portfolio's rows, without holding
    the file in memory: a truncated file, a damaged part or a missing row is caught."""
    from acsxl.portfolio.inplace import VerifyFailed, verify_workbook

    assert refresh(client, "2026-11-23") == 0
    rows = Package.read(client.read_bytes())
    height = len(re.findall(r"<row ", rows.text(rows.sheet_parts()["Portfolio"]))) - 1
    verify_workbook(client, height)
    with pytest.raises(VerifyFailed, match="rows, expected"):
        verify_workbook(client, height + 1)
    data = client.read_bytes()
    short = tmp_path / "short.xlsm"
    short.write_bytes(data[: len(data) // 2])
    with pytest.raises(VerifyFailed, match="does not read back"):
        verify_workbook(short, height)
    import zipfile

    with zipfile.ZipFile(client) as archive:
        info = archive.getinfo(rows.sheet_parts()["Portfolio"])
    damaged = tmp_path / "damaged.xlsm"
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    damaged.write_bytes(data[:start] + bytes([data[start] ^ 0xFF]) + data[start + 1:])
    with pytest.raises(VerifyFailed, match="does not read back"):
        verify_workbook(damaged, height)

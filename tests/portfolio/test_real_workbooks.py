"""Acceptance over real workbooks (#23): every file in ``../shared/workbooks/`` (written by Excel for Windows and
Mac, Excel Online, Google Sheets, LibreOffice and others) gets a Cases sheet at the package level, then two
refreshes. A file refreshed in place keeps every part acsxl does not own byte for byte, twice in a row; every
part has a content type; its dates read back as the days the portfolio says, in the workbook's own date
system; LibreOffice opens it. A file left alone is byte-identical and said why (list.tsv: refuse, unreadable)."""

from __future__ import annotations

import re
import shutil
import subprocess
from contextlib import redirect_stderr
from dataclasses import dataclass
from datetime import date, datetime
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from client_workbook import empty_names_dropped, without_our_sheets
from real_workbooks import SHARED_WORKBOOKS, cases_csv, listed, with_cases_sheet

from acsxl.cli import main
from acsxl.portfolio.inplace import beside_path
from acsxl.portfolio.sheets import NAMES
from acsxl.xlsx.package import CONTENT_TYPES, Package, rels_name
from acsxl.xlsx.stylesheet import _items

pytestmark = pytest.mark.skipif(not (SHARED_WORKBOOKS / "list.tsv").is_file(),
                                reason=f"the real workbooks are not beside the repository ({SHARED_WORKBOOKS})")
LISTED = listed() if (SHARED_WORKBOOKS / "list.tsv").is_file() else []
AS_OF = ("2026-11-23", "2026-11-24")
OURS = NAMES
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@dataclass
class Outcome:
    copy: bytes  # the workbook with its Cases sheet, before acsxl
    first: bytes  # after the first refresh
    path: Path  # after the second refresh
    codes: tuple[int, int]
    said: str

    @property
    def inside(self) -> bool:
        return "Portfolio" in Package.read(self.path.read_bytes()).sheet_parts()


class Refreshes:
    """Each listed workbook, made into a client workbook and refreshed twice, once per test session."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.done = folder, {}

    def __call__(self, name: str) -> Outcome:
        if name not in self.done:
            copy = with_cases_sheet((SHARED_WORKBOOKS / name).read_bytes())
            assert copy is not None, f"{name}: the harness could not add a Cases sheet"
            path = self.folder / name
            path.write_bytes(copy)
            said = StringIO()
            with redirect_stderr(said):
                first = main(["refresh", str(path), "--as-of", AS_OF[0]])
                after_first = path.read_bytes()
                second = main(["refresh", str(path), "--as-of", AS_OF[1]])
            self.done[name] = Outcome(copy, after_first, path, (first, second), said.getvalue())
        return self.done[name]


@pytest.fixture(scope="module")
def refreshes(tmp_path_factory) -> Refreshes:
    return Refreshes(tmp_path_factory.mktemp("real-workbooks"))


@pytest.fixture(scope="module")
def expected_dates(tmp_path_factory) -> list[list[date]]:
    """The date cells of the portfolio the same cases give on their own, row by row (rank order)."""
    folder = tmp_path_factory.mktemp("expected")
    out = folder / "portfolio.xlsx"
    assert main(["triage", str(cases_csv(folder / "cases.csv")), "--as-of", AS_OF[1], "--out", str(out), "-q"]) == 0
    return _dates(out)


def _dates(path: Path) -> list[list[date]]:
    rows = openpyxl.load_workbook(path, read_only=True)["Portfolio"].iter_rows(min_row=2, values_only=True)
    return [[v.date() if isinstance(v, datetime) else v for v in row if isinstance(v, date)] for row in rows]


def _without_ours(name: str, text: str) -> str:
    """A register part with the entries acsxl adds taken out."""
    if name == CONTENT_TYPES:
        text = re.sub(r'<Override PartName="/[^"]*acsxl_[^"]*"[^>]*/>', "", text)
        return re.sub(r'<Default Extension="rels" ContentType="[^"]*"/>(?=</Types>)', "", text)
    if name.endswith(".rels"):
        return re.sub(r'<Relationship Id="rIdAcsxl\w+"[^>]*/>', "", text)
    return without_our_sheets(text)


def assert_kept(copy: Package, now: Package) -> None:
    book = copy.main_part()
    registers = {CONTENT_TYPES, book, rels_name(book)}
    styles = next(r.target for r in copy.relationships(book) if r.kind == "styles")
    for name, data in copy.parts.items():
        if name in registers:
            assert _without_ours(name, now.text(name)) == empty_names_dropped(copy.text(name)), f"{name}: more changed than acsxl's entries"
        elif name == styles:
            for collection in ("numFmts", "fonts", "fills", "borders", "cellXfs", "dxfs"):
                before = _items(copy.text(name), collection)
                assert _items(now.text(name), collection)[: len(before)] == before, f"{name} {collection}"
        else:
            assert now.parts.get(name) == data, f"{name} changed or disappeared"
    assert all("acsxl_" in part.rsplit("/", 1)[-1] for part in set(now.parts) - set(copy.parts))


@pytest.mark.parametrize(("name", "expected"), [(n, e) for n, _, e in LISTED], ids=[n for n, _, _ in LISTED])
def test_a_real_workbook_is_refreshed_safely_or_left_alone_and_said(refreshes, expected_dates, name: str, expected: str) -> None:
    outcome = refreshes(name)
    assert "Traceback" not in outcome.said
    if not outcome.inside:
        assert expected in ("refuse", "unreadable"), f"{name} was not refreshed: {outcome.said}"
        assert outcome.path.read_bytes() == outcome.copy, "a workbook left alone changed"
        assert name in outcome.said, "nothing said about the workbook left alone"
        if expected == "refuse" and outcome.codes == (0, 0):
            assert beside_path(outcome.path).exists()
        return
    assert outcome.codes == (0, 0), outcome.said
    copy, first, now = (Package.read(b) for b in (outcome.copy, outcome.first, outcome.path.read_bytes()))
    assert_kept(copy, first)
    assert_kept(copy, now)
    assert {p for p in now.parts if first.parts.get(p) != now.parts[p]} <= {p for p in now.parts if "acsxl_" in p}
    assert now.untyped_parts() == []
    assert [s for s in now.sheet_parts() if s in OURS] == list(OURS)
    try:
        openpyxl.load_workbook(SHARED_WORKBOOKS / name, read_only=True)
    except Exception:  # openpyxl cannot read some of these files even before acsxl (list.tsv says which)
        return
    assert _dates(outcome.path) == expected_dates, "the Portfolio's dates read back wrong"


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; .ci/run installs it")
def test_libreoffice_opens_every_refreshed_workbook_with_the_right_dates(refreshes, expected_dates, tmp_path) -> None:
    """One LibreOffice run converts them all back to .xlsx: our sheets are there, with the portfolio's days."""
    inside = [refreshes(name).path for name, _, _ in LISTED if refreshes(name).inside]
    assert len(inside) >= 50
    out = tmp_path / "converted"
    run = subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless", "--convert-to", "xlsx",
                          "--outdir", str(out), *map(str, inside)], capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr
    for path in inside:
        converted = out / f"{path.stem}.xlsx"
        assert converted.exists(), f"LibreOffice did not open {path.name}: {run.stderr[-500:]}"
        assert _dates(converted) == expected_dates, f"{path.name}: dates as LibreOffice reads them"

"""The produced workbooks opened in a real spreadsheet application: LibreOffice headless converts them
without error, and its recalculated live days-left formulas equal next deadline minus today."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from client_workbook import make_client_workbook

from acsxl.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; .ci/run installs it"),
]


def convert(path, to: str, outdir) -> None:
    profile = outdir / "lo-profile"
    run = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", to, "--outdir", str(outdir), str(path)],
        capture_output=True, text=True, timeout=240,
    )
    assert run.returncode == 0, run.stderr


def test_portfolio_opens_and_days_left_recalculate_to_today(tmp_path) -> None:
    out = tmp_path / "portfolio.xlsx"
    as_of = date.today() - timedelta(days=9)  # written days ago: the live formula must show today's truth
    assert main(["triage", str(SAMPLE), "--as-of", as_of.isoformat(), "--out", str(out), "-q"]) == 0
    before = date.today()
    convert(out, "csv:Text - txt - csv (StarCalc):44,34,76,1", tmp_path)
    after = date.today()
    rows = list(csv.DictReader((tmp_path / "portfolio.csv").open(encoding="utf-8")))
    assert len(rows) == 200
    checked = 0
    for row in rows:
        if not row["Next deadline"]:
            assert row["Days left"] == ""
            continue
        deadline = datetime.strptime(row["Next deadline"], "%m/%d/%Y").date()  # as the cell shows it
        assert int(row["Days left"]) in {(deadline - before).days, (deadline - after).days}, row["Rank"]
        checked += 1
    assert checked > 100
    convert(out, "pdf", tmp_path)
    assert (tmp_path / "portfolio.pdf").stat().st_size > 10_000


def test_refreshed_client_macro_workbook_opens_and_recalculates(tmp_path) -> None:
    client = make_client_workbook(tmp_path / "client.xlsm")
    as_of = date.today() - timedelta(days=5)
    for _ in range(2):  # refreshed twice, as a nightly job would
        assert main(["refresh", str(client), "--as-of", as_of.isoformat(), "-q"]) == 0
    convert(client, "pdf", tmp_path)
    assert (tmp_path / "client.pdf").stat().st_size > 10_000
    (tmp_path / "saved").mkdir()
    before = date.today()
    convert(client, "xlsx:Calc MS Excel 2007 XML", tmp_path / "saved")  # LibreOffice's own save, values recalculated
    after = date.today()
    saved = tmp_path / "saved" / "client.xlsx"
    assert pl.read_excel(saved, sheet_name="Cases").height == 30
    rows = pl.read_excel(saved, sheet_name="Portfolio").filter(pl.col("Next deadline").is_not_null())
    assert rows.height > 10
    for deadline, days in rows.select(pl.col("Next deadline").cast(pl.Date), "Days left").iter_rows():
        assert int(days) in {(deadline - before).days, (deadline - after).days}

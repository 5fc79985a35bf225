"""The one path from case lists to a portfolio (acsxl.portfolio.service), over folders as firms keep them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from acsxl.cli import main
from acsxl.portfolio.sample import sample_cases

AS_OF = "2026-11-23"


def test_a_csv_beside_a_workbook_leaves_the_workbook_dates_as_they_are(tmp_path: Path) -> None:
    """A CSV holds its dates as text, a workbook as date cells: combining them must not turn the
    workbook's dates into text no parser reads (every CSED and printed due date was lost)."""
    folder = tmp_path / "clients"
    folder.mkdir()
    book = sample_cases(200, seed=7, anchor=date(2026, 11, 21))
    book.write_excel(folder / "cases.xlsx", worksheet="Cases", dtype_formats={pl.Date: "yyyy-mm-dd"})
    sample_cases(50, seed=8, anchor=date(2026, 11, 21)).write_csv(folder / "more.csv")
    alone, together = tmp_path / "alone.csv", tmp_path / "together.csv"
    assert main(["triage", str(folder / "cases.xlsx"), "--as-of", AS_OF, "--out", str(alone), "-q"]) == 0
    assert main(["triage", str(folder), "--as-of", AS_OF, "--out", str(together), "-q"]) == 0
    alone_rows = pl.read_csv(alone, infer_schema=False)
    together_rows = pl.read_csv(together, infer_schema=False).filter(pl.col("source").str.starts_with("cases.xlsx"))
    assert together_rows.height == alone_rows.height == 200
    key = ["source"]
    columns = ["csed", "next_deadline", "deadline_type", "issues", "notice_date"]
    mine = alone_rows.select(*key, *columns).sort(key)
    assert together_rows.select(*key, *columns).sort(key).equals(mine)
    assert mine.get_column("csed").null_count() < 200  # the sample has assessment dates

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


OURS = ["Priority", "Rank", "Next Action", "Days Left", "Stage", "Cause", "CSED"]


def test_a_users_columns_named_like_ours_are_kept_beside_ours_in_every_output(tmp_path: Path) -> None:
    """Columns of the user's own named like output columns were a crash (a duplicate column); they are
    kept, under "(yours)", in the CSV, the portfolio workbook and the in-place refresh."""
    import fastexcel

    cases = sample_cases(20, seed=3, anchor=date(2026, 11, 21))
    cases = cases.with_columns(pl.lit(f"my {name.lower()}").alias(name) for name in OURS)
    book = tmp_path / "client.xlsx"
    cases.write_excel(book, worksheet="Cases", dtype_formats={pl.Date: "yyyy-mm-dd"})
    assert main(["triage", str(book), "--as-of", AS_OF, "--out", str(tmp_path / "p.csv"), "-q"]) == 0
    csv = pl.read_csv(tmp_path / "p.csv", infer_schema=False)
    assert csv.height == 20
    for name in OURS:
        assert csv.get_column(f"{name} (yours)").to_list() == [f"my {name.lower()}"] * 20
    assert csv.get_column("priority").cast(pl.Int64).min() >= 0  # ours, untouched
    assert main(["triage", str(book), "--as-of", AS_OF, "--out", str(tmp_path / "p.xlsx"), "-q"]) == 0
    assert main(["refresh", str(book), "--as-of", AS_OF, "-q"]) == 0
    for workbook in (tmp_path / "p.xlsx", book):
        portfolio = fastexcel.read_excel(str(workbook)).load_sheet("Portfolio").to_polars()
        assert portfolio.height == 20
        assert {"Priority", "Rank", "Next action", "Days left", "Stage", "Cause", "CSED"} <= set(portfolio.columns)
        for name in OURS:
            assert portfolio.get_column(f"{name} (yours)").to_list() == [f"my {name.lower()}"] * 20


def test_yesterdays_portfolio_left_in_the_folder_is_passed_over_not_read_as_cases(tmp_path: Path, capsys) -> None:
    """A portfolio acsxl wrote, saved into the client folder under another name, was read back as a case
    list and killed the folder run; it is passed over with a note (exit 0), and listed in the run log."""
    import json

    folder = tmp_path / "clients"
    folder.mkdir()
    sample_cases(30, seed=4, anchor=date(2026, 11, 21)).write_excel(folder / "cases.xlsx", worksheet="Cases")
    assert main(["triage", str(folder), "--as-of", AS_OF, "--out", str(folder / "portfolio 2026-11-22.xlsx"), "-q"]) == 0
    out, log = tmp_path / "p.csv", tmp_path / "run.json"
    assert main(["triage", str(folder), "--as-of", AS_OF, "--out", str(out), "--json-log", str(log)]) == 0
    assert "portfolio 2026-11-22.xlsx: a portfolio acsxl wrote (as of 2026-11-23), not a case list" in capsys.readouterr().err
    assert pl.read_csv(out).height == 30
    logged = json.loads(log.read_text())
    assert [f["path"] for f in logged["files_passed_over"]] == [str(folder / "portfolio 2026-11-22.xlsx")]
    assert len(logged["files_read"]) == 1 and logged["files_skipped"] == []


def test_a_clients_workbook_refreshed_in_place_is_still_read_as_cases(tmp_path: Path) -> None:
    book = tmp_path / "client.xlsx"
    sample_cases(10, seed=5, anchor=date(2026, 11, 21)).write_excel(book, worksheet="Cases")
    assert main(["refresh", str(book), "--as-of", AS_OF, "-q"]) == 0
    assert main(["triage", str(book), "--as-of", AS_OF, "--out", str(tmp_path / "p.csv"), "-q"]) == 0
    assert pl.read_csv(tmp_path / "p.csv").height == 10

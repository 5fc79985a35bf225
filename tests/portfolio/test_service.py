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
    columns = ["csed", "next_deadline", "deadline_type", "notice_date", "assessed_date"] if "assessed_date" in alone_rows.columns \
        else ["csed", "next_deadline", "deadline_type", "notice_date"]
    mine = alone_rows.select(*key, *columns).sort(key)
    assert together_rows.select(*key, *columns).sort(key).equals(mine)
    assert mine.get_column("csed").null_count() < 200  # the sample has assessment dates
    dated = "|".join(["not a date", "not a plausible Excel date"])
    assert together_rows["issues"].str.contains(dated).sum() == alone_rows["issues"].str.contains(dated).sum()


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


def _firm_workbook(path: Path, notice_header: str = "IRS Notice", date_header: str = "Date of Letter") -> Path:
    cases = sample_cases(12, seed=6, anchor=date(2026, 11, 21))
    cases.rename({"Latest Notice": notice_header, "Notice Date": date_header}).write_excel(path, worksheet="Cases",
                                                                                   dtype_formats={pl.Date: "yyyy-mm-dd"})
    return path


def test_an_unrecognised_notice_header_is_a_file_problem_until_mapped_in_acsxl_toml(tmp_path: Path, capsys) -> None:
    """A notice column headed 'IRS Notice' was passed through as the user's own column: no deadline on
    any row, '0 with issues', exit 0. It is a file-level problem (exit 1) naming the header and the fix,
    and works once mapped in the firm's acsxl.toml."""
    import json

    folder = tmp_path / "clients"
    folder.mkdir()
    _firm_workbook(folder / "firm.xlsx")
    out, log = tmp_path / "p.csv", tmp_path / "run.json"
    assert main(["triage", str(folder), "--as-of", AS_OF, "--out", str(out), "--json-log", str(log)]) == 1
    err = capsys.readouterr().err
    assert "header 'IRS Notice' looks like the last_notice column but is not recognised" in err
    assert 'map it in acsxl.toml: last_notice = ["IRS Notice"]' in err
    assert "header 'Date of Letter' looks like the notice_date column" in err
    assert pl.read_csv(out).height == 12  # the rows are still all there
    logged = json.loads(log.read_text())["files_read"][0]
    assert "IRS Notice" in logged["unrecognised"] and "client_id" in logged["columns"] and len(logged["problems"]) == 2
    assert pl.read_csv(out)["next_deadline"].null_count() == 12

    (folder / "acsxl.toml").write_text('[aliases]\nlast_notice = ["IRS Notice"]\nnotice_date = ["Date of Letter"]\n')
    assert main(["triage", str(folder), "--as-of", AS_OF, "--out", str(out), "-q"]) == 0
    mapped = pl.read_csv(out)
    assert mapped["last_notice"].null_count() < 12 and mapped["next_deadline"].null_count() < 12


def test_the_configuration_file_can_be_named_and_a_bad_one_is_one_line(tmp_path: Path, capsys) -> None:
    book = _firm_workbook(tmp_path / "firm.xlsx")
    settings = tmp_path / "settings.toml"
    settings.write_text('[aliases]\nlast_notice = ["IRS Notice"]\nnotice_date = "Date of Letter"\n')
    assert main(["triage", str(book), "--as-of", AS_OF, "--out", str(tmp_path / "p.csv"), "--config", str(settings), "-q"]) == 0
    settings.write_text('[aliases]\nnotice = ["IRS Notice"]\n')
    assert main(["triage", str(book), "--as-of", AS_OF, "--out", str(tmp_path / "p.csv"), "--config", str(settings)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"acsxl: {settings}: [aliases] 'notice' is not a case-list column") and err.count("\n") == 1
    settings.write_text("[aliases\n")
    assert main(["triage", str(book), "--as-of", AS_OF, "--out", str(tmp_path / "p.csv"), "--config", str(settings)]) == 2
    assert "not a valid TOML file" in capsys.readouterr().err


def test_a_missing_required_column_is_a_file_problem(tmp_path: Path, capsys) -> None:
    cases = sample_cases(5, seed=7, anchor=date(2026, 11, 21)).drop("Form")
    cases.write_csv(tmp_path / "c.csv")
    assert main(["triage", str(tmp_path / "c.csv"), "--as-of", AS_OF, "--out", str(tmp_path / "p.xlsx")]) == 1
    assert "c.csv: no form column" in capsys.readouterr().err
    import fastexcel

    issues = fastexcel.read_excel(str(tmp_path / "p.xlsx")).load_sheet("Issues").to_polars()
    assert issues.filter(pl.col("Column") == "(file problem)").height == 1
    assert issues.filter(pl.col("Column") == "Form").height == 5  # and on every row, as before (no such header: acsxl's)


def _cases_book(path: Path, rows: list[list]) -> Path:
    header = ["Client ID", "Name", "Form", "Tax Year", "Balance", "Lien Filed", "Notice", "Notice Date"]
    pl.DataFrame(rows, schema=header, orient="row").write_excel(path, worksheet="Cases")
    return path


def test_one_client_id_used_for_two_people_in_two_files_is_not_added_up(tmp_path: Path) -> None:
    """Two firms' files both numbering a client 1 were summed: a $40k client became passport
    certifiable. Different names (ignoring case and punctuation) in different files keep them apart."""
    folder = tmp_path / "clients"
    folder.mkdir()
    _cases_book(folder / "a.xlsx", [["1", "Ann Lee", "1040", "2023", 40000.0, "yes", "CP504", "2026-11-01"]])
    _cases_book(folder / "b.xlsx", [["1", "Bob Roe", "1040", "2022", 40000.0, "yes", "CP504", "2026-11-01"],
                                    ["2", "Cy Poe", "1040", "2022", 1000.0, "no", "CP14", "2026-11-01"]])
    _cases_book(folder / "c.xlsx", [["2", "CY POE.", "1040", "2021", 2000.0, "no", "CP14", "2026-11-01"]])
    out = tmp_path / "p.csv"
    assert main(["triage", str(folder), "--as-of", AS_OF, "--out", str(out), "-q"]) == 0
    rows = pl.read_csv(out, infer_schema=False)
    assert rows.height == 4
    ones = rows.filter(pl.col("client_id") == "1")
    assert ones["client_total"].cast(pl.Float64).to_list() == [40000.0, 40000.0]
    assert set(ones["passport_risk"]) == {"none"}
    assert ones["issues"].str.contains("client id 1 is used for different names in different files").all()
    twos = rows.filter(pl.col("client_id") == "2")  # the same person, written differently: one client
    assert twos["client_total"].cast(pl.Float64).to_list() == [3000.0, 3000.0]
    assert twos["issues"].is_null().all()


def test_a_case_written_twice_is_reported_on_both_rows_and_counted_once(tmp_path: Path) -> None:
    row = ["7", "Dee Fox", "1040", "2023", 30000.0, "no", "CP504", "2026-11-01"]
    book = _cases_book(tmp_path / "c.xlsx", [row, ["7", "Dee Fox", "1040", "2024", 5000.0, "no", "CP14", "2026-11-01"], row])
    out = tmp_path / "p.csv"
    assert main(["triage", str(book), "--as-of", AS_OF, "--out", str(out), "-q"]) == 0
    rows = pl.read_csv(out, infer_schema=False)
    assert rows.height == 3  # rows out = rows in
    assert rows["client_total"].cast(pl.Float64).unique().to_list() == [35000.0]
    twice = rows.filter(pl.col("tax_period") == "2023")
    said = "(same client, form, period and facts): counted once in the client's totals"
    assert sorted(twice["issues"].to_list()) == [f"client_id: the same case as row 2 {said}", f"client_id: the same case as row 4 {said}"]


def test_a_workbook_s_rows_sent_to_a_worker_carry_only_their_own_data() -> None:
    """A folder refresh hands each worker one workbook's rows: a slice of the run's frame pickled whole
    list columns beneath it (48 MB a workbook in a folder of 200), which made the parallel refresh slower
    than refreshing one by one."""
    import pickle

    from acsxl.portfolio.service import compacted

    problems = [[{"field": "balance", "message": "x" * 60, "value": "n/a", "kind": "value"}]] * 20_000
    run = pl.DataFrame({"source_file": [i // 50 for i in range(20_000)], "problems": problems})
    one = run.partition_by("source_file", as_dict=True)[(7,)]
    small = compacted(one)
    assert small.equals(one) and small.schema == one.schema
    assert len(pickle.dumps(small)) * 50 < len(pickle.dumps(one))


def test_a_case_copied_into_many_files_names_a_few_of_the_others_and_counts_the_rest(tmp_path: Path) -> None:
    """500 copies of one workbook in a folder (a template copied per client, never filled in): each row
    paired with every copy made the run take gigabytes; now each names the first three and counts the rest."""
    row = ["7", "Dee Fox", "1040", "2023", 30000.0, "no", "CP504", "2026-11-01"]
    book = _cases_book(tmp_path / "c.xlsx", [row])
    firm = tmp_path / "firm"
    firm.mkdir()
    for i in range(300):
        (firm / f"copy-{i:03d}.xlsx").write_bytes(book.read_bytes())
    out = tmp_path / "p.csv"
    assert main(["triage", str(firm), "--as-of", AS_OF, "--out", str(out), "-q"]) == 0
    rows = pl.read_csv(out, infer_schema=False)
    assert rows.height == 300
    said = rows["issues"].unique().to_list()
    assert said == ["client_id: the same case as row 2 of another file, row 2 of another file, row 2 of another file and 296 more "
                    "(same client, form, period and facts): counted once in the client's totals"]
    assert rows["client_total"].cast(pl.Float64).unique().to_list() == [30000.0]

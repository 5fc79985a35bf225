"""What the user types into the Portfolio (Status, Assigned to, Note, a column of their own) survives
every refresh: the command line's --out over yesterday's portfolio, ``acsxl refresh`` inside a client's
workbook, and the Refresh portfolio button; a case that leaves the case lists keeps its note on the
Closed notes sheet and takes it back when it returns (acsxl.portfolio.working)."""

from __future__ import annotations

from contextlib import redirect_stderr
from datetime import date, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from acsxl.cli import main
from acsxl.portfolio.sample import sample_cases
from acsxl.portfolio.working import CLOSED, PORTFOLIO, kept_from_values, read_kept, with_kept

Case = tuple[str, str, str]  # client id, form, period, as the Portfolio shows them


def write_cases(frame: pl.DataFrame, path: Path) -> Path:
    frame.write_excel(path, worksheet="Cases", dtype_formats={pl.Date: "yyyy-mm-dd"})
    return path


def rows_of(path: Path, sheet: str = PORTFOLIO) -> list[dict[str, Any]]:
    book = openpyxl.load_workbook(path)
    values = list(book[sheet].iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def case_of(row: dict[str, Any]) -> Case:
    return row["Client ID"], row["Form"], row["Period"]


def type_into(path: Path, typed: dict[Case, dict[str, Any]], new_column: str | None = None) -> None:
    """As a user does in their spreadsheet application: values typed on the rows of some cases, and
    a column of their own added at the right of the table."""
    book = openpyxl.load_workbook(path)
    sheet = book[PORTFOLIO]
    headers = {c.value: c.column for c in sheet[1]}
    if new_column:
        headers[new_column] = sheet.max_column + 1
        sheet.cell(1, headers[new_column]).value = new_column
    for r in range(2, sheet.max_row + 1):
        case = tuple(sheet.cell(r, headers[h]).value for h in ("Client ID", "Form", "Period"))
        for header, value in typed.get(case, {}).items():
            sheet.cell(r, headers[header]).value = value
    book.save(path)


def pick(rows: list[dict[str, Any]], n: int, unassigned: bool = False) -> list[Case]:
    """``n`` distinct cases of the Portfolio, one row each (cases written twice left out)."""
    seen: dict[Case, int] = {}
    for row in rows:
        seen[case_of(row)] = seen.get(case_of(row), 0) + 1
    chosen = [case_of(r) for r in rows if seen[case_of(r)] == 1 and r["Client ID"] and (not unassigned or r["Assigned to"] is None)]
    return chosen[:: max(1, len(chosen) // n)][:n]


def triage(cases: Path, out: Path, as_of: str) -> tuple[int, str]:
    said = StringIO()
    with redirect_stderr(said):
        code = main(["triage", str(cases), "--as-of", as_of, "--out", str(out)])
    return code, said.getvalue()


def test_notes_typed_in_the_portfolio_survive_two_refreshes_with_changed_inputs(tmp_path: Path) -> None:
    frame = sample_cases(80, seed=3)
    cases, out = write_cases(frame, tmp_path / "cases.xlsx"), tmp_path / "portfolio.xlsx"
    assert triage(cases, out, "2026-11-23")[0] == 0
    first = rows_of(out)
    assert all(r["Status"] is None and r["Note"] is None for r in first)  # empty at first
    noted = pick(first, 6)
    unassigned = pick(first, 1, unassigned=True)[0]
    typed = {case: {"Status": f"working {i}", "Note": f"12153 faxed for {case[0]} {case[1]} {case[2]}"} for i, case in enumerate(noted)}
    typed[noted[0]]["Fee quoted"] = 1500
    typed[noted[3]]["Fee quoted"] = 1250.5
    typed[noted[1]]["Note"] = datetime(2026, 11, 24)  # "11/24" typed: the application made it a date
    typed.setdefault(unassigned, {})["Assigned to"] = "B. Okafor"
    type_into(out, typed, new_column="Fee quoted")

    # The case lists change: one noted case paid and removed, a balance corrected, rows reordered.
    gone = noted[2]
    ids, forms, periods = (frame.get_column(c).cast(pl.String) for c in ("Client #", "Form", "Tax Period"))
    is_gone = (ids == gone[0]) & (forms == gone[1]) & (periods == gone[2])
    changed = frame.filter(~is_gone).with_columns(pl.col("Balance Due") * 1.5).reverse()
    write_cases(changed, cases)
    code, said = triage(cases, out, "2026-11-30")
    assert code == 0, said
    second = {case_of(r): r for r in rows_of(out)}
    for case in noted:
        if case == gone:
            continue
        assert second[case]["Status"] == typed[case]["Status"], case
        expected = "11/24/2026" if case == noted[1] else typed[case]["Note"]
        assert second[case]["Note"] == expected, case
    assert second[noted[0]]["Fee quoted"] == 1500 and second[noted[3]]["Fee quoted"] == 1250.5
    type_into(out, {noted[4]: {"Fee quoted": "TBD"}})  # text among the amounts: the column comes back as text, nothing lost
    assert second[unassigned]["Assigned to"] == "B. Okafor"
    assert gone not in second
    closed = rows_of(out, CLOSED)
    assert [(r["Client ID"], r["Form"], r["Period"]) for r in closed] == [gone]
    assert closed[0]["Note"] == typed[gone]["Note"] and closed[0]["Status"] == typed[gone]["Status"]
    assert closed[0]["Missing since"] == datetime(2026, 11, 30) and closed[0]["Last source"].startswith("cases.xlsx, Cases, row ")

    # A third run, the case back: its note comes back from the Closed notes sheet, which empties.
    write_cases(frame, cases)
    assert triage(cases, out, "2026-12-01")[0] == 0
    third = {case_of(r): r for r in rows_of(out)}
    for case in noted:
        assert third[case]["Status"] == typed[case]["Status"], case
    assert third[gone]["Note"] == typed[gone]["Note"]
    assert [third[noted[k]]["Fee quoted"] for k in (0, 3, 4)] == ["1500", "1250.5", "TBD"]
    assert rows_of(out, CLOSED) == []
    assert openpyxl.load_workbook(out)[CLOSED]["A1"].value.startswith("No notes of closed cases")


def test_notes_survive_refresh_in_place_of_a_client_workbook(tmp_path: Path) -> None:
    client = write_cases(sample_cases(40, seed=5), tmp_path / "Harbor Diner.xlsx")
    assert main(["refresh", str(client), "--as-of", "2026-11-23", "-q"]) == 0
    noted = pick(rows_of(client), 3)
    type_into(client, {case: {"Note": f"call {case[0]}", "Status": "waiting on IRS"} for case in noted})
    # The client's case list changes in its own sheet: one noted case removed.
    book = openpyxl.load_workbook(client)
    sheet = book["Cases"]
    gone = noted[1]
    for r in range(2, sheet.max_row + 1):
        if (sheet.cell(r, 1).value, sheet.cell(r, 4).value, str(sheet.cell(r, 5).value)) == gone:
            sheet.delete_rows(r)
            break
    book.save(client)
    for as_of in ("2026-11-30", "2026-12-01"):  # twice: the Closed notes sheet is read back too
        assert main(["refresh", str(client), "--as-of", as_of, "-q"]) == 0
        now = {case_of(r): r for r in rows_of(client)}
        for case in noted:
            if case != gone:
                assert now[case]["Note"] == f"call {case[0]}" and now[case]["Status"] == "waiting on IRS"
        closed = rows_of(client, CLOSED)
        assert [(r["Client ID"], r["Form"], r["Period"], r["Note"]) for r in closed] == [(*gone, f"call {gone[0]}")]
        assert closed[0]["Missing since"] == datetime(2026, 11, 30)  # the run that first missed it


def test_the_case_lists_assignee_fills_assigned_to_and_wins_over_a_typed_one_said_on_the_row(tmp_path: Path) -> None:
    frame = sample_cases(40, seed=5)
    cases, out = write_cases(frame, tmp_path / "cases.xlsx"), tmp_path / "p.xlsx"
    assert triage(cases, out, "2026-11-23")[0] == 0
    first = rows_of(out)
    staff = dict(zip(frame.get_column("Client #"), frame.get_column("Staff"), strict=True))
    assert all(r["Assigned to"] == staff.get(r["Client ID"]) for r in first if r["Client ID"])  # Staff is an alias
    assigned = next(case for case in pick(first, 20) if staff.get(case[0]))
    type_into(out, {assigned: {"Assigned to": "Somebody Else"}})
    code, said = triage(cases, out, "2026-11-24")
    assert code == 0, said
    row = next(r for r in rows_of(out) if case_of(r) == assigned)
    assert row["Assigned to"] == staff[assigned[0]]
    assert "'Somebody Else' typed in the Portfolio gave way to the case list's" in row["Issues"]
    issues = pl.read_excel(out, sheet_name="Issues")
    assert issues.filter(pl.col("Value found") == "Somebody Else").height == 1


def test_the_summary_counts_each_assignees_cases_by_window(tmp_path: Path) -> None:
    cases, out = write_cases(sample_cases(60, seed=5), tmp_path / "cases.xlsx"), tmp_path / "p.xlsx"
    assert triage(cases, out, "2026-11-23")[0] == 0
    portfolio = pl.read_excel(out, sheet_name=PORTFOLIO)
    summary = [list(r) for r in openpyxl.load_workbook(out)["Summary"].iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(summary) if r[0] == "By assignee")
    header = summary[at + 1][:7]
    assert header == ["Assigned to", "Rows", "Balance", "Overdue", "Due in 0-7 days", "Due in 8-30 days", "Later or none"]
    table = {}
    for r in summary[at + 2:]:
        if r[0] is None:
            break
        table[r[0]] = r[1:7]
    expected = portfolio.group_by(pl.col("Assigned to").fill_null("(unassigned)")).agg(pl.len(), (pl.col("Days left") < 0).sum())
    assert {k: (v[0], v[2]) for k, v in table.items()} == {k: (n, o) for k, n, o in expected.iter_rows()}
    assert list(table)[-1] == "(unassigned)" and all(sum(v[2:]) == v[0] for v in table.values())


def test_a_portfolio_open_in_a_spreadsheet_application_is_not_replaced(tmp_path: Path) -> None:
    cases, out = write_cases(sample_cases(30, seed=5), tmp_path / "cases.xlsx"), tmp_path / "p.xlsx"
    assert triage(cases, out, "2026-11-23")[0] == 0
    type_into(out, {pick(rows_of(out), 1)[0]: {"Note": "typed, not yet saved elsewhere"}})
    before = out.read_bytes()
    (tmp_path / "~$p.xlsx").write_bytes(b"lock")  # Excel has it open: what is typed may not be saved yet
    code, said = triage(cases, out, "2026-11-24")
    assert code != 0 and "open in a spreadsheet application" in said and "p.xlsx" in said and "Traceback" not in said
    assert out.read_bytes() == before


def test_the_button_gives_back_what_was_typed_in_the_open_workbook() -> None:
    # The values Excel hands over: headers first, numbers as floats, empty cells as None.
    portfolio = [["Rank", "Name", "Status", "Assigned to", "Note", "Client ID", "Form", "Period", "Fee quoted"],
                 [1.0, "Avery Tran", "faxed", None, "12153 sent 11/24", "C00050", "1040", 2020.0, 1500.0],
                 [2.0, "Harbor Diner LLC", None, None, None, "C00063", "941", "2019Q1", None]]
    closed = [["Missing since", "Name", "Client ID", "Form", "Period", "Status", "Assigned to", "Note", "Last source"],
              [datetime(2026, 11, 1), "Old Client", 1002.0, "1040", 2019.0, "done", None, "paid in full", "cases.xlsx, Cases, row 9"]]
    kept = kept_from_values(portfolio, closed, "book.xlsm")
    assert kept.own == ("Fee quoted",)
    result = pl.DataFrame({"client_id": ["C00050", "1002", "C00063"], "client_name": ["Avery Tran", "Old Client", "Harbor Diner LLC"],
                           "form": ["1040", "1040", "941"], "tax_period": ["2020", "2019", "2019Q1"], "assigned_to": [None, None, None],
                           "problems": [None, None, None]}, schema_overrides={"assigned_to": pl.String,
                                                                             "problems": pl.List(pl.Struct({"field": pl.String, "message": pl.String,
                                                                                                            "value": pl.String, "kind": pl.String}))})
    merged = with_kept(result, kept, date(2026, 11, 30), "%m/%d/%Y")
    assert merged.result.get_column("note").to_list() == ["12153 sent 11/24", "paid in full", None]
    assert merged.result.get_column("Fee quoted").to_list() == [1500.0, None, None]
    assert merged.closed.height == 0  # the closed case came back


def test_two_clients_sharing_an_id_keep_their_own_notes(tmp_path: Path) -> None:
    # Two files, one id for two people: each row's note goes back to the same person, whatever the order.
    kept = kept_from_values([["Client ID", "Name", "Form", "Period", "Note"],
                             ["C1", "Ann Lee", "1040", "2022", "Ann's note"], ["C1", "Bob Roy", "1040", "2022", "Bob's note"]], None, "p.xlsx")
    result = pl.DataFrame({"client_id": ["C1", "C1"], "client_name": ["Bob Roy", "Ann Lee"], "form": ["1040", "1040"],
                           "tax_period": ["2022", "2022"], "problems": [None, None]},
                          schema_overrides={"problems": pl.List(pl.Struct({"field": pl.String, "message": pl.String,
                                                                          "value": pl.String, "kind": pl.String}))})
    merged = with_kept(result, kept, date(2026, 11, 30), "%m/%d/%Y")
    assert merged.result.get_column("note").to_list() == ["Bob's note", "Ann's note"]
    # A name spelled anew still finds its note (the case is the id, form and period).
    renamed = result.with_columns(pl.Series("client_name", ["Robert Roy", "Ann Lee"]))
    assert with_kept(renamed, kept, date(2026, 11, 30), "%m/%d/%Y").result.get_column("note").to_list() == ["Bob's note", "Ann's note"]


def test_no_previous_portfolio_reads_as_nothing_kept(tmp_path: Path) -> None:
    assert read_kept(tmp_path / "none.xlsx") is None


@pytest.mark.parametrize("bad", [b"not a workbook", b"PK\x03\x04 broken zip"])
def test_a_previous_portfolio_that_cannot_be_read_is_left_as_it_is(tmp_path: Path, bad: bytes) -> None:
    from acsxl.errors import NotKept

    path = tmp_path / "p.xlsx"
    path.write_bytes(bad)
    with pytest.raises(NotKept, match="left as it is, so nothing typed"):
        read_kept(path)


def test_the_portfolio_says_how_many_rows_hold_typed_values_so_an_untouched_one_is_not_read_back(tmp_path: Path) -> None:
    from acsxl.xlsx.package import part_head

    cases, out = write_cases(sample_cases(40, seed=5), tmp_path / "cases.xlsx"), tmp_path / "p.xlsx"
    assert triage(cases, out, "2026-11-23")[0] == 0
    assert b"<!--acsxl typed 0-->" in part_head(out, PORTFOLIO)  # the case list's Staff is not typed
    kept = read_kept(out)
    assert kept is not None and kept.rows.height == 0 and kept.stamp is not None
    noted = pick(rows_of(out), 3)
    type_into(out, {case: {"Note": "typed"} for case in noted})
    assert b"acsxl typed" not in part_head(out, PORTFOLIO)  # saved by an application: read back in full
    assert read_kept(out).rows.height >= 3
    assert triage(cases, out, "2026-11-24")[0] == 0
    assert b"<!--acsxl typed 3-->" in part_head(out, PORTFOLIO)
    assert triage(cases, out, "2026-11-25")[0] == 0  # written by acsxl with notes in it: read back, kept
    assert sorted(case_of(r) for r in rows_of(out) if r["Note"] == "typed") == sorted(noted)


def test_notes_that_cannot_be_matched_to_a_case_are_kept_on_the_closed_notes_sheet_and_said() -> None:
    # The user deleted the Name and Client ID columns of the Portfolio: the notes cannot find their cases.
    kept = kept_from_values([["Form", "Period", "Note"], ["1040", 2022.0, "keep me"]], None, "p.xlsx")
    assert kept.notes and "no Client ID, Name column" in kept.notes[0]
    result = pl.DataFrame({"client_id": ["C1"], "client_name": ["Ann Lee"], "form": ["1040"], "tax_period": ["2022"], "problems": [None]},
                          schema_overrides={"problems": pl.List(pl.Struct({"field": pl.String, "message": pl.String,
                                                                          "value": pl.String, "kind": pl.String}))})
    merged = with_kept(result, kept, date(2026, 11, 30), "%m/%d/%Y")
    assert merged.result.get_column("note").to_list() == [None]
    assert merged.closed.get_column("note").to_list() == ["keep me"] and merged.notes == list(kept.notes)

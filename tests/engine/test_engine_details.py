"""Engine details beyond the scenario files: Excel-typed cells, ranking ties, extra columns, parser contracts."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import polars as pl
import pytest

from acsxl.cli import main
from acsxl.engine import triage
from acsxl.rules import values

AS_OF = date(2026, 3, 2)


def test_excel_typed_cells_through_the_cli(tmp_path) -> None:
    """Dates as date cells, datetimes and serial numbers; forms and years as numbers; Excel booleans."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Cases"
    ws.append(["Client", "Form", "Tax Year", "Balance", "Notice", "Notice Date", "Filed", "Lien", "Assessment Date", "Tolling Days"])
    ws.append(["A", 1040, 2022, 14800.0, "LT11", datetime(2026, 2, 13), True, False, 42877, 45])  # serial 42877 = 2017-05-22
    ws.append(["B", 941.0, "2025-Q3", "$17,400.00", "cp161", "02/16/2026", None, "x", datetime(2025, 11, 3, 0, 0), None])
    ws.append(["C", "1040", 2023, 9000, 504, 46073, "yes", "n", None, 2.5])  # bare 504 -> CP504; serial 46073 = 2026-02-20
    wb.save(tmp_path / "typed.xlsx")
    out = tmp_path / "o.csv"
    assert main(["triage", str(tmp_path / "typed.xlsx"), "--as-of", AS_OF.isoformat(), "--out", str(out), "-q"]) == 0
    rows = {r["client_id"]: r for r in pl.read_csv(out, try_parse_dates=True, schema_overrides={"form": pl.String}).iter_rows(named=True)}
    assert rows["A"]["next_deadline"] == date(2026, 3, 16) and rows["A"]["csed"] == date(2027, 7, 6)
    assert rows["B"]["form"] == "941" and rows["B"]["tax_period"] == "2025Q3" and rows["B"]["balance"] == 17400.0
    assert rows["B"]["last_notice"] == "CP161" and rows["B"]["csed"] == date(2035, 11, 3)
    assert rows["C"]["last_notice"] == "CP504" and rows["C"]["notice_date"] == date(2026, 2, 20)
    assert rows["C"]["next_deadline"] == date(2026, 3, 23)  # 02-20 + 30 = Sunday 03-22 -> Monday
    assert 'tolling_days: "2.5" is not a whole number of days' in rows["C"]["issues"]


def test_rank_ties_break_on_days_left_then_balance_then_input_order() -> None:
    frame = pl.DataFrame({
        "client_id": ["A", "B", "C", "D"],
        "form": ["1040"] * 4,
        "tax_period": ["2023"] * 4,
        "balance": [500.0, 500.0, 500.0, 500.0],
        "return_filed": ["Y"] * 4,
    })
    out = triage(frame, AS_OF)
    assert out["priority"].n_unique() == 1
    assert out["client_id"].to_list() == ["A", "B", "C", "D"]  # all equal: input order
    out = triage(frame.with_columns(pl.Series("balance", [500.0, 500.0, 501.0, 500.0])), AS_OF)
    assert out["client_id"].to_list()[0] == "C"  # same priority: the larger balance first
    assert out["rank"].to_list() == [1, 2, 3, 4]


def test_extra_columns_pass_through_and_clashes_are_renamed() -> None:
    frame = pl.DataFrame({"client_id": ["A"], "form": ["1040"], "tax_period": ["2023"], "balance": [1.0],
                          "Preparer": ["Kim"], "priority": ["high"]})
    out = triage(frame, AS_OF)
    assert out["Preparer"].to_list() == ["Kim"]
    assert out["priority (yours)"].to_list() == ["high"]
    assert out["priority"].dtype == pl.Int64


def test_an_empty_case_list_gives_an_empty_portfolio() -> None:
    out = triage(pl.DataFrame({"client_id": [], "form": [], "tax_period": [], "balance": []}, schema=dict.fromkeys(
        ["client_id", "form", "tax_period", "balance"], pl.String)), AS_OF)
    assert out.height == 0 and "next_action" in out.columns


ODD_CELLS = ["", "  ", "n/a", "1040.0", "$1,234.50", "(250)", "13/45/2024", "2025Q5", "maybe", "CP 9999", "x", "45000",
             "-3", "1e400", 12.5, -1.0, float("nan"), True, date(2025, 3, 1), datetime(2025, 3, 1, 14, 30)]


@pytest.mark.parametrize("parse", [values.parse_form, values.parse_notice, values.parse_status, values.parse_source,
                                   values.parse_taxpayer_type, values.parse_date, values.parse_flag, values.parse_number,
                                   values.parse_whole, values.parse_period])
def test_a_value_with_a_problem_parses_to_nothing(parse) -> None:
    """engine.parse looks problems up only for the rows whose value came out empty."""
    for cell in ODD_CELLS:
        value, problem = parse(cell)
        assert problem is None or value is None, (parse.__name__, cell, value, problem)


def test_payroll_periods_count_distinct_form_and_period_a_missing_period_included() -> None:
    """Pyramiding needs two or more distinct employment periods; the same quarter twice is one, and a
    row without its period (flagged on the row) is still a liability of its own."""
    frame = pl.DataFrame({"client_id": ["A", "A", "B", "B", "C", "C"], "form": ["941", "941", "941", "941", "941", "940"],
                          "tax_period": ["2024Q1", None, "2024Q1", "2024Q1", "2024Q1", "2024"],
                          "balance": [100.0, 200.0, 5.0, 6.0, 1.0, 1.0]})
    out = triage(frame, AS_OF)
    risk = dict(zip(out["client_id"], out["payroll_risk"].cast(pl.String), strict=True))
    assert risk == {"A": "pyramiding", "B": "present", "C": "pyramiding"}


def test_every_rule_reads_what_it_declares() -> None:
    """The step order is derived from the rules' declarations, so they must be true: the columns a
    rule's expressions read are exactly the columns it declares."""
    from datetime import date

    from acsxl.engine.columnar import COLUMNS, VEC
    from acsxl.rules.parameters import RULEBOOK
    from acsxl.rules.triage import AGGREGATES, RULES

    law = RULEBOOK.at(date(2026, 11, 23))
    for rule in RULES:
        out = rule(VEC, COLUMNS, law)
        exprs = out if isinstance(out, tuple) else (VEC.lit(out),)
        read = {name for e in exprs for name in e.meta.root_names()}
        assert read == set(rule.reads), f"{rule.name}: reads {sorted(read)}, declares {sorted(rule.reads)}"
    for name, aggregate in AGGREGATES.items():
        read = set(VEC.lit(aggregate.formula(VEC, COLUMNS, law)).meta.root_names())
        assert read == set(aggregate.reads), f"{name}: reads {sorted(read)}, declares {sorted(aggregate.reads)}"


def test_the_step_order_is_derived_and_every_step_reads_only_what_came_before() -> None:
    from acsxl.rules.triage import AGGREGATES, INPUTS, STEPS_AFTER_AGGREGATES, STEPS_BEFORE_AGGREGATES

    made = set(INPUTS)
    for step in STEPS_BEFORE_AGGREGATES:
        assert all(set(rule.reads) <= made for rule in step), [rule.name for rule in step]
        made |= {name for rule in step for name in rule.makes}
    assert all(set(a.reads) <= made for a in AGGREGATES.values())
    made |= set(AGGREGATES)
    for step in STEPS_AFTER_AGGREGATES:
        assert all(set(rule.reads) <= made for rule in step), [rule.name for rule in step]
        made |= {name for rule in step for name in rule.makes}


def test_case_lists_of_many_files_in_many_chunks_triage_as_one() -> None:
    """Cases from many files arrive as a frame of many chunks; building problem texts over such columns
    made polars panic ('assertion failed: i < self.len()'), which killed a 200-workbook folder run."""
    from datetime import date

    files = [pl.DataFrame({"client_id": [f"C{i}", f"D{i}"], "form": ["1040", "941"], "tax_period": ["2023", "2024Q1"],
                           "balance": ["-25.5" if i % 3 == 0 else "$1,200.00", "n/a" if i % 4 == 0 else "300"],
                           "source_row": [2, 3], "source_file": [i, i]}) for i in range(40)]
    cases = pl.concat(files, rechunk=False)
    assert cases.n_chunks() == 40
    out = triage(cases, date(2026, 11, 23))
    assert out.height == 80
    negative = out.filter(pl.col("client_id") == "C0")["problems"].to_list()[0]
    assert negative[0] | {"kind": "value"} == {"field": "balance", "message": "negative amount -25.5", "value": "-25.5", "kind": "value"}


def test_rank_is_a_plain_sort_on_closing_rights_then_score() -> None:
    """The packed rank key (engine.pipeline._rank_key) orders as this naive sort: rows whose running
    deadline loses a right within the horizon first, nearest first (RR §3.2); then priority, fewest
    days left (none last), larger balance; ties keep input order. Over every scenario row, at two dates."""
    from conftest import load_groups
    from scenarios import group_frame

    from acsxl.rules.parameters import RULEBOOK

    frame = pl.concat([group_frame(g) for g in load_groups()], how="diagonal_relaxed")
    for as_of in (AS_OF, date(2025, 6, 2)):
        law = RULEBOOK.at(as_of)
        out = triage(frame, as_of).sort("source_row")

        def key(row: dict, law=law) -> tuple:
            days = row["days_left"]
            closing = row["deadline_type"] in law.priority.right_deadlines and days is not None and 0 <= days <= law.priority.right_horizon_days
            balance = max(row["balance"] or 0.0, 0.0)
            return (0 if closing else 1, 0 if closing else -row["priority"], 10**9 if days is None else days, -round(balance * 100), row["source_row"])

        naive = [r["source_row"] for r in sorted(out.iter_rows(named=True), key=key)]
        ranked = out.sort("rank")["source_row"].to_list()
        assert ranked == naive
        assert out.filter(pl.col("deadline_type") == "cdp_request")["rank"].min() < 10


def test_date_cells_outside_the_plausible_range_are_problems_in_both_paths() -> None:
    """Typed date cells (a workbook's) take the same range check as text (issue #23 point 6)."""
    from acsxl.engine.scalar import triage_case

    days = [date(1899, 12, 30), date(2026, 11, 2), datetime(9999, 12, 31)]
    frame = pl.DataFrame({"client_id": ["A", "B", "C"], "form": ["1040"] * 3, "tax_period": ["2023"] * 3, "balance": [5.0] * 3,
                          "last_notice": ["CP14"] * 3, "notice_date": pl.Series([*days[:2], date(2026, 11, 2)], dtype=pl.Date),
                          "response_due": pl.Series([None, None, datetime(9999, 12, 31)], dtype=pl.Datetime)})
    out = triage(frame, AS_OF).sort("source_row")
    assert out["notice_date"].to_list() == [None, date(2026, 11, 2), date(2026, 11, 2)]
    assert out["response_due"].to_list() == [None, None, None]
    messages = [[p["message"] for p in ps or []] for ps in out["problems"].to_list()]
    assert any("outside 1950-2099" in m for m in messages[0]) and any("outside 1950-2099" in m for m in messages[2])
    for i, day in enumerate(days):
        case = {"client_id": "X", "form": "1040", "tax_period": "2023", "balance": 5.0, "last_notice": "CP14",
                "notice_date": day if i < 2 else date(2026, 11, 2), "response_due": day if i == 2 else None}
        scalar = triage_case(case, AS_OF)
        assert (scalar["notice_date"], scalar["response_due"]) == (out["notice_date"][i], out["response_due"][i])

"""The =ACS_... worksheet functions called as Excel calls them: single cells and 2-D ranges of the
values Excel hands over (floats for codes, date serials, datetimes, booleans, None for an empty cell,
empty text), bad values, and a hypothesis test that each function answers as the engine does."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acsxl.engine import triage
from acsxl.excel import functions as f
from acsxl.excel import udfs
from acsxl.io.reader import value_column
from acsxl.portfolio.columns import HEADERS
from acsxl.portfolio.columns import NAMES as OUTPUT_COLUMNS
from acsxl.rules.catalogue import COLLECTION_STATUSES, NOTICES
from acsxl.rules.triage import FORM_FAMILY
from acsxl.rules.values import parse_form

AS_OF = date(2026, 11, 21)
SERIAL = 46300.0  # 2026-10-05 as an Excel date serial


def column(*values: object) -> list[list[object]]:
    """A one-column range as xlwings hands it with ndim=2."""
    return [[value] for value in values]


# -- single cells, as Excel hands them ----------------------------------------------------------------

def test_codes_as_floats_and_dates_as_serials_or_datetimes() -> None:
    assert udfs.ACS_CAUSE(941.0, None) == "payroll_business"
    assert udfs.ACS_CAUSE(1040.0, "CP2000") == "audit_adjustment"
    assert udfs.ACS_CAUSE(1040.0, 504.0, True) == "filed_unpaid"  # a bare 504 typed as a number is CP504
    assert udfs.ACS_DEADLINE("CP504", SERIAL, None, AS_OF) == date(2026, 11, 4)
    assert udfs.ACS_DEADLINE("CP504", datetime(2026, 10, 5), None, datetime(2026, 11, 21)) == date(2026, 11, 4)
    assert udfs.ACS_DEADLINE("cp 504", "10/05/2026", "", "2026-11-21") == date(2026, 11, 4)
    assert udfs.ACS_DAYS_LEFT("CP504", SERIAL, None, AS_OF) == -17
    assert udfs.ACS_DEADLINE_TYPE("LT11", datetime(2026, 11, 1), None, AS_OF) == "cdp_request"
    assert udfs.ACS_DEADLINE_TYPE("LT11", SERIAL, None, AS_OF) == "equivalent_hearing"  # CDP window missed
    assert udfs.ACS_CSED(datetime(2018, 5, 1), 30.0) == date(2028, 5, 31)


def test_a_one_by_one_range_is_a_single_cell() -> None:
    assert udfs.ACS_CAUSE([[941.0]], [[None]]) == "payroll_business"
    assert udfs.ACS_STAGE([["LT11"]], [[SERIAL]], AS_OF) == udfs.ACS_STAGE("LT11", SERIAL, AS_OF)


def test_stage_and_risks() -> None:
    assert udfs.ACS_STAGE("LT11", datetime(2026, 9, 1), AS_OF) == "levy_eligible"  # CDP window passed
    assert udfs.ACS_STAGE("CP14", SERIAL, AS_OF) == "notice"
    assert udfs.ACS_STAGE("CP504", SERIAL, AS_OF, "revenue_officer") == "revenue_officer"
    assert udfs.ACS_PASSPORT_RISK(70_000.0, True, None, None, AS_OF) == "certifiable"
    assert udfs.ACS_PASSPORT_RISK(70_000.0, True, None, "installment_agreement", AS_OF) == "excluded"
    assert udfs.ACS_PASSPORT_RISK(61_000.0, None, None, None, AS_OF) == "at_risk"
    assert udfs.ACS_PASSPORT_RISK(10_000.0, None, None, None, AS_OF, "CP508C") == "certified"
    assert udfs.ACS_PAYROLL_RISK(941.0) == "present"
    assert udfs.ACS_PAYROLL_RISK(941.0, None, 4.0) == "pyramiding"
    assert udfs.ACS_PAYROLL_RISK("941", "L1153") == "tfrp_proposed"
    assert udfs.ACS_PAYROLL_RISK("CIVPEN") == "tfrp_assessed"
    assert udfs.ACS_PAYROLL_RISK(1040.0) == "none"
    assert udfs.ACS_RO_RISK(150_000.0) == "elevated"
    assert udfs.ACS_RO_RISK(5_000.0, None, None, None, "L725B") == "assigned"
    assert udfs.ACS_RO_RISK(5_000.0) == "none"


def test_as_of_defaults_to_today() -> None:
    today = udfs.ACS_DAYS_LEFT("CP504", SERIAL)
    assert today == (date(2026, 11, 4) - date.today()).days


# -- bad values ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "message"), [
    (lambda: udfs.ACS_CAUSE(1040.0, "CP999"), '#ACS: last_notice: unknown notice code "CP999"'),
    (lambda: udfs.ACS_CAUSE("W-9", "CP14"), '#ACS: form: unknown form "W-9"'),
    (lambda: udfs.ACS_CAUSE(None, "CP14"), "#ACS: form: missing"),
    (lambda: udfs.ACS_DEADLINE("CP504", "next week"), '#ACS: notice_date: "next week" is not a date (use YYYY-MM-DD or MM/DD/YYYY)'),
    (lambda: udfs.ACS_DEADLINE("CP504", 12.0), '#ACS: notice_date: "12" is not a plausible Excel date serial'),
    (lambda: udfs.ACS_DEADLINE("CP504", SERIAL, -5.0), "#ACS: balance: negative amount -5"),
    (lambda: udfs.ACS_PASSPORT_RISK(-1.0), "#ACS: individual_total: negative amount -1"),
    (lambda: udfs.ACS_PASSPORT_RISK(70_000.0, "maybe"), '#ACS: lien_filed: "maybe" is not yes/no'),
    (lambda: udfs.ACS_PAYROLL_RISK(941.0, None, 2.5), '#ACS: periods_unpaid: "2.5" is not a whole number of periods'),
    (lambda: udfs.ACS_RO_RISK(1000.0, -1.0), "#ACS: payroll_periods: negative number of periods -1"),
    (lambda: udfs.ACS_CSED(datetime(2018, 5, 1), 2.5), '#ACS: tolling_days: "2.5" is not a whole number of days'),
    (lambda: udfs.ACS_DEADLINE("CP504", SERIAL, None, "soon"), '#ACS: as_of: "soon" is not a date (use YYYY-MM-DD or MM/DD/YYYY)'),
    (lambda: udfs.ACS_DEADLINE("CP504", SERIAL, None, [[AS_OF], [AS_OF]]), "#ACS: as_of: give one date, not a range"),
    (lambda: udfs.ACS_CAUSE(column(1040.0, 941.0), column("CP14", "CP14", "CP14")),
     "#ACS: ranges differ in size: form has 2 cells, last_notice has 3"),
    (lambda: udfs.ACS_TRIAGE([["Hello", "World"], [1.0, 2.0]]),
     "#ACS: range: no case-list headers found (expected client_id, form, tax_period, balance; its first row holds 'Hello', 'World'); "
     "rename the headers, or map them in acsxl.toml"),
])
def test_bad_values_give_a_readable_text(call, message: str) -> None:
    assert call() == message


def test_empty_cells_and_empty_text_are_blank() -> None:
    assert udfs.ACS_CAUSE(None, None) is None
    assert udfs.ACS_CAUSE("", "  ") is None
    assert udfs.ACS_DEADLINE("", None) is None


def test_a_bad_cell_does_not_break_the_rest_of_the_spill() -> None:
    got = udfs.ACS_DEADLINE(
        column("CP504", "CP999", None, "LT11", 504.0, "CP504"),
        column(SERIAL, SERIAL, None, datetime(2026, 11, 1), "10/05/2026", "later"),
        None, AS_OF)
    assert got == column(date(2026, 11, 4), '#ACS: last_notice: unknown notice code "CP999"', None,
                         date(2026, 12, 1), date(2026, 11, 4),
                         '#ACS: notice_date: "later" is not a date (use YYYY-MM-DD or MM/DD/YYYY)')


def test_single_cells_broadcast_against_a_range_and_rows_keep_their_shape() -> None:
    assert udfs.ACS_DAYS_LEFT(column("CP504", "CP503"), SERIAL, None, AS_OF) == column(-17, udfs.ACS_DAYS_LEFT("CP503", SERIAL, None, AS_OF))
    row = udfs.ACS_CAUSE([[941.0, 1040.0, 720.0]], "CP14")
    assert row == [["payroll_business", "unknown", "payroll_business"]]


def test_an_unexpected_failure_is_a_text_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(f, "triage_case", boom)
    assert udfs.ACS_CAUSE(941.0, None) == "#ACS: ACS_CAUSE failed (RuntimeError: disk on fire); please report it"


# -- case-list functions --------------------------------------------------------------------------

HEADER_ROW = [["Client", "Form", "Period", "Balance", "Notice", "Notice Date", "Status"]]
ROWS = [
    ["A", 1040.0, 2023.0, 1200.5, "CP504", datetime(2026, 11, 1), None],
    ["B", "941", "2025Q2", "9,000", "LT11", SERIAL, ""],
    [None, None, None, None, None, None, None],
    ["C", 1040.0, 2024.0, 50.0, "CP999", None, None],
    ["A", 1040.0, 2022.0, 80_000.0, "CP14", SERIAL, None],
]


def test_next_action_and_priority_per_row_and_per_range() -> None:
    actions = udfs.ACS_NEXT_ACTION(HEADER_ROW, ROWS, AS_OF)
    assert actions[2] == [None] and actions[3] == ['#ACS: last_notice: unknown notice code "CP999"']
    assert actions[0][0].startswith("Pay the 1040 2023 balance or set up an installment agreement before 2026-12-01")
    assert actions[1][0].startswith("CDP window missed: request an equivalent hearing")
    one = udfs.ACS_NEXT_ACTION(HEADER_ROW, [ROWS[1]], AS_OF)
    assert one == actions[1][0]
    priorities = udfs.ACS_PRIORITY(HEADER_ROW, ROWS, AS_OF)
    assert priorities[2] == [None] and priorities[3] == actions[3]
    assert all(0 <= p[0] <= 100 for i, p in enumerate(priorities) if i not in (2, 3))


def test_triage_spills_the_portfolio_with_headers_most_urgent_first() -> None:
    table = udfs.ACS_TRIAGE(HEADER_ROW + ROWS, AS_OF)
    assert table[0] == [HEADERS[c] for c in OUTPUT_COLUMNS]
    body = [dict(zip(OUTPUT_COLUMNS, r, strict=True)) for r in table[1:]]
    assert [r["rank"] for r in body] == [1, 2, 3, 4]  # the blank row is not a case
    assert [r["priority"] for r in body] == sorted((r["priority"] for r in body), reverse=True)
    assert {r["source"] for r in body} == {"range, row 2", "range, row 3", "range, row 5", "range, row 6"}
    assert next(r for r in body if r["client_id"] == "C")["issues"] == 'last_notice: unknown notice code "CP999"'
    assert next(r for r in body if r["client_id"] == "A")["client_total"] == 81_200.5


# -- every function answers as the engine does --------------------------------------------------

DAYS = st.dates(date(2015, 1, 1), date(2027, 6, 30))
EXCEL_DATE = st.one_of(st.none(), DAYS.map(lambda d: datetime(d.year, d.month, d.day)), DAYS.map(lambda d: float((d - date(1899, 12, 30)).days)))
EXCEL_FLAG = st.sampled_from([None, True, False, "yes", "N", ""])
EXCEL_CASE = st.fixed_dictionaries({
    "form": st.sampled_from([1040.0, 941.0, 940.0, 1120.0, "CIVPEN", "1040"]),
    "balance": st.one_of(st.floats(0, 3_000_000, allow_nan=False), st.sampled_from([0.0, 65_999.0, 66_001.0, 100_000.0])),
    "last_notice": st.sampled_from([None, "", 504.0, *NOTICES]),
    "notice_date": EXCEL_DATE,
    "response_due": st.one_of(st.none(), st.none(), EXCEL_DATE),
    "assessed_date": EXCEL_DATE,
    "tolling_days": st.sampled_from([None, 0.0, 45.0, 400.0]),
    "return_filed": EXCEL_FLAG,
    "sfr": EXCEL_FLAG,
    "assessment_source": st.sampled_from([None, "return", "SFR", "aur", "exam", "math_error", "penalty"]),
    "transaction_codes": st.sampled_from([None, "150 922 290", "150=0 290", "150 582", "290"]),
    "lien_filed": EXCEL_FLAG,
    "levy_issued": EXCEL_FLAG,
    "collection_status": st.sampled_from([None, *COLLECTION_STATUSES]),
})
EXCEL_AS_OF = st.dates(date(2020, 1, 1), date(2027, 12, 31))


def _engine(cases: list[dict], as_of: date) -> list[dict]:
    """The engine's rows for these cases, each case its own client, in input order."""
    frame = pl.DataFrame([value_column(k, [c[k] for c in cases]) for k in cases[0]]).with_columns(
        pl.Series("client_id", [f"c{i}" for i in range(len(cases))]), pl.Series("tax_period", ["2024Q1"] * len(cases)))
    return triage(frame, as_of).sort("source_row").to_dicts()


def _arguments(function: f.Function, cases: list[dict], engine: list[dict], as_of: date) -> list[object]:
    """The function's arguments for these cases, as ranges (as_of: one date). Client-level inputs are
    what the engine finds for a client with this one case."""
    def value(arg: f.Arg, case: dict, row: dict) -> object:
        if arg.name in ("payroll_periods", "periods_unpaid"):  # an unpaid employment-tax period
            return float(FORM_FAMILY[parse_form(case["form"])[0]] == "employment" and case["balance"] > 0)
        if arg.name == "unfiled_periods":
            return float(row["cause"] == "unfiled_sfr")
        return case[arg.target]

    return [as_of if arg.name == "as_of" else [[value(arg, case, row)] for case, row in zip(cases, engine, strict=True)]
            for arg in function.args]


# For these functions the engine's answer for an individual's case applies (the function takes its
# total as the individual's debt).
INDIVIDUAL_ONLY = {"ACS_PASSPORT_RISK"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EXCEL_CASE, min_size=2, max_size=6), EXCEL_AS_OF)
def test_every_function_answers_as_the_engine(cases: list[dict], as_of: date) -> None:
    engine = _engine(cases, as_of)
    for function in f.FUNCTIONS:
        arguments = _arguments(function, cases, engine, as_of)
        as_range = udfs.__dict__[function.name](*arguments)
        for i, (case, row) in enumerate(zip(cases, engine, strict=True)):
            if function.name in INDIVIDUAL_ONLY and row["taxpayer_type"] != "individual":
                continue
            if function.name == "ACS_PASSPORT_RISK" and row["csed_status"] == "expired":
                continue  # the function takes a total, not each assessment's date: expired debt is the caller's to leave out
            if function.name == "ACS_CSED" and case["assessed_date"] is None:
                assert as_range[i] == [None if case["tolling_days"] is None else "#ACS: assessed_date: missing"]
                continue
            cell = udfs.__dict__[function.name](*[a if isinstance(a, date) else a[i][0] for a in arguments])  # the scalar path
            assert as_range[i] == [cell], f"{function.name} row {i}: range {as_range[i]!r} != cell {cell!r}"
            assert cell == row[function.output], f"{function.name}: {cell!r} != engine {row[function.output]!r} for {case}"
    headers = [["Client ID", *cases[0]]]
    rows = [[f"c{i}", *(case[k] for k in cases[0])] for i, case in enumerate(cases)]
    assert [r[0] for r in udfs.ACS_PRIORITY(headers, rows, as_of)] == [
        r["priority"] for r in triage(pl.DataFrame([value_column(h, [r[j] for r in rows]) for j, h in enumerate(headers[0])]), as_of)
        .sort("source_row").to_dicts()]

"""The scalar path and the engine give the same answers: hypothesis draws random case lists, with
values typed as Excel, CSV or fastexcel hand them, and compares every output column row by row."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acsxl.engine import triage
from acsxl.engine.scalar import client_aggregates, triage_case
from acsxl.rules.catalogue import COLLECTION_STATUSES, FORMS, NOTICES

DAYS = st.dates(date(2015, 1, 1), date(2027, 12, 31))
NOTICE_TEXT = st.sampled_from([*NOTICES, "LTR 1058", "cp 504", "Letter 725-B", "504", "CP999", ""])
FORM_TEXT = st.sampled_from([*FORMS, "1040SR", "mft 55", "6672", "W-2"])
FLAG_TEXT = st.sampled_from(["Y", "N", "yes", "No", "TRUE", "false", "1", "0", "X", "", "maybe"])


def text_or_none(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


CASE_AS_TEXT = st.fixed_dictionaries({
    "client_id": st.sampled_from(["A", "B", "C", None]),
    "form": text_or_none(FORM_TEXT),
    "taxpayer_type": text_or_none(st.sampled_from(["individual", "Business", "trust"])),
    "tax_period": text_or_none(st.sampled_from(["2021", "2025Q2", "Q3 2024", "6/30/2025", "2025-12-31", "soon"])),
    "balance": text_or_none(st.one_of(
        st.floats(-1000, 2_000_000, allow_nan=False).map(lambda f: f"{f:.2f}"),
        st.sampled_from(["$1,234.50", "(250.00)", "n/a", "99999.99", "100000", " 250 ", "   ", "1e5", "inf"]))),
    "assessed_date": text_or_none(st.one_of(DAYS.map(date.isoformat), st.sampled_from(["13/45/2020", "45000"]))),
    "last_notice": text_or_none(NOTICE_TEXT),
    "notice_date": text_or_none(st.one_of(DAYS.map(date.isoformat), DAYS.map(lambda d: d.strftime("%m/%d/%Y")), st.just("later"))),
    "response_due": text_or_none(DAYS.map(date.isoformat)),
    "return_filed": text_or_none(FLAG_TEXT),
    "sfr": text_or_none(FLAG_TEXT),
    "assessment_source": text_or_none(st.sampled_from(["return", "SFR", "aur", "exam", "Math Error", "penalty", "other"])),
    "transaction_codes": text_or_none(st.sampled_from(["150 922 290", "150=0 290", "TC 150, TC 420, TC 300", "150=0.00;599", "150 582", "290"])),
    "lien_filed": text_or_none(FLAG_TEXT),
    "levy_issued": text_or_none(FLAG_TEXT),
    "collection_status": text_or_none(st.sampled_from([*COLLECTION_STATUSES, "Installment Agreement", "frozen"])),
    "tolling_days": text_or_none(st.sampled_from(["0", "45", "120", "-3", "2.5"])),
})

CASE_TYPED = st.fixed_dictionaries({
    "client_id": st.sampled_from(["A", "B", "C"]),
    "form": st.one_of(st.sampled_from([1040.0, 941.0, 1120.0, 720.0])),
    "tax_period": st.one_of(st.sampled_from([2019.0, 2023.0, 2025.0])),
    "balance": st.floats(-100, 3_000_000, allow_nan=False),
    "assessed_date": text_or_none(st.datetimes(datetime(2012, 1, 1), datetime(2026, 1, 1)).map(lambda d: d.replace(hour=0, minute=0))),
    "last_notice": text_or_none(NOTICE_TEXT),
    "notice_date": text_or_none(DAYS),
    "return_filed": text_or_none(st.booleans()),
    "lien_filed": text_or_none(st.booleans()),
    "levy_issued": text_or_none(st.booleans()),
    "tolling_days": text_or_none(st.sampled_from([0.0, 30.0, 365.0])),
})

AS_OF = st.dates(date(2016, 1, 1), date(2027, 12, 31))


COPIES = 3  # each case three times: the engine then evaluates text rules per distinct input (engine.distinct)


def assert_paths_agree(cases: list[dict], as_of: date, frame: pl.DataFrame) -> None:
    n = frame.height
    # The copies of a case share its row, so copies without a client id are one client, as in the scalar path.
    copies = pl.concat([frame] * COPIES).with_columns((pl.int_range(pl.len(), dtype=pl.Int64) % n + 1).alias("source_row"))
    engine = triage(copies, as_of)
    for i, case in enumerate(cases, start=1):
        mine = [c for c in cases if c.get("client_id") == case.get("client_id")] if case.get("client_id") is not None else [case]
        scalar = triage_case(case, as_of, client_aggregates(mine * COPIES, as_of))
        rows = engine.filter(pl.col("source_row") == i).rows(named=True)
        assert len(rows) == COPIES
        for row in rows:
            # Problems between rows (a case written twice, as the copies are) only a whole list has.
            row["problems"] = [p for p in row["problems"] or () if p["kind"] != "rows"] or None
            for column, value in scalar.items():
                assert row[column] == value, f"{column}: engine {row[column]!r} != scalar {value!r} for {case} as of {as_of}"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CASE_AS_TEXT, min_size=1, max_size=8), AS_OF)
def test_text_cells_agree(cases: list[dict], as_of: date) -> None:
    frame = pl.DataFrame({k: [c[k] for c in cases] for k in cases[0]}, schema=dict.fromkeys(cases[0], pl.String))
    assert_paths_agree(cases, as_of, frame)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CASE_TYPED, min_size=1, max_size=8), AS_OF)
def test_typed_cells_agree(cases: list[dict], as_of: date) -> None:
    """Floats, booleans, dates and datetimes as a typed workbook column gives them."""
    frame = pl.DataFrame({k: [c[k] for c in cases] for k in cases[0]}, strict=False)
    assert_paths_agree(cases, as_of, frame)


def test_calendar_matches_polars_over_years() -> None:
    """The Python business-day calendar equals polars' add_business_days for every day 2016-2028."""
    from acsxl.engine.columnar import VEC
    from acsxl.engine.scalar import ROW

    days = [date(2016, 1, 1) + timedelta(days=i) for i in range(365 * 13)]
    frame = pl.DataFrame({"d": days}).select(
        VEC.roll_forward(pl.col("d")).alias("roll"), VEC.add_business_days(pl.col("d"), 10).alias("b10"))
    assert frame["roll"].to_list() == [ROW.roll_forward(d) for d in days]
    assert frame["b10"].to_list() == [ROW.add_business_days(d, 10) for d in days]


def test_day_tables_equal_polars_calendar_ops() -> None:
    """The engine computes calendar operations once per day of a table spanning the column's dates;
    the answers equal polars' own operations row by row, with nulls, with several business-day
    counts, and (through the direct fall-back) for a spread of dates too wide for a table."""
    from acsxl.engine.columnar import MAX_TABLE_DAYS, VEC
    from acsxl.rules import calendar

    holidays = calendar.dc_holidays()
    narrow = [date(2025, 12, 20) + timedelta(days=i) for i in range(30)] + [None]
    wide = [*narrow, date(1801, 1, 1) + timedelta(days=MAX_TABLE_DAYS), date(2400, 2, 29)]
    for days in (narrow, wide):
        counts = [(0, 10, None, 5)[i % 4] for i in range(len(days))]
        frame = pl.DataFrame({"d": days, "n": counts}, schema={"d": pl.Date, "n": pl.Int64})
        got = frame.select(
            VEC.roll_forward(pl.col("d")).alias("roll"), VEC.add_years(pl.col("d"), 10).alias("years"),
            VEC.add_business_days(pl.col("d"), pl.col("n")).alias("business"))
        expected = frame.select(
            pl.col("d").dt.add_business_days(0, holidays=holidays, roll="forward").alias("roll"),
            pl.col("d").dt.offset_by("10y").alias("years"),
            pl.when(pl.col("n").is_not_null()).then(
                pl.col("d").dt.add_business_days(pl.col("n").fill_null(0), holidays=holidays, roll="backward")).alias("business"))
        assert got.to_dicts() == expected.to_dicts()


def test_holidays_worked_out_year_by_year_equal_the_whole_range() -> None:
    """calendar computes D.C. holidays per year as needed; the answer equals one computation over all
    the years, observed days across New Year included (e.g. 2021-12-31 for New Year's Day 2022)."""
    import holidays

    from acsxl.rules import calendar

    whole = sorted(d for d in holidays.US(subdiv="DC", years=calendar.YEARS) if d.year in calendar.YEARS)
    assert list(calendar.dc_holidays()) == whole
    assert date(2021, 12, 31) in calendar.dc_holidays(2021, 2021)
    assert calendar.dc_holidays(1900, 1901) == () and calendar.dc_holidays(2026, 2025) == ()

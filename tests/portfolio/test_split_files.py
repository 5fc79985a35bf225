"""A property: a case list split into files of different formats (workbooks with dates as cells or as
text, CSV files) and read as a folder gives the same triaged rows as the one list triaged whole, apart
from where each row came from."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acsxl.cli import main

AS_OF = date(2026, 11, 23)
CLIENTS = {"A": "Ann Lee", "B": "Bo Chan", "C": None}
DAYS = st.dates(date(2024, 1, 1), date(2026, 12, 31))
CASE = st.fixed_dictionaries({
    "client_id": st.sampled_from(sorted(CLIENTS)),
    "form": st.sampled_from(["1040", "941", "1120"]),
    "tax_period": st.sampled_from(["2022", "2023", "2024Q1", "2024Q2"]),
    "balance": st.one_of(st.floats(0, 200_000, allow_nan=False).map(lambda f: round(f, 2)), st.just(-5.0)),
    "last_notice": st.sampled_from(["CP14", "CP504", "LT11", "L1058", "CP2000", None]),
    "notice_date": st.one_of(st.none(), DAYS),
    "assessed_date": st.one_of(st.none(), DAYS),
    "lien_filed": st.sampled_from(["yes", "no", None]),
})
WRITERS = st.sampled_from(["xlsx", "xlsx-text-dates", "csv"])


def write(frame: pl.DataFrame, path: Path, how: str) -> None:
    if how == "csv":
        frame.write_csv(path.with_suffix(".csv"))
    elif how == "xlsx-text-dates":
        frame.with_columns(pl.col(pl.Date).dt.strftime("%m/%d/%Y")).write_excel(path.with_suffix(".xlsx"), worksheet="Cases")
    else:
        frame.write_excel(path.with_suffix(".xlsx"), worksheet="Cases", dtype_formats={pl.Date: "yyyy-mm-dd"})


def triaged(folder: Path, out: Path) -> pl.DataFrame:
    assert main(["triage", str(folder), "--as-of", AS_OF.isoformat(), "--out", str(out), "-q"]) in (0, 1)
    rows = pl.read_csv(out, infer_schema=False)  # (our own case_no: as each file typed it, 0 or 0.0)
    # A case written twice names its other rows, which sit at other rows (of other files) once split.
    return rows.drop("rank", "source").with_columns(pl.col("case_no").cast(pl.Float64).cast(pl.Int64),
                                                    pl.col("issues").str.replace_all(r"row \d+( of another file)?", "row N")).sort("case_no")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CASE, min_size=1, max_size=12), st.lists(st.integers(0, 3), min_size=12, max_size=12), st.lists(WRITERS, min_size=4, max_size=4))
def test_a_list_split_into_files_of_any_format_triages_as_the_whole(cases: list[dict], parts: list[int], writers: list[str]) -> None:
    frame = pl.DataFrame([{**c, "client_name": CLIENTS[c["client_id"]], "case_no": i} for i, c in enumerate(cases)],
                         schema_overrides={"notice_date": pl.Date, "assessed_date": pl.Date, "client_name": pl.String,
                                           "last_notice": pl.String, "lien_filed": pl.String})
    root = Path(tempfile.mkdtemp())
    try:
        (root / "whole").mkdir()
        (root / "split").mkdir()
        write(frame, root / "whole" / "all", "xlsx")
        part = pl.Series(parts[: frame.height])
        for k in sorted(set(part.to_list())):
            write(frame.filter(part == k), root / "split" / f"part{k}", writers[k])
        whole, split = triaged(root / "whole", root / "whole.csv"), triaged(root / "split", root / "split.csv")
        assert split.height == whole.height == frame.height
        assert split.columns == whole.columns
        assert split.equals(whole), (whole, split)
    finally:
        shutil.rmtree(root, ignore_errors=True)

"""The scenario cases (../shared/cases/acs-scenarios.yaml and tests/cases/own-scenarios.yaml), through
the engine, the scalar path and the CLI (input written as a workbook)."""

from __future__ import annotations

from datetime import date

import openpyxl
import polars as pl
import pytest
from conftest import load_groups, require_shared
from scenarios import check_group, group_frame

from acsxl.cli import main
from acsxl.engine import triage
from acsxl.engine.columnar import PROBLEMS
from acsxl.engine.scalar import client_aggregates, triage_case

GROUPS = load_groups()
IDS = [g["name"] for g in GROUPS]


def test_shared_scenarios_are_present() -> None:
    require_shared()


@pytest.mark.parametrize("group", GROUPS, ids=IDS)
def test_engine(group: dict) -> None:
    check_group(group, triage(group_frame(group), date.fromisoformat(group["as_of"])))


@pytest.mark.parametrize("group", GROUPS, ids=IDS)
def test_scalar_path(group: dict) -> None:
    """Each row through the scalar path, given its client's aggregates, meets the same expectations."""
    as_of = date.fromisoformat(group["as_of"])
    engine = triage(group_frame(group), as_of)
    rows = []
    for i, case in enumerate(group["rows"], start=1):
        client = [c["input"] for c in group["rows"] if c["input"].get("client_id") == case["input"].get("client_id")]
        row = triage_case(case["input"], as_of, client_aggregates(client, as_of))
        rows.append(row | {"source_row": i, "rank": engine.filter(pl.col("source_row") == i)["rank"][0]})
    check_group(group, pl.DataFrame(rows, infer_schema_length=None, schema_overrides={"problems": PROBLEMS}))


@pytest.mark.parametrize("group", GROUPS, ids=IDS)
def test_cli_from_workbook(group: dict, tmp_path, capsys) -> None:
    keys = sorted({k for case in group["rows"] for k in case["input"]})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Cases"
    ws.append(keys)
    for case in group["rows"]:
        ws.append([case["input"].get(k) for k in keys])
    wb.save(tmp_path / "cases.xlsx")
    out = tmp_path / "out.csv"
    code = main(["triage", str(tmp_path / "cases.xlsx"), "--as-of", group["as_of"], "--out", str(out), "--quiet"])
    assert code == 0
    assert capsys.readouterr().err == ""
    result = pl.read_csv(out, try_parse_dates=True, schema_overrides={"client_id": pl.String, "form": pl.String, "tax_period": pl.String})
    check_group(group, result)

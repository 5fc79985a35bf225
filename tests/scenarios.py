"""Checking a scenario group's expectations against triaged rows (engine or CLI output)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import polars as pl

from acsxl.portfolio.columns import issues_text


def _norm(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def check_group(group: dict, result: pl.DataFrame) -> None:
    """``result`` holds the group's rows: the engine's (matched to inputs by ``source_row``, issues
    rendered from ``problems``) or the command line's CSV (by the row in its source text)."""
    assert result.height == len(group["rows"]), f"{group['name']}: a row was dropped"
    if "problems" in result.columns:
        result = result.with_columns(issues_text(pl.col("problems")).alias("issues"))
        rows = result.get_column("source_row").to_list()
    else:
        rows = [int(re.search(r"row (\d+)", s).group(1)) for s in result["source"]]
    by_row = dict(zip(rows, result.iter_rows(named=True), strict=True))
    for i, case in enumerate(group["rows"], start=1):
        row = by_row[i + 1 if "source" in result.columns and "xlsx" in str(result["source"][0]) else i]
        label = f"{group['name']} / {case['input'].get('client_id')}"
        for key, want in case["expect"].items():
            if key == "next_action_matches":
                assert re.search(want, row["next_action"] or "", re.IGNORECASE), f"{label}: next_action {row['next_action']!r}"
            elif key == "issues":
                assert bool(row["issues"]) == want, f"{label}: issues {row['issues']!r}"
            elif key == "issues_match":
                assert re.search(want, row["issues"] or ""), f"{label}: issues {row['issues']!r}"
            else:
                assert _norm(row[key]) == _norm(want), f"{label}: {key} is {row[key]!r}, expected {want!r}"
    if "order" in group:
        ranked = result.sort("rank")["client_id"].to_list()
        assert ranked == group["order"], f"{group['name']}: order {ranked}"


def group_frame(group: dict) -> pl.DataFrame:
    """The group's inputs as a frame of text cells (as a CSV would give), one column per field used."""
    keys = sorted({k for case in group["rows"] for k in case["input"]})
    return pl.DataFrame({k: [None if c["input"].get(k) is None else str(c["input"][k]) for c in group["rows"]] for k in keys})

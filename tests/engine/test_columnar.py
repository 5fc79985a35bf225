"""Vectorized operations whose fast paths must give what the plain polars operation gives."""

import polars as pl
import pytest

from acsxl.engine import columnar as ops
from acsxl.engine.columnar import VEC

MAPPING = {"cdp_request": 40.0, "pay_by": 10.0, "never_in_the_column": 99.0}


@pytest.mark.parametrize("table_limit", [ops.MAX_TABLE_CODES, 0])  # 0: the category numbers are "too high"
def test_lookup_over_categories_equals_a_hash_lookup(monkeypatch: pytest.MonkeyPatch, table_limit: int) -> None:
    monkeypatch.setattr(ops, "MAX_TABLE_CODES", table_limit)
    column = pl.Series("kind", ["pay_by", None, "cdp_request", "unknown_kind", "pay_by"], dtype=pl.Categorical)
    got = pl.select(VEC.lookup(pl.lit(column), MAPPING, 0.0)).to_series()
    assert got.to_list() == [10.0, 0.0, 40.0, 0.0, 10.0]
    codes = pl.select(VEC.lookup(pl.lit(column), {"pay_by": "notice", "cdp_request": "final_notice"})).to_series()
    assert codes.dtype == pl.Categorical
    assert codes.cast(pl.String).to_list() == ["notice", None, "final_notice", None, "notice"]


def test_lookup_over_text_and_all_null_columns() -> None:
    text = pl.Series("kind", ["pay_by", None, "x"])
    assert pl.select(VEC.lookup(pl.lit(text), MAPPING, 0.0)).to_series().to_list() == [10.0, 0.0, 0.0]
    empty = pl.Series("kind", [None, None], dtype=pl.Categorical)
    assert pl.select(VEC.lookup(pl.lit(empty), MAPPING, -1.0)).to_series().to_list() == [-1.0, -1.0]

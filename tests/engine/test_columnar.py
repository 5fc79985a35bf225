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


def test_per_row_lists_is_a_plain_loop_over_the_rows() -> None:
    """engine.columnar.per_row_lists (a sort and one ordered group-by) against a loop: each row's
    problems in their order, null where none, whatever order the long table comes in."""
    import random

    from acsxl.engine.columnar import per_row_lists, problem

    rng = random.Random(3)
    height = 500
    entries = [(rng.randrange(height), rng.randrange(4), f"m{i}") for i in range(700)]
    rng.shuffle(entries)
    long = pl.DataFrame({"__row": [r for r, _, _ in entries], "__order": [o for _, o, _ in entries], "m": [m for _, _, m in entries]},
                        schema={"__row": pl.UInt32, "__order": pl.Int32, "m": pl.String})
    long = long.with_row_index("__seq").with_columns(problem(pl.lit("f"), pl.col("m"), pl.lit(None, pl.String), "rule").alias("problem"))
    got = per_row_lists(long.lazy().select("__row", "__order", "problem"), height).to_list()
    expected: list = [None] * height
    for row, _order, message in sorted(entries, key=lambda e: (e[0], e[1])):  # a stable sort: equal orders keep the table's order
        expected[row] = (expected[row] or []) + [{"field": "f", "message": message, "value": None, "kind": "rule"}]
    assert got == expected

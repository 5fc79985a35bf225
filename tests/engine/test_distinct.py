"""engine.distinct: rules evaluated once per distinct combination of their inputs give what evaluating
every row gives."""

from datetime import date

import polars as pl
import pytest

from acsxl.engine.distinct import packed_key, per_distinct

CODES = pl.DataFrame(
    {
        "notice": pl.Series(["CP14", "CP504", None, "CP14", "LT11", None, "CP504", "CP14"], dtype=pl.Categorical),
        "due": [date(2026, 1, 5), None, date(2026, 1, 5), date(2026, 1, 5), date(1901, 1, 1), None, None, date(2026, 1, 5)],
        "flag": [True, False, None, True, True, None, False, True],
        "days": [3, -40, None, 3, 0, None, -40, 3],
        "empty": pl.Series([None] * 8, dtype=pl.Date),
    }
)


def test_the_key_is_equal_exactly_when_the_rows_are_equal_nulls_included() -> None:
    key = packed_key(CODES)
    assert key is not None and key.dtype == pl.Int64 and len(key) == CODES.height
    rows = CODES.rows()
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (key[i] == key[j]) == (rows[i] == rows[j]), (rows[i], rows[j])


def test_no_key_for_amounts_text_or_combinations_beyond_62_bits() -> None:
    assert packed_key(pl.DataFrame({"balance": [1.5, 2.0]})) is None
    assert packed_key(pl.DataFrame({"name": ["a", "b"]})) is None
    wide = pl.DataFrame({"a": [0, 2**40], "b": [0, 2**40]})
    assert packed_key(wide) is None


def test_all_null_columns_make_one_key() -> None:
    key = packed_key(CODES.select("empty"))
    assert key is not None and key.to_list() == [0] * CODES.height


def test_a_text_rule_per_distinct_combination_equals_the_rule_over_every_row() -> None:
    frame = pl.concat([CODES] * 20)
    exprs = [
        pl.format("{} due {} ({} days)", pl.col("notice"), pl.col("due"), pl.col("days")).alias("text"),
        pl.when(pl.col("flag")).then(pl.col("due")).alias("when"),
        pl.lit("constant").alias("constant"),
    ]
    done = per_distinct(frame, exprs)
    assert done is not None
    assert done.equals(frame.select(exprs))


def test_rules_over_amounts_or_mostly_distinct_inputs_are_left_to_the_full_evaluation() -> None:
    assert per_distinct(pl.DataFrame({"balance": [1.0, 1.0]}), [pl.col("balance") * 2]) is None
    varied = pl.DataFrame({"days": list(range(100))})
    assert per_distinct(varied, [pl.col("days").cast(pl.String)]) is None


@pytest.mark.parametrize("height", [0, 1])
def test_tiny_frames(height: int) -> None:
    frame = CODES.head(height)
    done = per_distinct(frame, [pl.format("{}", pl.col("notice")).alias("text")])
    expected = frame.select(pl.format("{}", pl.col("notice")).alias("text"))
    assert done is None or done.equals(expected)

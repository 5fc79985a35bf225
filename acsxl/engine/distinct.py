"""Evaluate a row-wise rule once per distinct combination of the columns it reads.

Every rule is a function of one row (the scalar path computes it so), and most read only codes, dates,
flags and small counts: a million cases hold a few thousand distinct combinations of one rule's
inputs. Each row's combination is packed exactly into one integer (a mixed-radix number over the
columns' physical values), the rule runs on one row per combination, and its results are gathered
back. A rule that reads an amount, or whose inputs are too varied, runs over every row as before."""

from __future__ import annotations

import polars as pl

MAX_KEY = 2**62
MAX_SHARE = 0.5  # more distinct combinations than this share of the rows: evaluating them all is cheaper


def packed_key(frame: pl.DataFrame) -> pl.Series | None:
    """One Int64 per row, equal exactly when the rows are equal (nulls included); None when a column is
    not a code, date, flag or integer, or the combinations do not fit in 62 bits."""
    if not all(_packable(dtype) for dtype in frame.dtypes):
        return None
    physical = [pl.col(c).to_physical().cast(pl.Int64) for c in frame.columns]
    bounds = frame.select(*(p.min().alias(f"lo{i}") for i, p in enumerate(physical)),
                          *(p.max().alias(f"hi{i}") for i, p in enumerate(physical))).row(0)
    digits, radix = [], 1
    for i, value in enumerate(physical):
        low, high = bounds[i], bounds[len(physical) + i]
        if low is None:  # all null: one value, adds nothing
            continue
        digits.append((value - (low - 1)).fill_null(0) * radix)  # 0 for null, 1.. for the values
        radix *= high - low + 2
        if radix > MAX_KEY:
            return None
    if not digits:
        return pl.repeat(0, frame.height, dtype=pl.Int64, eager=True)
    return frame.select(pl.sum_horizontal(digits)).to_series()


def _packable(dtype: pl.DataType) -> bool:
    return dtype.is_integer() or isinstance(dtype, (pl.Categorical, pl.Enum, pl.Date, pl.Boolean, pl.Null))


def per_distinct(frame: pl.DataFrame, exprs: list[pl.Expr]) -> pl.DataFrame | None:
    """``frame.select(exprs)`` for row-wise ``exprs``, computed once per distinct combination of the
    columns they read; None when that does not pay (see the module's docstring)."""
    inputs = frame.select(sorted({name for e in exprs for name in e.meta.root_names()}))
    key = packed_key(inputs) if inputs.width else None
    if key is None:
        return None
    first = key.is_first_distinct()
    distinct = first.sum()
    if distinct > MAX_SHARE * frame.height:
        return None
    results = select(inputs.filter(first), exprs)
    slot = key.replace_strict(key.filter(first), pl.int_range(distinct, eager=True, dtype=pl.UInt32))
    return results.select(pl.all().gather(slot))


def select(frame: pl.DataFrame, exprs: list[pl.Expr]) -> pl.DataFrame:
    """The columns ``exprs`` make over ``frame`` (a constant one repeated to the frame's height), in one
    lazy query on the in-memory engine."""
    names = [e.meta.output_name() for e in exprs]
    return frame.lazy().with_columns(exprs).select(names).collect(engine="in-memory")

"""Raw case columns (any dtype, as a reader or a caller hands them) -> typed canonical columns plus
``parse_issues``, vectorized. Categorical values go through the single-value parsers in
``acsxl.rules.values`` once per distinct value; numbers, text and transcript codes are parsed with
polars expressions that mirror those parsers (tests/test_paths_agree.py keeps them equal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from acsxl.rules import values as v
from acsxl.rules.schema import FIELDS, Field
from acsxl.rules.triage import QUARTERLY_FORMS

# Parsed dtype by value kind.
DTYPES: dict[str, pl.DataType] = {
    "text": pl.String(), "number": pl.Float64(), "whole": pl.Int64(), "date": pl.Date(), "flag": pl.Boolean(),
    "form": pl.String(), "period": pl.String(), "notice": pl.String(), "status": pl.String(),
    "source": pl.String(), "taxpayer_type": pl.String(), "tcs": pl.String(),
}
CATEGORICAL: dict[str, Callable[[Any], v.Parsed]] = {
    "form": v.parse_form, "notice": v.parse_notice, "status": v.parse_status,
    "source": v.parse_source, "taxpayer_type": v.parse_taxpayer_type,
}
NEGATIVE = {"number": v.NEGATIVE, "whole": v.NEGATIVE_DAYS}
RAW = "__raw_"  # prefix of the raw input columns while parsing
PROBLEM = "__problem_"  # prefix of each field's problem message while parsing


def _is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric()


def as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """values.text, vectorized: trimmed, blank -> null, integral floats without '.0', dates ISO."""
    if dtype == pl.Boolean:
        return pl.when(expr).then(pl.lit("TRUE")).when(~expr).then(pl.lit("FALSE"))
    if dtype.is_float():
        integral = expr.is_finite() & (expr == expr.floor())
        return pl.when(expr.is_nan()).then(None).when(integral).then(expr.cast(pl.Int64).cast(pl.String)).otherwise(expr.cast(pl.String))
    if dtype == pl.Datetime:
        return pl.when(expr.dt.time() == pl.time(0)).then(expr.dt.date().cast(pl.String)).otherwise(expr.cast(pl.String))
    text = expr.cast(pl.String).str.strip_chars().str.replace(v.INTEGRAL_TEXT, "${1}")
    return pl.when(text == "").then(None).otherwise(text)


def map_distinct(frame: pl.DataFrame, column: str, parse: Callable[[Any], v.Parsed], dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """(value, problem) expressions computed by ``parse`` once per distinct non-null value of ``column``."""
    keys = frame.get_column(column).drop_nulls().unique().to_list()
    results = [parse(key) for key in keys]
    col = pl.col(column)
    value = col.replace_strict(keys, pl.Series([r[0] for r in results], dtype=dtype), default=None, return_dtype=dtype)
    problem = col.replace_strict(keys, pl.Series([r[1] for r in results], dtype=pl.String), default=None, return_dtype=pl.String)
    return value, problem


def _number(raw: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    if dtype == pl.Boolean:
        return pl.lit(None, pl.Float64), pl.when(raw.is_not_null()).then(pl.format(v.NOT_NUMBER.replace("{v}", "{}"), as_text(raw, dtype)))
    if _is_numeric(dtype):
        number = raw.cast(pl.Float64)
        return pl.when(number.is_nan()).then(None).otherwise(number), pl.lit(None, pl.String)
    text = as_text(raw, dtype)
    cleaned = text.str.replace_all(v.NUMBER_JUNK, "")
    inner = cleaned.str.extract(v.NUMBER_NEGATIVE_PARENS, 1)
    number = pl.when(inner.is_not_null()).then(-inner.cast(pl.Float64, strict=False)).otherwise(cleaned.cast(pl.Float64, strict=False))
    problem = pl.when(text.is_not_null() & number.is_null()).then(pl.format(v.NOT_NUMBER.replace("{v}", "{}"), text))
    return number, problem


def _whole(raw: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    number, problem = _number(raw, dtype)
    bad = problem.is_not_null() | (number.is_not_null() & (number != number.floor()))
    message = pl.format(v.NOT_WHOLE.replace("{v}", "{}"), as_text(raw, dtype))
    return pl.when(bad).then(None).otherwise(number.cast(pl.Int64, strict=False)), pl.when(bad).then(message)


def _parse_field(frame: pl.DataFrame, field: Field) -> tuple[pl.Expr, pl.Expr]:
    """(value, problem-without-column-name) for one field."""
    column = RAW + field.name
    raw, dtype = pl.col(column), frame.schema[column]
    kind = field.kind
    if kind == "text":
        return as_text(raw, dtype), pl.lit(None, pl.String)
    if kind == "number":
        return _number(raw, dtype)
    if kind == "whole":
        return _whole(raw, dtype)
    if kind == "tcs":
        s = as_text(raw, dtype).fill_null("").str.to_uppercase()
        s = s.str.replace_all(v.TC_PREFIX, "").str.replace_all(v.TC_SEPARATORS, " ").str.strip_chars()
        return pl.concat_str([pl.lit(" "), s, pl.lit(" ")]), pl.lit(None, pl.String)
    if kind == "date" and dtype == pl.Date:
        return raw, pl.lit(None, pl.String)
    if kind == "date" and dtype == pl.Datetime:
        return raw.dt.date(), pl.lit(None, pl.String)
    if kind == "date":
        return map_distinct(frame, column, v.parse_date, pl.Date())
    if kind == "flag" and dtype == pl.Boolean:
        return raw, pl.lit(None, pl.String)
    if kind == "flag":
        return map_distinct(frame, column, v.parse_flag, pl.Boolean())
    if kind in CATEGORICAL:
        return map_distinct(frame, column, CATEGORICAL[kind], DTYPES[kind])
    raise ValueError(f"no parser for kind {kind}")  # "period" is parsed after the form, in parse_cases


def _period_key(frame: pl.DataFrame) -> pl.Expr:
    """Period text prefixed by whether the parsed form is quarterly ('Q|2025-06-30' / 'Y|2023')."""
    column = RAW + "tax_period"
    quarterly = pl.col("form").is_in(list(QUARTERLY_FORMS)).fill_null(False)
    text = as_text(pl.col(column), frame.schema[column])
    return pl.concat_str([pl.when(quarterly).then(pl.lit("Q|")).otherwise(pl.lit("Y|")), text])


def _parse_period_key(key: str) -> v.Parsed:
    flag, text = key.split("|", 1)
    return v.parse_period(text, quarterly=flag == "Q")


def parse_cases(raw: pl.DataFrame) -> pl.DataFrame:
    """Typed canonical columns, ``parse_issues`` (null when none) and the untouched extra columns.
    Values and problems are materialised first, so no parse is evaluated twice."""
    present = {f.name for f in FIELDS if f.name in raw.columns}
    frame = raw.rename({name: RAW + name for name in present})
    frame = frame.with_columns(pl.lit(None, pl.Null).alias(RAW + f.name) for f in FIELDS if f.name not in present)
    columns = []
    for field in FIELDS:
        if field.kind != "period":
            value, problem = _parse_field(frame, field)
            columns += [value.cast(DTYPES[field.kind]).alias(field.name), problem.alias(PROBLEM + field.name)]
    frame = frame.with_columns(columns)

    # The period needs the parsed form: a period-end date is a quarter only for quarterly forms.
    frame = frame.with_columns(_period_key(frame).alias("__period_key"))
    value, problem = map_distinct(frame, "__period_key", _parse_period_key, pl.String())
    frame = frame.with_columns(value.alias("tax_period"), problem.alias(PROBLEM + "tax_period"))

    issues = pl.concat_str([_message(f, f.name in present) for f in FIELDS], separator="; ", ignore_nulls=True)
    frame = frame.with_columns(pl.when(issues != "").then(issues).alias("parse_issues"))
    return frame.drop([RAW + f.name for f in FIELDS] + [PROBLEM + f.name for f in FIELDS] + ["__period_key"])


def _message(field: Field, present: bool) -> pl.Expr:
    """'column: message' for a bad value, a negative amount, a missing required value or column."""
    if field.required and not present:
        return pl.lit(f"{field.name}: {v.COLUMN_MISSING}")
    value, problem = pl.col(field.name), pl.col(PROBLEM + field.name)
    message = pl.concat_str([pl.lit(f"{field.name}: "), problem])
    if field.kind in NEGATIVE:
        shown = value.round(2) if field.kind == "number" else value  # amounts to the cent, as scalar.parse_case
        negative = pl.format(f"{field.name}: " + NEGATIVE[field.kind].replace("{v}", "{}"), shown)
        message = pl.when(value < 0).then(negative).otherwise(message)
    if field.required:
        message = pl.when(value.is_null() & problem.is_null()).then(pl.lit(f"{field.name}: {v.MISSING}")).otherwise(message)
    return message

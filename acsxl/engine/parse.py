"""Raw case columns (any dtype, as a reader or a caller hands them) -> typed canonical columns plus
``parse_problems`` (each row's bad or missing values, as data: ``engine.columnar.PROBLEMS``), vectorized.

One implementation of the parsing rules, ``acsxl.rules.values``, serves both paths: the engine calls
those single-value parsers once per *distinct* raw value that the fast vectorized casts cannot take
(enumerations, dates written as text, "$1,234.50"), and joins the answers back. The remaining
vectorized steps (trimming, plain number casts, transcript-code spacing) mirror ``values`` and are
held equal to it by tests/test_paths_agree.py."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

from acsxl.engine.columnar import PROBLEMS, per_row_lists, problem, spread
from acsxl.rules import values as v
from acsxl.rules.schema import FIELDS, Field
from acsxl.rules.triage import QUARTERLY_FORMS

# Codes from a fixed vocabulary are categorical: the rules compare, look up and join on them many
# times, and on categories each of those is an integer operation (the engine returns them so too).
DTYPES: dict[str, pl.DataType] = {
    "text": pl.String(), "number": pl.Float64(), "whole": pl.Int64(), "date": pl.Date(), "flag": pl.Boolean(),
    "form": pl.Categorical(), "period": pl.Categorical(), "notice": pl.Categorical(), "status": pl.Categorical(),
    "source": pl.Categorical(), "taxpayer_type": pl.Categorical(), "tcs": pl.Categorical(),
}
BY_VALUE: dict[str, Callable[[Any], v.Parsed]] = {
    "form": v.parse_form, "notice": v.parse_notice, "status": v.parse_status, "source": v.parse_source,
    "taxpayer_type": v.parse_taxpayer_type, "date": v.parse_date, "flag": v.parse_flag,
}
NEGATIVE = v.NEGATIVE_BY_KIND
NO_PROBLEM = None

Parsed = tuple[pl.Series, pl.Series | None]  # values, problems (None: no problems at all)


def text_of(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """``values.text`` over a column of ``dtype``, as an expression: trimmed, blank -> null, integral
    numbers without '.0', dates ISO (a datetime at midnight as its date, else to the second)."""
    if dtype == pl.Null:
        return value.cast(pl.String)
    if dtype == pl.Boolean:
        return value.replace_strict([True, False], ["TRUE", "FALSE"], return_dtype=pl.String)
    if dtype.is_float():
        integral = value.is_finite() & (value == value.floor())
        return pl.when(value.is_nan()).then(None).when(integral).then(value.cast(pl.Int64).cast(pl.String)).otherwise(value.cast(pl.String))
    if dtype == pl.Datetime:
        return pl.when(value.dt.time() == pl.time(0)).then(value.dt.date().cast(pl.String)).otherwise(value.dt.to_string("%Y-%m-%d %H:%M:%S"))
    if dtype.is_numeric() or dtype == pl.Date:
        return value.cast(pl.String)
    text = value.cast(pl.String).str.strip_chars().str.replace(v.INTEGRAL_TEXT, "${1}")
    return pl.when(text != "").then(text)


def as_text(series: pl.Series) -> pl.Series:
    """``values.text`` over a column (``text_of``); text columns first looked at for a "1040.0", so
    the pattern runs only where one may be."""
    dtype = series.dtype
    if dtype != pl.String and not isinstance(dtype, pl.Categorical | pl.Enum):
        return pl.select(text_of(pl.lit(series), dtype)).to_series().alias(series.name)
    text = series.cast(pl.String).str.strip_chars()
    zero = text.str.ends_with("0")  # cheap first look for "1040.0" written as text
    if zero.any() and text.filter(zero).str.contains(v.INTEGRAL_TEXT).any():
        text = text.str.replace(v.INTEGRAL_TEXT, "${1}")
    return pl.select(pl.when(text != "").then(text)).to_series()


def by_distinct(series: pl.Series, parse: Callable[[Any], v.Parsed], dtype: pl.DataType, only: pl.Series | None = None) -> Parsed:
    """``parse`` applied once per distinct non-null value (of the rows in ``only``, when given)."""
    pool = series if only is None else series.filter(only)
    keys = pool.drop_nulls().unique().to_list()
    results = [parse(key) for key in keys]
    values = series.replace_strict(keys, pl.Series([r[0] for r in results], dtype=dtype), default=None, return_dtype=dtype)
    bad = [(key, message) for key, (_, message) in zip(keys, results, strict=True) if message]
    if not bad:
        return values, NO_PROBLEM
    # A value with a problem parses to nothing: the messages are looked up for those rows only.
    suspect = values.is_null() & series.is_not_null()
    messages = series.filter(suspect).replace_strict(
        [k for k, _ in bad], pl.Series([m for _, m in bad], dtype=pl.String), default=None, return_dtype=pl.String)
    return values, spread(messages, suspect)


def _number(series: pl.Series) -> Parsed:
    dtype = series.dtype
    if dtype == pl.Null or dtype.is_numeric():
        number = series.cast(pl.Float64)
        return number.fill_nan(None), NO_PROBLEM
    if dtype == pl.Boolean:
        shown = series.replace_strict([True, False], ["True", "False"], return_dtype=pl.String)  # as str(bool)
        return pl.Series([None] * len(series), dtype=pl.Float64), pl.select(pl.format(v.NOT_NUMBER.replace("{v}", "{}"), shown)).to_series()
    # Plain numbers cast as they are ("1040.0" too); the rest ("$1,234.50", "(250.00)", " 12 ", "n/a",
    # blanks) go through values.parse_number, once per distinct value.
    text = series.cast(pl.String)
    direct = text.cast(pl.Float64, strict=False)
    direct = pl.select(pl.when(direct.is_finite()).then(direct)).to_series()
    parsed, problems = by_distinct(text, v.parse_number, pl.Float64(), only=direct.is_null() & text.is_not_null())
    return direct.fill_null(parsed), problems


def _dates_in_range(days: pl.Series) -> Parsed:
    """Date cells outside the plausible range (values.DATE_MIN..DATE_MAX) are problems, as in values.in_range."""
    outside = days.is_not_null() & ((days < v.DATE_MIN) | (days > v.DATE_MAX))
    if not outside.any():
        return days, NO_PROBLEM
    messages = pl.select(pl.when(outside).then(pl.format(v.DATE_OUT_OF_RANGE.replace("{v}", "{}"), days.cast(pl.String)))).to_series()
    return pl.select(pl.when(~outside).then(days)).to_series(), messages


def _whole(series: pl.Series) -> Parsed:
    number, problems = _number(series)
    fraction = number.is_not_null() & (number != number.floor())
    bad = fraction if problems is None else (fraction | problems.is_not_null())
    if not bad.any():
        return number.cast(pl.Int64), problems
    messages = pl.select(pl.when(bad).then(pl.format(v.NOT_WHOLE.replace("{v}", "{}"), as_text(series)))).to_series()
    return pl.select(pl.when(~bad).then(number.cast(pl.Int64, strict=False))).to_series(), messages


def _transaction_codes(series: pl.Series) -> Parsed:
    """values.normalize_tcs over the column's distinct values, as categories: the rules match several
    patterns against them, each then once per distinct value (see ops.VecOps.matches)."""
    keys = series.drop_nulls().unique()
    s = as_text(keys).fill_null("").str.to_uppercase().str.replace_all(v.TC_PREFIX, "")
    s = s.str.replace_all(v.TC_SEPARATORS, " ").str.strip_chars()
    codes = pl.select(pl.concat_str([pl.lit(" "), s, pl.lit(" ")])).to_series()
    return series.replace_strict(keys, codes.cast(pl.Categorical), default=pl.lit("  ", pl.Categorical), return_dtype=pl.Categorical), NO_PROBLEM


def parse_field(series: pl.Series, field: Field) -> Parsed:
    """Values and problems (messages without the column name) of one field's raw column."""
    kind, dtype = field.kind, series.dtype
    if kind == "text":
        return as_text(series), NO_PROBLEM
    if kind == "number":
        return _number(series)
    if kind == "whole":
        return _whole(series)
    if kind == "tcs":
        return _transaction_codes(series)
    if kind == "date" and dtype in (pl.Date, pl.Datetime):
        return _dates_in_range(series.dt.date() if dtype == pl.Datetime else series)
    if kind == "flag" and dtype == pl.Boolean:
        return series, NO_PROBLEM
    return by_distinct(series, BY_VALUE[kind], DTYPES[kind])


def parse_period(series: pl.Series, forms: pl.Series) -> Parsed:
    """A period-end date is a quarter only for quarterly forms, so the period is parsed after the form.
    values.parse_period runs once per distinct raw value, each way only where the two ways differ."""
    keys = series.drop_nulls().unique().to_list()
    by_year = [v.parse_period(k, quarterly=False) for k in keys]
    years = [y for y, _ in by_year]
    quarters = [v.parse_period(k, quarterly=True)[0] for k in keys]

    def lookup(values: list[str | None]) -> pl.Series:
        if not keys:
            return pl.repeat(None, len(series), dtype=pl.String, eager=True)
        return series.replace_strict(keys, pl.Series(values, dtype=pl.String), default=None, return_dtype=pl.String)

    values = lookup(years)
    if quarters != years:
        quarterly = forms.is_in(list(QUARTERLY_FORMS)).fill_null(False)
        values = pl.select(pl.when(quarterly).then(lookup(quarters)).otherwise(values)).to_series()
    messages = [m for _, m in by_year]
    return values, (lookup(messages) if any(messages) else NO_PROBLEM)


def combine(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Case lists from several files as one frame, each file's values as that file typed them. Where the
    files disagree on a column's type (dates as cells in a workbook, as text in a CSV), every file's
    values of that column become text as ``values.text`` writes them (dates ISO), which the parsers
    read back to the same values; numbers of different widths simply widen. (polars' relaxed concat
    would turn a date into '2023-08-09 00:00:00.000', which no date parser takes.)"""
    types: dict[str, set[pl.DataType]] = {}
    for frame in frames:
        for name, dtype in frame.schema.items():
            types.setdefault(name, set()).add(dtype)
    mixed = {name for name, found in types.items() if len(found - {pl.Null()}) > 1 and not all(d.is_numeric() for d in found - {pl.Null()})}
    if not mixed:
        return pl.concat(frames, how="diagonal_relaxed")
    # One plan for all the files, collected once.
    return pl.concat([f.lazy().with_columns(text_of(pl.col(c), f.schema[c]).alias(c) for c in mixed if c in f.columns) for f in frames],
                     how="diagonal_relaxed").collect(engine="in-memory")


def parse_cases(raw: pl.DataFrame) -> pl.DataFrame:
    """Typed canonical columns and ``parse_problems`` (null when none) in place of the raw canonical
    columns; every other column untouched."""
    # One chunk per column: text built from columns of many chunks (one per file read) inside a
    # when/then makes polars 2.1 panic ('assertion failed: i < self.len()'); a no-op for one chunk.
    raw = raw.rechunk()
    height = raw.height

    def column(field: Field) -> pl.Series:
        return raw.get_column(field.name) if field.name in raw.columns else pl.Series(field.name, [None] * height, dtype=pl.Null)

    # Fields are independent (but for the period, which needs the form) and polars releases the GIL,
    # so they are parsed side by side. Twice as many threads as cores: a field whose odd values are
    # parsed in Python (holding the GIL) then leaves its core to a field parsed in polars.
    simple = [f for f in FIELDS if f.kind != "period"]
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        results = dict(zip([f.name for f in simple], pool.map(lambda f: parse_field(column(f), f), simple), strict=True))
    parsed: dict[str, pl.Series] = {}
    problems: dict[str, pl.Series | None] = {}
    for field in FIELDS:
        if field.kind == "period":
            value, problem = parse_period(column(field), parsed["form"])
        else:
            value, problem = results[field.name]
        parsed[field.name] = value.cast(DTYPES[field.kind]).alias(field.name)
        problems[field.name] = problem
    found = _problems(parsed, problems, {f.name: raw.get_column(f.name) for f in FIELDS if f.name in raw.columns})
    return raw.with_columns(*parsed.values(), found.alias("parse_problems")).select(
        [c for c in raw.columns if c not in parsed] + [f.name for f in FIELDS] + ["parse_problems"])


def _problems(parsed: dict[str, pl.Series], problems: dict[str, pl.Series | None], raw: dict[str, pl.Series]) -> pl.Series:
    """Each row's problems (field, message, the value found), built only for the rows that have one:
    one long table of (row, problem) gathered into a list per row."""
    height = len(next(iter(parsed.values())))
    present = set(raw)
    frame = pl.DataFrame(
        {**parsed, **{f"__p_{name}": p for name, p in problems.items() if p is not None}}, height=height
    ).with_row_index("__row")
    checks = [(f, f"__p_{f.name}" if problems[f.name] is not None else None) for f in FIELDS]
    suspect = pl.any_horizontal([_suspect(f, p, f.name in present) for f, p in checks] or [pl.lit(False)])
    rows = frame.filter(suspect)
    if rows.height == 0:
        return pl.Series("parse_problems", [None] * height, dtype=PROBLEMS)
    where = rows.get_column("__row")
    # The value found, as text, for the fields with a bad value: only for these rows.
    rows = rows.with_columns(as_text(raw[f.name].gather(where)).alias(f"__v_{f.name}") for f, p in checks if p is not None)
    found = []
    for order, (f, p) in enumerate(checks):
        message, value = _problem(f, p, f.name in present)
        found.append(rows.lazy().select("__row", pl.lit(order, pl.Int32).alias("__order"), pl.lit(f.name).alias("field"),
                                        message.alias("message"), value.cast(pl.String).alias("value"))
                     .filter(pl.col("message").is_not_null()))
    long = pl.concat(found).select("__row", "__order", problem(pl.col("field"), pl.col("message"), pl.col("value"), "value").alias("problem"))
    return per_row_lists(long, height).alias("parse_problems")


def _suspect(field: Field, problem: str | None, present: bool) -> pl.Expr:
    """Whether the row may have a problem with this field (cheap: no strings built)."""
    if field.required and not present:
        return pl.lit(True)
    flags = [pl.col(problem).is_not_null()] if problem else []
    if field.kind in NEGATIVE:
        flags.append((pl.col(field.name) < 0).fill_null(False))
    if field.required:
        flags.append(pl.col(field.name).is_null())
    return pl.any_horizontal(flags) if flags else pl.lit(False)


def _problem(field: Field, problem: str | None, present: bool) -> tuple[pl.Expr, pl.Expr]:
    """The message of the field's problem on the row (null when none) and the value found: a bad
    value, a negative amount, a missing required value or column."""
    if field.required and not present:
        return pl.lit(v.COLUMN_MISSING), pl.lit(None, pl.String)
    value = pl.col(field.name)
    message = pl.col(problem) if problem else pl.lit(None, pl.String)
    found = pl.col(f"__v_{field.name}") if problem else pl.lit(None, pl.String)
    if field.kind in NEGATIVE:
        shown = _number_text(value.round(2)) if field.kind == "number" else value.cast(pl.String)  # amounts to the cent, as scalar.parse_case
        negative = value < 0
        message = pl.when(negative).then(pl.format(NEGATIVE[field.kind].replace("{v}", "{}"), shown)).otherwise(message)
        found = pl.when(negative).then(shown).otherwise(found)
    if field.required:
        missing = value.is_null() & (pl.col(problem).is_null() if problem else pl.lit(True))
        message = pl.when(missing).then(pl.lit(v.MISSING)).otherwise(message)
        found = pl.when(missing).then(pl.lit(None, pl.String)).otherwise(found)
    return message, found


def _number_text(value: pl.Expr) -> pl.Expr:
    """A number as ``values.text`` shows it: integral amounts without '.0'."""
    return pl.when(value == value.floor()).then(value.cast(pl.Int64).cast(pl.String)).otherwise(value.cast(pl.String))

"""The columnar backend: the rule vocabulary (``acsxl.rules.ops``) over polars expressions, so the
engine runs each rule over whole columns. The speed tricks live here, each behind a plainly named
function that a test holds equal to the plain polars operation (tests/engine/test_columnar.py):
tabulating a date function once per calendar day (``per_day``), looking codes up through a table
over their category numbers (``lookup``), filling text templates segment by segment
(``choose`` with ``fill``), and building rare texts only for the rows that have one (``spread``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import polars as pl

from acsxl.rules import calendar
from acsxl.rules.ops import FIELD, with_kind

PROBLEM = pl.Struct({"field": pl.String, "message": pl.String, "value": pl.String, "kind": pl.String})
PROBLEMS = pl.List(PROBLEM)  # a row's problems; null when it has none


def problem(field: pl.Expr, message: pl.Expr, value: pl.Expr, kind: str) -> pl.Expr:
    """One problem: the column it is about, the message, the value found (text), and its kind
    ("value": a bad or missing input value; "rule": something the rules found)."""
    return pl.struct(field.cast(pl.String).alias("field"), message.cast(pl.String).alias("message"), value.cast(pl.String).alias("value"),
                     pl.lit(kind).alias("kind"))


def concat_problems(*lists: pl.Expr) -> pl.Expr:
    """The problems of several lists, in order; null when none has any. Built from the rows that have
    any, as one long table of (row, problem) grouped back into a list per row (``per_row_lists``)."""
    def run(packed: pl.Series) -> pl.Series:
        frame = packed.struct.unnest().with_row_index("__row")
        long = pl.concat([frame.lazy().select("__row", pl.lit(i, pl.Int32).alias("__order"), pl.col(f"l{i}").alias("problem"))
                          .filter(pl.col("problem").is_not_null()).explode("problem") for i in range(len(lists))])
        return per_row_lists(long, frame.height)
    return pl.struct(*[lst.alias(f"l{i}") for i, lst in enumerate(lists)]).map_batches(run, return_dtype=PROBLEMS)


def per_row_lists(long: pl.LazyFrame, height: int) -> pl.Series:
    """``long``'s ``problem`` values (``__row``, ``__order``: where each goes) as one list per row of a
    column of ``height`` rows, null where a row has none. (A list built per row by ``concat_list``
    over a struct column costs far more: bench/RESULTS.md.)"""
    # Sorted first, then grouped keeping order: no sort inside each group (which cost several times more).
    lists = long.sort("__row", "__order", maintain_order=True).group_by("__row", maintain_order=True).agg("problem").collect(engine="in-memory")
    at = pl.repeat(None, height, dtype=pl.UInt32, eager=True).scatter(
        lists.get_column("__row"), pl.int_range(lists.height, eager=True, dtype=pl.UInt32))
    return lists.get_column("problem").cast(PROBLEMS).gather(at)


ISO = "%Y-%m-%d"  # how a date reads inside a text the rules fill in, unless the caller asks otherwise


class VecOps:
    """Rule operations over polars expressions; ``dates``: how a date reads inside a filled-in text
    (a strftime pattern)."""

    name = "vec"

    def __init__(self, dates: str = ISO) -> None:
        self.dates = dates

    @staticmethod
    def lit(value: Any) -> pl.Expr:
        return value if isinstance(value, pl.Expr) else pl.lit(value)

    def when(self, *cases: tuple[Any, Any], otherwise: Any = None, fill: Mapping[str, Any] | None = None) -> pl.Expr:
        return self.choose(*cases, otherwise=(otherwise,), fill=fill)[0]

    def choose(self, *cases: tuple[Any, ...], otherwise: tuple[Any, ...], fill: Mapping[str, Any] | None = None) -> tuple[pl.Expr, ...]:
        """Several outputs decided by one list of cases: the outputs of the first true case, text
        templates with their {name} fields filled from ``fill`` (the value's text, '' when missing).
        The cases become one integer index; outputs that are plain values are then a single gather
        (much cheaper than a chain of string columns)."""
        index: Any = pl
        for i, case in enumerate(cases):
            index = index.when(case[0]).then(pl.lit(i, pl.Int32))
        index = index.otherwise(pl.lit(len(cases), pl.Int32)) if cases else pl.lit(0, pl.Int32)
        outputs = []
        for k in range(1, len(otherwise) + 1):
            values = [case[k] for case in cases] + [otherwise[k - 1]]
            if any(isinstance(value, pl.Expr) for value in values):
                chain: Any = pl
                for i, value in enumerate(values[:-1]):
                    chain = chain.when(index == i).then(self.lit(value))
                outputs.append(chain.otherwise(self.lit(values[-1])) if cases else self.lit(values[-1]))
            elif all(value is None for value in values):
                outputs.append(pl.lit(None))
            elif fill and any(isinstance(value, str) and FIELD.search(value) for value in values):
                outputs.append(self._filled(index, values, fill))
            else:
                new = _series(values)
                outputs.append(pl.lit(new).gather(index))
        return tuple(outputs)

    def _filled(self, index: pl.Expr, templates: list[str | None], fill: Mapping[str, Any]) -> pl.Expr:
        """The chosen template filled in, as one concat of literal segments and value slots chosen by
        the case index, instead of a search-and-replace over every row's text. Where some cases have
        no text (a message that few rows carry), it is built only for the rows that have one."""
        missing = [i for i, t in enumerate(templates) if t is None]
        if not missing:
            return _concat_segments(index, templates, {name: _as_text(self.lit(v), self.dates) for name, v in fill.items()})
        text = _concat_segments(pl.col("__index"), templates, {name: pl.col(name) for name in fill})

        def run(packed: pl.Series) -> pl.Series:
            frame = packed.struct.unnest()
            chosen = ~frame.get_column("__index").is_in(missing)
            rows = frame.filter(chosen)
            rows = rows.with_columns(_text_of(rows.get_column(name), self.dates) for name in fill)
            return spread(rows.select(text).to_series(), chosen)

        packed = pl.struct(index.alias("__index"), *[self.lit(value).alias(name) for name, value in fill.items()])
        return packed.map_batches(run, return_dtype=pl.String)

    def eq(self, value: pl.Expr, other: Any) -> pl.Expr:
        return (value == other).fill_null(False)

    def isin(self, value: pl.Expr, options: Sequence[Any]) -> pl.Expr:
        return value.is_in(list(options)).fill_null(False)

    def is_true(self, value: pl.Expr) -> pl.Expr:
        return value.fill_null(False)

    def not_(self, condition: pl.Expr) -> pl.Expr:
        return ~condition

    def all(self, *conditions: pl.Expr) -> pl.Expr:
        return pl.all_horizontal(conditions)

    def any(self, *conditions: pl.Expr) -> pl.Expr:
        return pl.any_horizontal(conditions)

    def is_null(self, value: pl.Expr) -> pl.Expr:
        return value.is_null()

    def coalesce(self, *values: Any) -> pl.Expr:
        return pl.coalesce([self.lit(v) for v in values])

    def first(self, cases: Iterable[tuple[Callable[[], Any], Any]], otherwise: Any) -> pl.Expr:
        return self.when(*((condition(), value) for condition, value in cases), otherwise=otherwise)

    def pick(self, value: pl.Expr, templates: Mapping[Any, str], otherwise: str, fill: Mapping[str, Any]) -> pl.Expr:
        return self.when(*((self.eq(value, key), text) for key, text in templates.items()), otherwise=otherwise, fill=fill)

    def lookup(self, value: pl.Expr, mapping: Mapping[Any, Any], default: Any = None) -> pl.Expr:
        """On categories: a table over the column's category numbers and one gather (a hash lookup
        per row costs two to three times as much)."""
        new = _series([*mapping.values(), default])
        keys, values = list(mapping), new.head(len(mapping))

        def run(column: pl.Series) -> pl.Series:
            table = _code_table(column, keys, values, default) if column.dtype == pl.Categorical else None
            if table is None:
                return column.replace_strict(keys, values, default=pl.lit(default, new.dtype), return_dtype=new.dtype)
            return table.gather(column.to_physical()).fill_null(pl.lit(default, new.dtype))
        return value.map_batches(run, return_dtype=new.dtype)

    def fmt(self, template: str, *args: Any) -> pl.Expr:
        return pl.format(template, *[self.lit(a) for a in args])

    def key(self, first: Any, second: Any) -> pl.Expr:
        """A value equal exactly when both parts are, a missing part included (for counting distinct
        combinations of two codes): their category numbers, below 2**31, packed into one integer."""
        a, b = ((self.lit(p).to_physical().cast(pl.Int32).cast(pl.Int64) + 1).fill_null(0) for p in (first, second))
        return a * 2**32 + b

    def problems(self, *found: tuple[Any, ...], fill: Mapping[str, Any] | None = None) -> pl.Expr:
        """Built only for the rows where some condition holds (a few rows in a hundred)."""
        found = tuple(with_kind(f) for f in found)
        parts = []
        constant = [not FIELD.search(message) for _, _, message, _, _ in found]  # a message without fields is not built per row
        for i, (_, condition, message, value, _) in enumerate(found):
            parts.append(self.is_true(self.lit(condition)).alias(f"c{i}"))
            if not constant[i]:
                parts.append(self.when((condition, message), fill=fill).alias(f"m{i}"))
            if value is not None:
                parts.append(_as_text(self.lit(value), self.dates).alias(f"v{i}"))

        def run(packed: pl.Series) -> pl.Series:
            frame = packed.struct.unnest().with_row_index("__row")
            long = pl.concat([frame.lazy().filter(pl.col(f"c{i}")).select(
                "__row", pl.lit(i, pl.Int32).alias("__order"),
                problem(pl.lit(field), pl.lit(message) if constant[i] else pl.col(f"m{i}"),
                        pl.lit(None, pl.String) if value is None else pl.col(f"v{i}"), kind).alias("problem"))
                for i, (field, _, message, value, kind) in enumerate(found)])
            return per_row_lists(long, frame.height)
        return pl.struct(parts).map_batches(run, return_dtype=PROBLEMS)

    def matches(self, value: pl.Expr, pattern: str) -> pl.Expr:
        """On categories the pattern runs once per distinct value."""
        def run(column: pl.Series) -> pl.Series:
            if column.dtype != pl.Categorical:
                return column.str.contains(pattern).fill_null(False)
            distinct = column.drop_nulls().unique().cast(pl.String)
            return column.is_in(distinct.filter(distinct.str.contains(pattern)).to_list()).fill_null(False)
        return value.map_batches(run, return_dtype=pl.Boolean)

    def add_days(self, day: pl.Expr, days: Any) -> pl.Expr:
        return day + pl.duration(days=days)

    def add_years(self, day: pl.Expr, years: int) -> pl.Expr:
        return per_day(day, lambda days: days.dt.offset_by(f"{int(years)}y"), pl.Date)

    def roll_forward(self, day: pl.Expr) -> pl.Expr:
        return per_day(day, _business_days(0, "forward"), pl.Date)

    def add_business_days(self, day: pl.Expr, n: Any) -> pl.Expr:
        """One table of days per distinct count of days (a few: they come from the notice catalogue),
        stacked, and one gather from it."""
        def run(both: pl.Series) -> pl.Series:
            days, counts = both.struct.field("day"), both.struct.field("n")
            distinct = counts.drop_nulls().unique().sort().cast(pl.Int64).to_list()
            span = _day_span(days)
            if span is None or not distinct or distinct[-1] - distinct[0] > MAX_TABLE_DAYS:  # each count over the column
                out = pl.repeat(None, len(days), dtype=pl.Date, eager=True)
                for count in distinct:
                    out = pl.select(pl.when(counts == count).then(_business_days(count)(days)).otherwise(out)).to_series()
                return out
            table = pl.concat([_business_days(count)(span) for count in distinct])
            slot = dict(zip(distinct, range(len(distinct)), strict=True))  # each count's table, by a gather too
            which = pl.Series([slot.get(c) for c in range(distinct[0], distinct[-1] + 1)], dtype=pl.Int64).gather(counts - distinct[0])
            return table.gather(which * len(span) + _place(days, span))
        return pl.struct(day.alias("day"), self.lit(n).alias("n")).map_batches(run, return_dtype=pl.Date)

    def days_between(self, later: pl.Expr, earlier: Any) -> pl.Expr:
        return (later - self.lit(earlier)).dt.total_days()

    def log10(self, value: pl.Expr) -> pl.Expr:
        return value.log10()

    def clip(self, value: pl.Expr, lower: float, upper: float) -> pl.Expr:
        return value.clip(lower, upper)

    def round(self, value: pl.Expr) -> pl.Expr:
        return value.round(0, mode="half_away_from_zero").cast(pl.Int64)


MAX_TABLE_DAYS = 80_000  # about 220 years: a wider spread of dates (bad data) is computed row by row


def _business_days(n: int, roll: str = "backward") -> Callable[[pl.Series], pl.Series]:
    """The n-th business day after each day ("backward": a start on a weekend or holiday adds no day,
    RR §0 convention 5), or with n = 0 and "forward" the day rolled to the next business day."""
    def move(days: pl.Series) -> pl.Series:  # the holidays of the years around the days' (a move can cross New Year)
        years = days.dt.year()
        first, last = (years.min(), years.max()) if years.null_count() < len(years) else (1, -1)
        holidays = calendar.dc_holidays(first - 1, last + 1 + n // 200)  # type: ignore[operator]
        return days.dt.add_business_days(n, holidays=holidays, roll=roll)  # type: ignore[arg-type]
    return move


def per_day(day: pl.Expr, fn: Callable[[pl.Series], pl.Series], dtype: Any) -> pl.Expr:
    """``fn`` over a date column, computed once per calendar day in the column's range and gathered
    back. A case list holds a few thousand distinct dates, and polars' calendar operations (business
    days, year offsets, date text) cost far more per row than a gather (bench/RESULTS.md)."""
    return day.map_batches(lambda days: _tabulated(days, fn), return_dtype=dtype)


def _tabulated(days: pl.Series, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
    span = _day_span(days)
    return fn(days) if span is None else fn(span).gather(_place(days, span))


def _day_span(days: pl.Series) -> pl.Series | None:
    """Every calendar day from the column's first to its last; None when there are none or too many."""
    number = days.to_physical()
    low, high = number.min(), number.max()
    if low is None or high - low > MAX_TABLE_DAYS:  # type: ignore[operator]
        return None
    return pl.int_range(low, high + 1, dtype=pl.Int32, eager=True).cast(pl.Date)  # type: ignore[operator]


def _place(days: pl.Series, span: pl.Series) -> pl.Series:
    """Each day's position in ``span`` (null for a missing day)."""
    return days.to_physical().cast(pl.Int64) - span.to_physical()[0]


MAX_TABLE_CODES = 1 << 20


def _code_table(column: pl.Series, keys: list[Any], values: pl.Series, default: Any) -> pl.Series | None:
    """The mapped value for every category number up to the column's highest; None when the keys are
    not text or the numbers run too high."""
    high = column.to_physical().max()
    if high is None or high > MAX_TABLE_CODES or not all(isinstance(k, str) for k in keys):  # type: ignore[operator]
        return None
    key_ids = pl.Series(keys, dtype=pl.Categorical).to_physical()
    inside = key_ids <= high
    table = pl.repeat(default, high + 1, dtype=values.dtype, eager=True)  # type: ignore[operator]
    return table.scatter(key_ids.filter(inside), values.filter(inside))


def _series(values: Sequence[Any]) -> pl.Series:
    """Values as a column; text as categories (codes the rules then compare as integers)."""
    if all(isinstance(v, str) or v is None for v in values):
        return pl.Series(values, dtype=pl.Categorical)
    return pl.Series(values, strict=False)


def _concat_segments(case: pl.Expr, templates: list[str | None], texts: Mapping[str, pl.Expr]) -> pl.Expr:
    """Template ``case`` with its {name} fields taken from ``texts`` (missing: ''), column by column:
    literal segments by lookup, value slots by which case uses which name there."""
    split = [_segments(t) if t is not None else [] for t in templates]  # [literal, name, ..., literal]
    ids = list(range(len(templates)))
    pieces = []
    for j in range(max(len(parts) for parts in split)):
        at_j = [parts[j] if j < len(parts) else None for parts in split]
        if j % 2 == 0:  # literal segment
            pieces.append(pl.lit(pl.Series(at_j, dtype=pl.String)).gather(case))
            continue
        chain: Any = pl
        for name, text in texts.items():
            chosen = [i for i, n in zip(ids, at_j, strict=True) if n == name]
            if chosen:
                chain = chain.when(case.is_in(chosen)).then(text.fill_null(""))
        pieces.append(chain.otherwise(pl.lit(None, pl.String)) if chain is not pl else pl.lit(None, pl.String))
    return pl.concat_str(pieces, ignore_nulls=True)


def spread(values: pl.Series, where: pl.Series) -> pl.Series:
    """``values`` computed for the rows where ``where`` is true, put back in place (null elsewhere)."""
    return values.gather(pl.select(pl.when(where).then(where.cum_sum() - 1)).to_series())


def _text_of(column: pl.Series, dates: str = ISO) -> pl.Series:
    """A column's text as pl.format shows it, dates as ``dates`` says; dates through a table of days (see per_day)."""
    if column.dtype == pl.Date:
        return _tabulated(column, lambda days: days.dt.to_string(dates))
    return column.cast(pl.String)


def _as_text(value: pl.Expr, dates: str = ISO) -> pl.Expr:
    return value.map_batches(lambda column: _text_of(column, dates), return_dtype=pl.String)


def _segments(template: str) -> list[str]:
    """'Pay by {date} now' -> ['Pay by ', 'date', ' now']: literals at even places, field names at odd."""
    return FIELD.split(template)


VEC = VecOps()


@cache
def vec_ops(dates: str) -> VecOps:
    """The columnar operations with dates in filled-in texts read as ``dates``."""
    return VEC if dates == ISO else VecOps(dates)


class Columns:
    """``case[name]`` for the columnar backend: the column expression."""

    def __getitem__(self, name: str) -> pl.Expr:
        return pl.col(name)


COLUMNS = Columns()

"""Triage a whole case list at once: parse, join the notice catalogue, run the rule steps as polars
expressions, aggregate per client, rank."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

import polars as pl

from acsxl.engine.columnar import COLUMNS, ISO, VEC, concat_problems, vec_ops
from acsxl.engine.distinct import per_distinct, select
from acsxl.engine.identity import client_keys, duplicates, identity_problems
from acsxl.engine.parse import parse_cases
from acsxl.rules.catalogue import NOTICE_FIELDS, notice_rules
from acsxl.rules.parameters import RULEBOOK, Values
from acsxl.rules.schema import FIELDS
from acsxl.rules.triage import AGGREGATES, RESULT, STEPS_AFTER_AGGREGATES, STEPS_BEFORE_AGGREGATES, Declared, Step

EXTRA = "__extra__"  # prefix that keeps the caller's own columns apart from the rules' columns
PROVENANCE = ("source_file", "source_row")  # where each case came from: an index into the run's sources, the sheet row
HOW = {"sum": lambda c: c.sum(), "any": lambda c: c.any(), "n_unique": lambda c: c.drop_nulls().n_unique()}


def catalogue_frame(as_of: date) -> pl.DataFrame:
    rules = notice_rules(as_of).values()
    return pl.DataFrame(
        {"last_notice": [r.code for r in rules], **{f"n_{f}": [getattr(r, f) for r in rules] for f in NOTICE_FIELDS}},
        schema_overrides={"n_window": pl.Int64, "n_large_window": pl.Int64},
    ).with_columns(pl.col(pl.String).cast(pl.Categorical))  # as the parsed codes (engine.parse.DTYPES)


@lru_cache(maxsize=256)  # a triage reads about 20 rules for one day
def _rule_exprs(rule: Declared, day: date, dates: str = ISO) -> tuple[pl.Expr, ...]:
    """The rule as expressions over the law in force on ``day`` (dates in its texts read as ``dates``),
    built once per day."""
    out = rule(vec_ops(dates), COLUMNS, RULEBOOK.at(day))
    if len(rule.makes) > 1:
        return tuple(e.alias(n) for n, e in zip(rule.makes, out, strict=True))
    return (VEC.lit(out).alias(rule.makes[0]),)


def _writes_text(df: pl.DataFrame, exprs: Sequence[pl.Expr]) -> bool:
    return pl.String in df.lazy().select(exprs).collect_schema().dtypes()


def _run_step(df: pl.DataFrame, step: Step, law: Values, dates: str = ISO) -> list[pl.Series]:
    """The step's new columns: each rule once per distinct combination of its inputs where that pays
    (``engine.distinct``), the other rules together in one lazy query on the in-memory engine (one
    plan for all steps, eager ``with_columns`` and the streaming engine were each slower:
    bench/RESULTS.md)."""
    columns, together = [], []
    for rule in step:
        exprs = list(_rule_exprs(rule, law.as_of, dates))
        done = per_distinct(df, exprs) if _writes_text(df, exprs) else None
        if done is None:
            together.extend(exprs)
        else:
            columns.extend(done.get_columns())
    if together:
        columns.extend(select(df, together).get_columns())
    return columns


def _add_aggregates(df: pl.DataFrame, law: Values, given: pl.DataFrame | None, counted: pl.Series | None = None) -> pl.DataFrame:
    """Each row's contributions (of the rows ``counted``: a case written twice counts once),
    aggregated per client in one group-by and joined back; then the caller's ``given`` values
    (row-aligned, null: computed) take their place."""
    contributions = [VEC.lit(a.formula(VEC, COLUMNS, law)).alias(name) for name, a in AGGREGATES.items()]
    combined = [HOW[a.how](pl.col(name)).alias(name) for name, a in AGGREGATES.items()]
    rows = df if counted is None else df.filter(counted)
    per_client = rows.select("client_key", *contributions).group_by("client_key").agg(combined)
    df = df.join(per_client, on="client_key", how="left", maintain_order="left")
    if given is None:
        return df
    return df.with_columns(pl.coalesce(given.get_column(name), pl.col(name)).alias(name) for name in given.columns)


def _rank_key(closing_right: pl.Expr, priority: pl.Expr, days_left: pl.Expr, balance: pl.Expr) -> pl.Expr:
    """Most urgent first: rows where a right is lost at a deadline within the horizon
    (``closing_right``, RR §3.2) before all others, then higher priority (a closing right's row is not
    ordered by it: it ranks by its deadline), then fewer days left (none last), then the larger balance,
    packed into one 63-bit integer (7 bits: 0 for a closing right, else 101 - priority; 16 bits days
    left clamped to +-32,767; 40 bits balance in cents capped near $11 billion), so a stable sort on it
    keeps input order for ties."""
    points = pl.when(closing_right).then(0).otherwise(101 - priority.clip(0, 100)).cast(pl.Int64)
    days = (days_left.clip(-32767, 32766) + 32767).fill_null(65535).cast(pl.Int64)
    cents = (balance * 100).round(0).clip(0, 2**40 - 1).cast(pl.Int64)
    return points * 2**56 + days * 2**40 + (2**40 - 1 - cents)


def triage(cases: pl.DataFrame, as_of: date, given: pl.DataFrame | None = None, columns: Sequence[str] | None = None,
           dates: str = ISO) -> pl.DataFrame:
    """One output row per input row, in rank order: ``rank``, the ``columns`` asked for (default
    ``acsxl.rules.triage.RESULT``), ``problems`` (each row's problems as data, ``engine.columnar.PROBLEMS``; null when
    none), ``source_file`` and ``source_row``, then the caller's own columns (one named like a column
    given back gets `` (yours)`` added). Codes from a fixed vocabulary (form, last_notice, cause, stage,
    the risks...) come back as polars Categoricals; every other text column as String.

    ``cases`` holds the canonical input columns (``acsxl.rules.schema.FIELDS``) in any dtype, and may
    say where each case came from in ``source_file`` (an index into the caller's list of sources) and
    ``source_row`` (the sheet row); without them a case's source_row is its place in ``cases`` (from 1).
    ``given`` may hold client-level aggregates per row (columns named as in
    ``acsxl.rules.triage.AGGREGATES``; a null is computed), as ``engine.scalar.triage_case`` takes them.
    ``dates``: how a date reads inside the texts (next action, problems), a strftime pattern; the date
    columns stay dates."""
    unknown = set(given.columns if given is not None else ()) - set(AGGREGATES)
    if unknown:
        raise ValueError(f"not client aggregates: {', '.join(sorted(unknown))}")
    wanted = [c for c in (RESULT if columns is None else columns) if c not in ("rank", "problems", *PROVENANCE)]
    law = RULEBOOK.at(as_of)
    canonical = {f.name for f in FIELDS} | set(PROVENANCE)
    extras = [c for c in cases.columns if c not in canonical]
    frame = cases.rename({c: EXTRA + c for c in extras})
    if "source_row" not in frame.columns:
        frame = frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"))
    if "source_file" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.Int64).alias("source_file"))
    frame = parse_cases(frame)

    keys, shared_ids = client_keys(frame)
    df = frame.with_columns(pl.col("taxpayer_type").alias("taxpayer_type_in"), keys).join(
        catalogue_frame(as_of), on="last_notice", how="left", maintain_order="left")
    counted, repeated = duplicates(df)
    for step in STEPS_BEFORE_AGGREGATES:
        df = df.with_columns(_run_step(df, step, law, dates))
    df = _add_aggregates(df, law, given, counted)
    for step in STEPS_AFTER_AGGREGATES:
        df = df.with_columns(_run_step(df, step, law, dates))

    taken = {"rank", *wanted, "problems", *PROVENANCE}
    renamed = [pl.col(EXTRA + c).alias(f"{c} (yours)" if c in taken else c) for c in extras]
    shown = [pl.col(c).round(2) if c == "client_total" else pl.col(c) for c in wanted]
    ranked = (
        df.lazy().with_columns(identity_problems(df.height, shared_ids, repeated).alias("__between"))
        .select(*shown, concat_problems(pl.col("parse_problems"), pl.col("rule_problems"), pl.col("__between")).alias("problems"),
                         *PROVENANCE, *renamed, _rank_key(pl.col("closing_right"), pl.col("priority"), pl.col("days_left"), pl.col("bal")).alias("__key"))
        .sort("__key", maintain_order=True)
        .select(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"), pl.exclude("__key"))
        .collect(engine="in-memory")
    )
    return ranked

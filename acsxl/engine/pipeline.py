"""Triage a whole case list at once: parse, join the notice catalogue, run the rule steps as polars
expressions, aggregate per client, rank."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

import polars as pl

from acsxl.engine.distinct import per_distinct, select
from acsxl.engine.parse import parse_cases
from acsxl.rules.catalogue import NOTICE_FIELDS, notice_rules
from acsxl.rules.ops import COLUMNS, VEC
from acsxl.rules.parameters import RULEBOOK, Values
from acsxl.rules.schema import FIELDS, OUTPUT_COLUMNS
from acsxl.rules.triage import AGGREGATE_AFTER_STEP, AGGREGATES, STEPS, Rule, Step

EXTRA = "__extra__"  # prefix that keeps the caller's own columns apart from the rules' columns


def catalogue_frame(as_of: date) -> pl.DataFrame:
    rules = notice_rules(as_of).values()
    return pl.DataFrame(
        {"last_notice": [r.code for r in rules], **{f"n_{f}": [getattr(r, f) for r in rules] for f in NOTICE_FIELDS}},
        schema_overrides={"n_window": pl.Int64, "n_large_window": pl.Int64},
    ).with_columns(pl.col(pl.String).cast(pl.Categorical))  # as the parsed codes (engine.parse.DTYPES)


@lru_cache(maxsize=256)  # a triage reads about 20 rules for one day
def _rule_exprs(names: str | tuple[str, ...], rule: Rule, day: date) -> tuple[pl.Expr, ...]:
    """The rule as expressions over the parameters in force on ``day``, built once per day."""
    out = rule(VEC, COLUMNS, RULEBOOK.at(day))
    if isinstance(names, tuple):
        return tuple(e.alias(n) for n, e in zip(names, out, strict=True))
    return (VEC.lit(out).alias(names),)


def _writes_text(df: pl.DataFrame, exprs: Sequence[pl.Expr]) -> bool:
    return pl.String in df.lazy().select(exprs).collect_schema().dtypes()


def _run_step(df: pl.DataFrame, step: Step, p: Values) -> list[pl.Series]:
    """The step's new columns: each rule once per distinct combination of its inputs where that pays
    (``engine.distinct``), the other rules together in one lazy query on the in-memory engine.

    Measured on 1M rows: one plan for all steps re-inlines shared columns into every rule; eager
    with_columns has no common-subexpression elimination (the sentence rules repeat their case
    index); the streaming engine redoes the holiday table per morsel. Each was 2-6x slower."""
    columns, together = [], []
    for names, rule in step:
        exprs = list(_rule_exprs(names, rule, p.day))
        done = per_distinct(df, exprs) if _writes_text(df, exprs) else None
        if done is None:
            together.extend(exprs)
        else:
            columns.extend(done.get_columns())
    if together:
        columns.extend(select(df, together).get_columns())
    return columns


def _add_aggregates(df: pl.DataFrame, p: Values, given: pl.DataFrame | None) -> pl.DataFrame:
    """Each row's contributions, aggregated per client in one group-by and joined back; then the
    caller's ``given`` values (row-aligned, null: computed) take their place."""
    contributions, aggregates = [], []
    for name, (how, rule) in AGGREGATES.items():
        contributions.append(VEC.lit(rule(VEC, COLUMNS, p)).alias(name))
        col = pl.col(name)
        aggregates.append({"sum": col.sum(), "any": col.any(), "n_unique": col.drop_nulls().n_unique()}[how].alias(name))
    per_client = df.select("client_key", *contributions).group_by("client_key").agg(aggregates)
    df = df.join(per_client, on="client_key", how="left", maintain_order="left")
    if given is None:
        return df
    return df.with_columns(pl.coalesce(given.get_column(name), pl.col(name)).alias(name) for name in given.columns)


def _rank_key() -> pl.Expr:
    """Most urgent first: higher priority, then fewer days left (none last), then the larger balance,
    packed into one 63-bit integer (7 bits priority, 16 bits days left clamped to +-32,767, 40 bits
    balance in cents capped near $11 billion), so a stable sort on it keeps input order for ties."""
    priority = (100 - pl.col("priority").clip(0, 100)).cast(pl.Int64)
    days = (pl.col("days_left").clip(-32767, 32766) + 32767).fill_null(65535).cast(pl.Int64)
    cents = (pl.col("bal") * 100).round(0).clip(0, 2**40 - 1).cast(pl.Int64)
    return priority * 2**56 + days * 2**40 + (2**40 - 1 - cents)


def triage(cases: pl.DataFrame, as_of: date, given: pl.DataFrame | None = None) -> pl.DataFrame:
    """One output row per input row (``OUTPUT_COLUMNS`` then the caller's extra columns), in rank order.
    Codes from a fixed vocabulary (form, last_notice, cause, stage, the risks...) come back as polars
    Categoricals; every other text column as String.

    ``cases`` holds the canonical input columns (``acsxl.rules.schema.FIELDS``) in any dtype; a
    ``source`` column, when present, names where each row came from. ``given`` may hold client-level
    aggregates per row (columns named as in ``acsxl.rules.triage.AGGREGATES``; a null is computed),
    as ``acsxl.scalar.triage_case`` takes them for one case."""
    unknown = set(given.columns if given is not None else ()) - set(AGGREGATES)
    if unknown:
        raise ValueError(f"not client aggregates: {', '.join(sorted(unknown))}")
    p = RULEBOOK.at(as_of)
    canonical = {f.name for f in FIELDS} | {"source"}
    extras = [c for c in cases.columns if c not in canonical]
    frame = cases.rename({c: EXTRA + c for c in extras}).with_row_index("row_nr")
    if "source" not in frame.columns:
        frame = frame.with_columns(pl.format("row {}", pl.col("row_nr") + 1).alias("source"))
    frame = parse_cases(frame)

    df = frame.with_columns(
        pl.col("taxpayer_type").alias("taxpayer_type_in"),
        pl.coalesce(pl.col("client_id"), pl.format("(no client id) {}", pl.col("source"))).alias("client_key"),
    ).join(catalogue_frame(as_of), on="last_notice", how="left", maintain_order="left")
    for i, step in enumerate(STEPS):
        if i == AGGREGATE_AFTER_STEP:
            df = _add_aggregates(df, p, given)
        df = df.with_columns(_run_step(df, step, p))

    joined = VEC.join([pl.col("parse_issues"), pl.col("rule_issues")], "; ")
    renamed = [pl.col(EXTRA + c).alias(f"{c}_input" if c in OUTPUT_COLUMNS else c) for c in extras]
    notes = [pl.col("notes")] if "notes" in cases.columns else []
    ranked = (
        df.lazy().select(
            *[c for c in OUTPUT_COLUMNS if c not in ("rank", "issues", "client_total")],
            pl.col("client_total").round(2), joined.alias("issues"), *notes, *renamed, "bal")
        .sort(_rank_key(), maintain_order=True)
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"))
        .collect(engine="in-memory")
    )
    return ranked.select(*OUTPUT_COLUMNS, *[c for c in ranked.columns if c not in OUTPUT_COLUMNS and c != "bal"])

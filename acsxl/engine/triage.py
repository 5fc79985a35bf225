"""Triage a whole case list at once: parse, join the notice catalogue, run the rule steps as polars
expressions, aggregate per client, rank."""

from __future__ import annotations

from datetime import date

import polars as pl

from acsxl.engine.parse import parse_cases
from acsxl.rules.catalogue import NOTICE_FIELDS, notice_rules
from acsxl.rules.ops import COLUMNS, VEC
from acsxl.rules.parameters import RULEBOOK, Values
from acsxl.rules.schema import FIELDS, OUTPUT_COLUMNS
from acsxl.rules.triage import AGGREGATE_AFTER_STEP, AGGREGATES, STEPS, Step

EXTRA = "__extra__"  # prefix that keeps the caller's own columns apart from the rules' columns


def catalogue_frame(as_of: date) -> pl.DataFrame:
    rules = notice_rules(as_of).values()
    return pl.DataFrame(
        {"last_notice": [r.code for r in rules], **{f"n_{f}": [getattr(r, f) for r in rules] for f in NOTICE_FIELDS}},
        schema_overrides={"n_window": pl.Int64, "n_large_window": pl.Int64},
    )


def _step_exprs(step: Step, p: Values) -> list[pl.Expr]:
    exprs = []
    for names, rule in step:
        out = rule(VEC, COLUMNS, p)
        if isinstance(names, tuple):
            exprs.extend(e.alias(n) for n, e in zip(names, out, strict=True))
        else:
            exprs.append(VEC.lit(out).alias(names))
    return exprs


def _aggregate_exprs(p: Values) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Row contributions, then their per-client aggregates (over ``client_key``)."""
    contributions, aggregates = [], []
    for name, (how, rule) in AGGREGATES.items():
        contributions.append(VEC.lit(rule(VEC, COLUMNS, p)).alias(f"row_{name}"))
        col = pl.col(f"row_{name}")
        agg = {"sum": col.sum(), "any": col.any(), "n_unique": col.drop_nulls().n_unique()}[how]
        aggregates.append(agg.over("client_key").alias(name))
    return contributions, aggregates


def triage(cases: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One output row per input row (``OUTPUT_COLUMNS`` then the caller's extra columns), in rank order.

    ``cases`` holds the canonical input columns (``acsxl.rules.schema.FIELDS``) in any dtype; a
    ``source`` column, when present, names where each row came from."""
    p = RULEBOOK.at(as_of)
    canonical = {f.name for f in FIELDS} | {"source"}
    extras = [c for c in cases.columns if c not in canonical]
    frame = cases.rename({c: EXTRA + c for c in extras}).with_row_index("row_nr")
    if "source" not in frame.columns:
        frame = frame.with_columns(pl.format("row {}", pl.col("row_nr") + 1).alias("source"))
    frame = parse_cases(frame)

    lf = frame.lazy().with_columns(
        pl.col("taxpayer_type").alias("taxpayer_type_in"),
        pl.coalesce(pl.col("client_id"), pl.format("(no client id) {}", pl.col("source"))).alias("client_key"),
    ).join(catalogue_frame(as_of).lazy(), on="last_notice", how="left")
    for i, step in enumerate(STEPS):
        if i == AGGREGATE_AFTER_STEP:
            contributions, aggregates = _aggregate_exprs(p)
            lf = lf.with_columns(contributions).with_columns(aggregates)
        lf = lf.with_columns(_step_exprs(step, p))

    joined = pl.concat_str(["parse_issues", pl.when(pl.col("rule_issues") != "").then("rule_issues")], separator="; ", ignore_nulls=True)
    issues = pl.when(joined != "").then(joined)
    lf = (
        lf.with_columns(issues.alias("issues"), pl.col("client_total").round(2))
        .sort(["priority", "days_left", "bal", "client_key", "tax_period", "row_nr"],
              descending=[True, False, True, False, False, False], nulls_last=True)
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"))
    )
    renamed = [pl.col(EXTRA + c).alias(f"{c}_input" if c in OUTPUT_COLUMNS else c) for c in extras]
    notes = [pl.col("notes")] if "notes" in cases.columns else []
    return lf.select(*OUTPUT_COLUMNS, *notes, *renamed).collect()

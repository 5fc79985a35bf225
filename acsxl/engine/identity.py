"""Which rows are one client, and which are one case written twice, when the cases come from several
files (README, "Clients across files"):

- The same client id under different names (compared without case, spaces or punctuation) in
  different files is taken for different people who share a number: each file's rows form a client of
  their own, so their balances are not added up toward passport or revenue-officer risk, and each row
  says so in its problems.
- An exact duplicate (the same client, form, period and facts; names and notes aside) is reported on
  both rows and counted once in every client total.

Both are found only where they can occur: conflicts among ids seen in more than one file, duplicates
among rows that share a client, form and period."""

from __future__ import annotations

import polars as pl

from acsxl.engine.columnar import PROBLEMS, per_row_lists, problem
from acsxl.rules.schema import FACTS

NAMED_OTHERS = 3  # the other rows of a case written more than twice that a row's problem names (then "and N more")
NONE_FOUND = pl.DataFrame(schema={"__row": pl.UInt32, "__order": pl.Int32, "problem": PROBLEMS.inner})  # no (row, problem)


def _norm(name: pl.Expr) -> pl.Expr:
    return name.cast(pl.String).str.to_lowercase().str.replace_all(r"[^0-9a-z]", "")


def _by_id(df: pl.DataFrame) -> pl.Series:
    """The client id; a row without one is a client of its own (its file and row), made only for those rows."""
    ids = df.get_column("client_id").cast(pl.String).alias("client_key")
    missing = ids.is_null()
    if not missing.any():
        return ids
    own = df.filter(missing).select(pl.format("(no client id) {}:{}", pl.col("source_file").fill_null(-1), pl.col("source_row"))).to_series()
    return ids.scatter(missing.arg_true(), own)


def client_keys(df: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame]:
    """The key rows are added up by, and the (row, problem) of every row whose client id is shared by
    different people in different files."""
    if df.get_column("source_file").n_unique() <= 1:
        return _by_id(df), NONE_FOUND
    named = df.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row"), pl.col("client_id").cast(pl.String).alias("id"),
                      "source_file", pl.col("client_name").cast(pl.String).alias("name"), _norm(pl.col("client_name")).alias("norm"))
    conflicts = (named.filter(pl.col("id").is_not_null() & (pl.col("norm") != ""))
                 .group_by("id").agg(pl.col("norm").n_unique().alias("names"), pl.col("source_file").n_unique().alias("files"),
                                     pl.col("name").unique(maintain_order=True).alias("shown"))
                 .filter((pl.col("names") > 1) & (pl.col("files") > 1)))
    if conflicts.height == 0:
        return _by_id(df), NONE_FOUND
    rows = named.join(conflicts, on="id", how="inner")
    message = pl.format("client id {} is used for different names in different files ({}); this file's rows are taken as a client "
                        "of their own and not added up with the others: give each client its own id",
                        pl.col("id"), pl.col("shown").list.join(", "))
    found = rows.select("__row", pl.lit(0, pl.Int32).alias("__order"),
                        problem(pl.lit("client_id"), message, pl.col("id"), "rows").alias("problem"))
    split = pl.col("client_id").cast(pl.String).is_in(conflicts.get_column("id").implode())
    key = pl.when(split).then(pl.format("{}\x00{}", pl.col("client_id").cast(pl.String), pl.col("source_file"))).otherwise(pl.col("__by_id"))
    return df.select(_by_id(df).alias("__by_id"), "client_id", "source_file").select(key.alias("client_key")).to_series(), found


def candidate_key() -> pl.Expr:
    """One number per row, equal for rows of the same client, form, period and balance (to the cent): the
    rows that may be one case written twice. Unequal rows may share it (a collision only makes a
    candidate, which the exact comparison then clears); equal rows always do."""
    cents = (pl.col("balance") * 100).round().fill_null(-1).cast(pl.Int64).cast(pl.UInt64, wrap_numerical=True)
    return (pl.col("client_key").hash(seed=7)
            ^ (pl.col("form").to_physical().cast(pl.UInt64).fill_null(0) * 0x9E3779B97F4A7C15)
            ^ (pl.col("tax_period").to_physical().cast(pl.UInt64).fill_null(0) * 0xC2B2AE3D27D4EB4F)
            ^ (cents * 0x165667B19E3779F9))


def duplicates(df: pl.DataFrame) -> tuple[pl.Series | None, pl.DataFrame]:
    """Whether each row counts in the client totals (None: all do), and the (row, problem) of every row
    that is the same case as another."""
    facts = ["client_key", *(c for c in FACTS if c != "client_id")]
    same_key = df.select(candidate_key().is_duplicated()).to_series()
    if not same_key.any():
        return None, NONE_FOUND
    rows = (df.select(*facts, "source_file", "source_row").with_row_index("__row").filter(same_key)
            .select("__row", "source_file", "source_row", *facts)
            .with_columns(pl.struct(facts).alias("__case")))
    rows = rows.with_columns(pl.col("__case").is_duplicated().alias("__dup"), pl.col("__case").is_first_distinct().alias("__first"))
    dups = rows.filter(pl.col("__dup"))
    if dups.height == 0:
        return None, NONE_FOUND
    # Each row paired with the first few other rows of its case (NAMED_OTHERS; a count for the rest),
    # named by row, and by "another file" when there. Pairing a row with every other row of its case
    # grew with the square of the copies: a folder of 500 copies of one workbook took gigabytes.
    dups = dups.sort("__row").with_columns(pl.len().over("__case").cast(pl.Int64).alias("__copies"))
    lead = (dups.filter(pl.int_range(pl.len()).over("__case") <= NAMED_OTHERS)
            .select("__case", pl.col("__row").alias("__other"), pl.col("source_file").alias("__file"), pl.col("source_row").alias("__at")))
    pairs = (dups.select("__row", "source_file", "__case").join(lead, on="__case").filter(pl.col("__other") != pl.col("__row"))
             .sort("__row", "__other").group_by("__row", maintain_order=True).head(NAMED_OTHERS))
    named = pl.format("row {}", pl.col("__at")) + pl.when(pl.col("__file").eq_missing(pl.col("source_file"))).then(pl.lit("")).otherwise(
        pl.lit(" of another file"))
    where = pairs.group_by("__row", maintain_order=True).agg(named.str.join(", ").alias("__where"))
    more = pl.col("__copies") - 1 - NAMED_OTHERS
    dups = dups.join(where, on="__row", how="left").with_columns(
        pl.when(more > 0).then(pl.format("{} and {} more", pl.col("__where"), more)).otherwise(pl.col("__where")).alias("__where"))
    message = pl.format("the same case as {} (same client, form, period and facts): counted once in the client's totals", pl.col("__where"))
    found = dups.select("__row", pl.lit(1, pl.Int32).alias("__order"),
                        problem(pl.lit("client_id"), message, pl.lit(None, pl.String), "rows").alias("problem"))
    counted = pl.Series([True] * df.height).scatter(dups.filter(~pl.col("__first")).get_column("__row"), False)
    return counted, found


def identity_problems(height: int, *found: pl.DataFrame) -> pl.Series:
    """The problems found between rows, as one list per row (null where none)."""
    long = pl.concat([f for f in found if f.height], how="vertical") if any(f.height for f in found) else None
    if long is None:
        return pl.repeat(None, height, dtype=PROBLEMS, eager=True)
    return per_row_lists(long.lazy(), height)

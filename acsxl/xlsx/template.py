"""Filling a workbook that a library wrote as a template: each table written with only its first data
row (which fixes every column's cell format), then the rows streamed in (``acsxl.xlsx.rows``), the
tables stretched over them, and hyperlinks put in as pieces written from where they lie."""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl
from xlsxwriter.utility import xl_col_to_name

from acsxl.xlsx.package import RELATIONSHIPS_NS, Package, rels_name
from acsxl.xlsx.rows import Cell, Fill, Pieces, escaped_attribute, joined


def stretched(package: Package, part: str, frame: pl.DataFrame, first_row: int = 2, formulas: Mapping[str, str] | None = None,
              height: pl.Expr | None = None) -> tuple[Fill, dict[str, str]]:
    """The rows of ``frame`` for a sheet written with only its first data row (``first_row``, 1-based):
    each column keeps that row's cell format, live ``formulas`` by column (``{row}`` where the row
    number goes). Dates follow the package's date system. Also the sheet's tables stretched over all
    the rows (new contents by part name)."""
    formulas = formulas or {}
    styles = dict(re.findall(rf'<c r="([A-Z]+){first_row}" s="(\d+)"', package.text(part)))
    cells = [Cell(c, int(styles.get(xl_col_to_name(i), 0)), formulas.get(c)) for i, c in enumerate(frame.columns)]
    last = first_row + frame.height - 1
    tables = {rel.target: re.sub(rf'\bref="([A-Z]+\d+):([A-Z]+){first_row}"', rf'ref="\g<1>:\g<2>{last}"', package.text(rel.target))
              for rel in package.relationships(part) if rel.kind == "table"}
    return Fill(frame, cells, height, first_row, package.date1904()), tables


def hyperlinks(cells: pl.DataFrame, targets: pl.DataFrame, column: str) -> tuple[memoryview | bytes, memoryview | bytes]:
    """The content of a sheet's ``<hyperlinks>`` and the relationships of its external links, for a link
    in ``column`` on each of ``cells``' rows: ``at`` (the link's sheet row), ``key`` (its target),
    ``row`` (the row it goes to) and, optionally, ``letters`` (the column it goes to; null or absent:
    A). ``targets`` has one row per ``key``: ``uri`` (another file; null: this workbook) and ``sheet``
    (the sheet it goes to). Text from ``targets`` is escaped once per target. No ``display`` attribute:
    the cell shows its own text."""
    targets = targets.select(
        "key", "uri", "sheet",
        escaped_attribute(pl.col("uri")).alias("target"),
        escaped_attribute(pl.lit("'") + pl.col("sheet").str.replace_all("'", "''", literal=True) + pl.lit("'!")).alias("place"),
    )
    letters = pl.col("letters").fill_null("A") if "letters" in cells.columns else pl.lit("A")
    rows = (cells.select(pl.col("at").cast(pl.String), "key", "row", letters.alias("letters"))
            .join(targets, on="key", how="inner", maintain_order="left")
            .filter(pl.col("row").is_not_null() & (pl.col("uri").is_not_null() | pl.col("sheet").is_not_null())))
    if rows.height == 0:
        return b"", b""
    location = pl.concat_str([pl.lit(' location="'), pl.col("place"), pl.col("letters"), pl.col("row").cast(pl.String), pl.lit('"')])
    rel_id = pl.concat_str([pl.lit("rIdL"), pl.col("at")])
    xml = rows.select(
        pl.concat_str([pl.lit(f'<hyperlink ref="{column}'), pl.col("at"), pl.lit('"'),
                       pl.when(pl.col("uri").is_not_null()).then(pl.concat_str([pl.lit(' r:id="'), rel_id, pl.lit('"')])).otherwise(pl.lit("")),
                       location.fill_null(""), pl.lit("/>")]).alias("links"),
        pl.concat_str([pl.lit('<Relationship Id="'), rel_id, pl.lit(f'" Type="{RELATIONSHIPS_NS}/hyperlink" Target="'),
                       pl.col("target"), pl.lit('" TargetMode="External"/>')]).alias("rels"),  # null: a link inside
    )
    return joined(xml.get_column("links")), joined(xml.get_column("rels"))


def with_hyperlinks(package: Package, part: str, links: memoryview | bytes, rels: memoryview | bytes) -> tuple[Pieces, Pieces]:
    """The sheet ``part`` and its relationships with ``links`` (``hyperlinks``) in place of the
    template's, as pieces: the links (megabytes) are written from where they lie, never copied."""
    head, tail = re.sub(r'<Relationship\b[^>]*/hyperlink"[^>]*/>', "", package.text(rels_name(part))).rsplit("</Relationships>", 1)
    before, after = re.split(r"<hyperlinks>.*?</hyperlinks>", package.text(part), maxsplit=1, flags=re.S)
    return ((before.encode(), *((b"<hyperlinks>", links, b"</hyperlinks>") if links else ()), after.encode()),
            (head.encode(), rels, b"</Relationships>" + tail.encode()))

"""Worksheet rows as SpreadsheetML, built with polars string expressions over whole columns.

A library that writes cell by cell in Python spends seconds per 100,000 rows and keeps every cell in
memory; here each chunk of rows becomes its XML in a few vectorized operations and is streamed into the
zip file, so memory stays flat however long the sheet. Strings are written inline (no shared-string
table to build); dates as Excel serial numbers; a formula cell carries its value as of the run."""

from __future__ import annotations

import re
import zipfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO

import polars as pl
from xlsxwriter.utility import xl_col_to_name

from acsxl.xlsx.package import Package, escaped_text

EXCEL_EPOCH_OFFSET = 25_569  # serial number of 1970-01-01 in Excel's 1900 date system (ECMA-376 18.17.4.1)
EXCEL_1904_OFFSET = 24_107  # the same day in the 1904 date system (workbookPr date1904): 1,462 days fewer
# Rows per chunk: a chunk of portfolio rows stays well under 32 MB, glibc's ceiling for serving a block
# from its heap; bigger blocks get fresh pages from the system every time, each one faulted in and
# zeroed (bench/RESULTS.md, session 8).
CHUNK_ROWS = 10_000
AHEAD = 2  # chunks built ahead of the zip writer: the builder runs on while a slow chunk is compressed
ZIP_LEVEL = 1  # deflate level: the sheet XML is repetitive, and level 1 already shrinks it most of the way, far faster
_INVALID_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F]"  # control characters XML 1.0 cannot hold
_NEEDS_ESCAPE = r"[&<>\x00-\x08\x0B\x0C\x0E-\x1F]"
_ROW = "\x00row"  # the row number column: a name no sheet column has


@dataclass(frozen=True)
class Cell:
    """How one column is written: its style (cell format index) and, for a formula column, the formula
    with ``{row}`` where the row number goes (the column's own value is the cached result)."""

    column: str
    style: int = 0
    formula: str | None = None

    def formula_at(self, row: int) -> str:
        return escaped_text((self.formula or "").replace("{row}", str(row)))


def escaped(text: pl.Expr) -> pl.Expr:
    return (text.str.replace_all(_INVALID_XML, "")
            .str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True)
            .str.replace_all(">", "&gt;", literal=True))


Piece = str | pl.Expr  # a row's XML is one concatenation of literal text and column expressions


def _cell(spec: Cell, dtype: pl.DataType, letter: str, row: pl.Expr, escape: bool, nullable: bool, formula: Piece,
          epoch: int = EXCEL_EPOCH_OFFSET) -> list[Piece]:
    value = pl.col(spec.column)
    ref: list[Piece] = [f'<c r="{letter}', row, f'" s="{spec.style}"']
    if spec.formula is not None:  # a blank result is the empty string, as the formula gives it
        typed = pl.when(value.is_null()).then(pl.lit(' t="str">')).otherwise(pl.lit(">"))
        return [*ref, typed, formula, "<v>", value.cast(pl.String).fill_null(""), "</v></c>"]
    body: list[Piece]
    if dtype == pl.Date:
        body = ["><v>", (value.cast(pl.Int32) + epoch).cast(pl.String), "</v></c>"]
    elif dtype == pl.Boolean:
        body = [' t="b"><v>', value.cast(pl.Int8).cast(pl.String), "</v></c>"]
    elif dtype.is_float():
        body = ["><v>", value.fill_nan(None).cast(pl.String), "</v></c>"]
    elif dtype.is_numeric():
        body = ["><v>", value.cast(pl.String), "</v></c>"]
    else:
        text = value.cast(pl.String)
        body = [' t="inlineStr"><is><t xml:space="preserve">', escaped(text) if escape else text, "</t></is></c>"]
    if not nullable:  # the pieces go straight into the row's concatenation
        return [*ref, *body]
    # concat_str is null when the value is: then the cell is a blank that keeps the column's format
    return [*ref, pl.concat_str(_exprs(body)).fill_null(pl.lit("/>"))]


def _exprs(pieces: list[Piece]) -> list[pl.Expr]:
    """Adjacent literal text joined into one literal: fewer, longer pieces to concatenate."""
    out: list[pl.Expr] = []
    text = ""
    for piece in pieces:
        if isinstance(piece, str):
            text += piece
            continue
        if text:
            out.append(pl.lit(text))
            text = ""
        out.append(piece)
    return [*out, pl.lit(text)] if text else out


def _formula(spec: Cell, index: int, letter: str, first_row: int, rows: int, block: range) -> Piece:
    """A formula column is one shared formula (ECMA-376 18.3.1.40): written out once, in the first row of
    ``block`` (the sheet rows it spans), which the other rows refer to by its index: a few bytes a row."""
    if len(block) == 1:
        return f"<f>{spec.formula_at(block.start)}</f>"
    dependent = f'<f t="shared" si="{index}"/>'
    master = block.start - first_row  # the frame's row that holds it, if any
    if not 0 <= master < rows:
        return dependent
    written = f'<f t="shared" ref="{letter}{block.start}:{letter}{block.stop - 1}" si="{index}">{spec.formula_at(block.start)}</f>'
    return pl.when(pl.int_range(pl.len()) == master).then(pl.lit(written)).otherwise(pl.lit(dependent))


def rows_xml(frame: pl.DataFrame, cells: list[Cell], first_row: int, height: pl.Expr | None = None,
             block: range | None = None, date1904: bool = False) -> pl.Series:
    """One ``<row>`` element per frame row, numbered from ``first_row`` (1-based, as in Excel); ``height``
    (points, over the frame's columns) sets the height of the rows where it is not null (the others
    have the sheet's default height). ``block``: the sheet rows the formula columns span, when the
    frame is one chunk of them (default: the frame's own rows). ``date1904``: dates as serials of the
    1904 date system, for a workbook that uses it."""
    block = block or range(first_row, first_row + frame.height)
    # Codes are cell text like any other. The row number goes into every cell reference: made once.
    frame = frame.with_columns(pl.col(pl.Categorical).cast(pl.String),
                               pl.int_range(first_row, first_row + pl.len()).cast(pl.String).alias(_ROW))
    row = pl.col(_ROW)
    tall: Piece = "" if height is None else pl.concat_str(
        [pl.lit(' ht="'), height.cast(pl.String), pl.lit('" customHeight="1"')]).fill_null("")
    schema = frame.schema
    text = [c.column for c in cells if c.formula is None and schema[c.column] == pl.String]
    # One look at the columns first: escaping costs four passes over a column, so only for the columns
    # that have something to escape; a column without blanks needs no null handling.
    columns = list(dict.fromkeys(c.column for c in cells))
    looks = frame.select(e.alias(str(i)) for i, e in enumerate([
        *(pl.col(c).str.contains(_NEEDS_ESCAPE).any() for c in text),
        *((pl.col(c).is_null() | pl.col(c).is_nan()).any() if schema[c].is_float() else pl.col(c).has_nulls() for c in columns),
    ])).row(0) if columns else ()
    escape, nullable = dict(zip(text, looks[:len(text)], strict=True)), dict(zip(columns, looks[len(text):], strict=True))
    formulas = [i for i, c in enumerate(cells) if c.formula is not None]  # a shared formula's index: its place here
    pieces: list[Piece] = ['<row r="', row, '"', tall, ">"]
    for i, c in enumerate(cells):
        letter = xl_col_to_name(i)
        formula = _formula(c, formulas.index(i), letter, first_row, frame.height, block) if i in formulas else ""
        pieces += _cell(c, schema[c.column], letter, row, escape.get(c.column, True), nullable[c.column], formula,
                        EXCEL_1904_OFFSET if date1904 else EXCEL_EPOCH_OFFSET)
    return frame.select(pl.concat_str(_exprs([*pieces, "</row>"])).alias("xml")).to_series()


def joined(text: pl.Series) -> memoryview:
    """The strings of ``text`` (nulls as nothing) back to back, as UTF-8. In Arrow's string layout they
    already lie so in one buffer: that buffer is the answer, with no join and no copy into Python."""
    array = text.cast(pl.String).to_arrow()
    _, offsets, data = array.buffers()
    if data is None:
        return memoryview(b"")
    offsets = memoryview(offsets).cast("q")  # large_string: 64-bit offsets
    return memoryview(data)[offsets[array.offset]:offsets[array.offset + len(array)]]


@dataclass(frozen=True)
class Fill:
    """Rows to stream into a sheet from ``first_row`` on (1-based; the rows above are kept as written)."""

    frame: pl.DataFrame
    cells: list[Cell]
    height: pl.Expr | None = None
    first_row: int = 2
    date1904: bool = False  # the workbook's date system (workbookPr date1904)

    def chunk(self, start: int) -> memoryview:
        """The XML of rows ``start`` on, up to ``CHUNK_ROWS`` of them."""
        part = self.frame.slice(start, CHUNK_ROWS)
        return joined(rows_xml(part, self.cells, self.first_row + start, self.height,
                               range(self.first_row, self.first_row + self.frame.height), self.date1904))

    def chunks(self, pool: Executor) -> Iterator[memoryview]:
        """The rows' XML chunk by chunk, built on ``pool`` from now on, up to ``AHEAD`` chunks ahead of
        the reader (memory stays bounded however long the sheet)."""
        starts = iter(range(0, self.frame.height, CHUNK_ROWS))
        pending = deque(pool.submit(self.chunk, start) for start in islice(starts, AHEAD))

        def built() -> Iterator[memoryview]:
            while pending:
                done = pending.popleft().result()
                following = next(starts, None)
                if following is not None:
                    pending.append(pool.submit(self.chunk, following))
                yield done

        return built()


def escaped_attribute(text: pl.Expr) -> pl.Expr:
    return escaped(text).str.replace_all('"', "&quot;", literal=True)


Pieces = tuple[bytes | memoryview, ...]  # a part's contents in pieces, written one after the other
Part = str | bytes | Pieces


def write_with_rows(package: Package, fills: dict[str, Fill], target: str | BinaryIO, replaced: dict[str, Part] | None = None) -> None:
    """Write ``package`` to ``target`` as a zip file: each sheet part in ``fills`` keeps its rows above
    the fill's first row, as written, then gets the fill's rows; the parts in ``replaced`` get their new
    contents (for a filled sheet: what follows its rows).

    Every fill starts building at once, each on its own thread, while the zip file is written on this
    one (zlib leaves the other core free while it compresses). The largest fill is written last, so its
    first chunks are built while the other parts are compressed."""
    replaced = replaced or {}
    largest = max(fills, key=lambda name: fills[name].frame.height, default=None)
    order = [name for name in package.parts if name != largest] + ([largest] if largest else [])
    with ExitStack() as stack:
        chunks = {name: fill.chunks(stack.enter_context(ThreadPoolExecutor(max_workers=1))) for name, fill in fills.items()}
        archive = stack.enter_context(zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL))
        for name in order:
            if name not in fills:
                with package.opened(name) as stream:
                    if stream is not None and name not in replaced:  # a large part left in its file: copied as a stream
                        _copy_part(archive, name, stream, package.entries[name])
                        continue
                _write_part(archive, name, replaced.get(name, package.parts[name]), package.entries.get(name))
                continue
            fill = fills[name]
            text = package.text(name)
            start, end = text.find("<sheetData>"), text.find("</sheetData>")
            if start < 0 or end < 0:
                raise ValueError(f"{name}: no sheet data to fill")
            above = "".join(m.group(0) for m in re.finditer(r'<row r="(\d+)"[ >].*?</row>', text[start:end], re.S)
                            if int(m.group(1)) < fill.first_row)
            head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{_last_cell(text[:start], fill)}"/>', text[:start], count=1)
            with archive.open(name, "w", force_zip64=True) as out:
                out.write(f"{head}<sheetData>{above}".encode())
                for chunk in chunks[name]:
                    out.write(chunk)
                after = _pieces(replaced.get(name, text))  # the sheet's contents: what follows its rows is written
                first = next(i for i, piece in enumerate(after) if isinstance(piece, bytes) and b"</sheetData>" in piece)
                out.write(memoryview(after[first])[after[first].find(b"</sheetData>"):])
                for piece in after[first + 1:]:
                    out.write(piece)


def _pieces(part: Part) -> Pieces:
    if isinstance(part, str):
        return (part.encode(),)
    return (part,) if isinstance(part, bytes) else part


def _copy_part(archive: zipfile.ZipFile, name: str, stream: BinaryIO, entry: zipfile.ZipInfo) -> None:
    """A part read from another zip file as a stream, written as its ``entry`` was: never whole in memory."""
    target = zipfile.ZipInfo(name, date_time=entry.date_time)
    target.compress_type, target.external_attr = entry.compress_type, entry.external_attr
    # The deflate level of an entry opened for writing: zipfile reads it from the entry (a name given
    # instead would take the archive's level, but a new date); without it, zlib's slower default.
    target._compresslevel = ZIP_LEVEL
    with archive.open(target, "w", force_zip64=entry.file_size > zipfile.ZIP64_LIMIT) as out:
        while block := stream.read(1 << 20):
            out.write(block)


def _write_part(archive: zipfile.ZipFile, name: str, part: Part, entry: zipfile.ZipInfo | None = None) -> None:
    """A part as one zip entry: dated and stored or deflated as its ``entry`` was, when the package had it."""
    target: str | zipfile.ZipInfo = name
    if entry is not None:
        target = zipfile.ZipInfo(name, date_time=entry.date_time)
        target.compress_type, target.external_attr = entry.compress_type, entry.external_attr
    if not isinstance(part, tuple):
        archive.writestr(target, part, compresslevel=ZIP_LEVEL)
        return
    if isinstance(target, str):
        target = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        target.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(target, "w", force_zip64=sum(memoryview(piece).nbytes for piece in part) > zipfile.ZIP64_LIMIT) as out:
        for piece in part:
            out.write(piece)


def _last_cell(head: str, fill: Fill) -> str:
    """The sheet's new bottom-right cell: the fill's last row, and the wider of the sheet's and the fill's columns."""
    found = re.search(r'<dimension ref="[A-Z]+\d+:([A-Z]+)\d+"/>', head)
    width = max(len(fill.cells), _column_number(found.group(1)) if found else 0)
    return f"{xl_col_to_name(width - 1)}{fill.first_row + fill.frame.height - 1}"


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number

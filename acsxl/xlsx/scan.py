"""Where a worksheet's table starts: the first row with a value in it, read from the sheet's XML in
blocks, so only the start of a large sheet is read.

The XML goes through expat, a streaming parser in C: the work is linear in the bytes read whatever the
file holds (a regular expression looking for tags rescanned a long attribute for every tag start in
it: minutes for a few kilobytes, issue #23 point 7). Prefixes are kept as written (``x:row``), a
document type declaration (never in a worksheet) ends the scan, and nothing outside the part is read."""

from __future__ import annotations

import re
from typing import IO
from xml.parsers import expat

_SCAN_BLOCK = 1 << 16
# Bytes without one element start or end: no worksheet has a tag this long; a file that does is not
# scanned further (expat before 2.6 re-parses a pending token on every block: quadratic past this).
_LONGEST_TAG = 1 << 20
_ROW_NUMBER = re.compile(r"[A-Z]*(\d+)$")
_COLUMN = re.compile(r"\s*([A-Z]+)\d")


class _Found(Exception):  # the scan's early end, not an error
    def __init__(self, row: int, column: str | None) -> None:
        self.row, self.column = row, column


class _NotScanned(Exception):
    pass


def _number(ref: str | None) -> int | None:
    found = _ROW_NUMBER.match(ref.strip()) if ref else None
    return int(found.group(1)) if found else None


def first_value_row(xml: IO[bytes]) -> int | None:
    """The row of the first cell with a value in a worksheet's XML (``first_value_cell``)."""
    found = first_value_cell(xml)
    return None if found is None else found[0]


def first_value_cell(xml: IO[bytes]) -> tuple[int, str | None] | None:
    """The row and column letters of the first cell with a value in a worksheet's XML, read in blocks
    until it is found; None when there is none, or the XML cannot be read. A cell's row is its
    reference's, else its row's, else the row after the one before (ECMA-376 18.3.1.73: both are
    optional); its column is its reference's (None without one). A value is a ``<v>`` with text in
    it, or an inline string (``<is>``)."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    row, cell, column, in_value, quiet = 0, 0, None, False, 0

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal row, cell, column, in_value, quiet
        quiet = 0
        tag = name.rpartition(":")[2]
        if tag == "row":
            row = _number(attributes.get("r")) or row + 1
        elif tag == "c":
            ref = attributes.get("r")
            cell = _number(ref) or row
            letters = _COLUMN.match(ref) if ref else None
            column = letters.group(1) if letters else None
        elif tag == "is":
            raise _Found(cell, column)
        elif tag == "v":
            in_value = True

    def end(name: str) -> None:
        nonlocal in_value, quiet
        quiet = 0
        if name.rpartition(":")[2] == "v":
            in_value = False

    def text(data: str) -> None:
        if in_value and data:
            raise _Found(cell, column)

    def doctype(*_: object) -> None:
        raise _NotScanned

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    parser.StartDoctypeDeclHandler = doctype
    try:
        while True:
            block = xml.read(_SCAN_BLOCK)
            parser.Parse(block, not block)
            if not block:
                return None
            quiet += len(block)
            if quiet > _LONGEST_TAG:
                return None
    except _Found as found:
        return found.row, found.column
    except (_NotScanned, expat.ExpatError):
        return None

"""Where a worksheet's table starts: the first row with a value in it, read from the sheet's XML in
blocks, so only the start of a large sheet is read."""

from __future__ import annotations

import re
from typing import IO

_CELL = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*?)(/?)>")
_VALUE = re.compile(rb"<(?:\w+:)?(?:v>[^<]|is>)|</(?:\w+:)?c>")
_ROW_NUMBER = re.compile(rb"""\br\s*=\s*["'][A-Z]*(\d+)["']""")  # either quote style (XML 1.0 §3.1)
_SCAN_BLOCK = 1 << 16


def first_value_row(xml: IO[bytes]) -> int | None:
    """The row of the first cell with a value in a worksheet's XML, read in blocks until it is found.
    A cell's row is its reference's, else its row's, else the row after the one before (ECMA-376
    18.3.1.73: both are optional)."""
    text, done, row = b"", 0, 0
    while True:
        block = xml.read(_SCAN_BLOCK)
        text += block
        while True:
            tag = _CELL.search(text, done)
            if tag is None:
                break
            if tag.group(1) == b"row":
                number = _ROW_NUMBER.search(tag.group(2))
                row = int(number.group(1)) if number else row + 1
                done = tag.end()
                continue
            if tag.group(3) == b"/":  # a blank cell (styled, or empty)
                done = tag.end()
                continue
            found = _VALUE.search(text, tag.end())
            if found is None and block:
                break  # the cell goes on in the next block
            if found is not None and not found.group(0).startswith(b"</"):
                number = _ROW_NUMBER.search(tag.group(2))
                return int(number.group(1)) if number else row
            done = found.end() if found is not None else len(text)
        if not block:
            return None
        text, done = text[done:], 0

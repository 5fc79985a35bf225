"""A client's own macro workbook, built fresh for each test: a Cases sheet with data validation, a Notes
sheet with formulas, a macro button, an image, a chart and defined names, with the VBA project taken
from the quickstart workbook that ships inside xlwings (no binary is committed)."""

from __future__ import annotations

import struct
import zipfile
import zlib
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from acsxl.portfolio.sample import sample_cases


def _png(width: int = 16, height: int = 16) -> bytes:
    """A small red square as a PNG file."""
    raw = b"".join(b"\x00" + b"\xcc\x22\x22" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def vba_project(tmp: Path) -> Path:
    xlwings = pytest.importorskip("xlwings")
    template = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    target = tmp / "vbaProject.bin"
    with zipfile.ZipFile(template) as archive:
        target.write_bytes(archive.read("xl/vbaProject.bin"))
    return target


def make_client_workbook(path: Path, rows: int = 30, own_summary: bool = False) -> Path:
    """Write the client's workbook to ``path`` (.xlsm) and return it."""
    cases = sample_cases(rows, seed=11, anchor=date(2026, 11, 21))
    image = path.parent / "logo.png"
    image.write_bytes(_png())
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_vba_project(str(vba_project(path.parent)))
    sheet = workbook.add_worksheet("Cases")
    notes = workbook.add_worksheet("Notes")
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7"})
    day = workbook.add_format({"num_format": "mm/dd/yyyy"})
    for c, name in enumerate(cases.columns):
        sheet.write(0, c, name, bold)
    for r, row in enumerate(cases.iter_rows(), start=1):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, day)
            elif value is not None:
                sheet.write(r, c, value)
    last = cases.height
    form = cases.columns.index(next(c for c in cases.columns if "form" in c.lower()))
    sheet.data_validation(1, form, last + 50, form, {"validate": "list", "source": ["1040", "941", "940", "1120", "CIVPEN"],
                                                     "error_type": "warning"})
    sheet.insert_image(1, len(cases.columns) + 1, str(image))
    sheet.insert_button(6, len(cases.columns) + 1, {"macro": "SampleCall", "caption": "Run our macro", "width": 140})
    balance = cases.columns.index(next(c for c in cases.columns if "balance" in c.lower()))
    notes.write(0, 0, "Total balance")
    notes.write_formula(0, 1, f"=SUM(Cases!{xl_col_to_name(balance)}2:{xl_col_to_name(balance)}{last + 1})")
    notes.write(1, 0, "Rows")
    notes.write_formula(1, 1, f"=COUNTA(Cases!A2:A{last + 1})")
    notes.write(2, 0, "Fee rate")
    notes.write_number(2, 1, 0.15)
    workbook.define_name("FeeRate", "=Notes!$B$3")
    workbook.define_name("Notes!LocalTotal", "=Notes!$B$1")
    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"name": "Balance", "values": ["Cases", 1, balance, min(last, 10), balance]})
    notes.insert_chart(4, 0, chart)
    if own_summary:
        workbook.add_worksheet("Summary").write(0, 0, "The firm's own summary, not acsxl's")
    workbook.close()
    return path


def without_our_sheets(book_xml: str) -> str:
    """A client's workbook part with the entries a refresh adds taken out: our sheets and the print areas
    and titles of our sheets (what the part was before the first refresh, byte for byte, but for an
    empty ``<definedNames/>``, which holds ours once there are: compare through ``empty_names_dropped``)."""
    import re

    from acsxl.portfolio.sheets import NAMES

    tags = re.findall(r"<(?:\w+:)?sheet\b[^>]*/>", book_xml)
    ours = {str(i) for i, tag in enumerate(tags) if re.search(r'\bname="([^"]*)"', tag).group(1) in NAMES}
    book_xml = re.sub(r'<definedName name="_xlnm\.Print_(?:Area|Titles)" localSheetId="(\d+)">[^<]*</definedName>',
                      lambda m: "" if m.group(1) in ours else m.group(0), book_xml)
    book_xml = empty_names_dropped(book_xml)
    names = "|".join(map(re.escape, NAMES))
    return re.sub(rf'<(\w+:)?sheet name="({names})" sheetId="\d+" [\w:]+="rIdAcsxl\w+"/>', "", book_xml)


def empty_names_dropped(book_xml: str) -> str:
    return book_xml.replace("<definedNames></definedNames>", "").replace("<definedNames/>", "")

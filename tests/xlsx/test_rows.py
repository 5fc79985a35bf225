"""The streamed worksheet rows: exact XML for each kind of value, escaping, blanks, formulas with cached
values, and a workbook whose rows come from several chunks reading back cell for cell."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import polars as pl

from acsxl.xlsx import rows as sheetdata
from acsxl.xlsx.package import Package
from acsxl.xlsx.rows import Cell, Fill, joined, rows_xml, write_with_rows


def test_each_kind_of_value_is_written_as_excel_expects() -> None:
    frame = pl.DataFrame({"n": [7, None], "x": [1234.5, float("nan")], "t": ["a & <b>", None], "d": [date(2026, 11, 23), None],
                          "b": [True, None], "days": [12, None]})
    cells = [Cell("n", 2), Cell("x", 4), Cell("t", 3), Cell("d", 6), Cell("b"), Cell("days", 7, 'IF(D{row}="","",D{row}-TODAY())')]
    first, second = rows_xml(frame, cells, 2, pl.when(pl.col("n") == 7).then(45)).to_list()
    assert first == ('<row r="2" ht="45" customHeight="1"><c r="A2" s="2"><v>7</v></c><c r="B2" s="4"><v>1234.5</v></c>'
                     '<c r="C2" s="3" t="inlineStr"><is><t xml:space="preserve">a &amp; &lt;b&gt;</t></is></c>'
                     '<c r="D2" s="6"><v>46349</v></c><c r="E2" s="0" t="b"><v>1</v></c>'
                     '<c r="F2" s="7"><f t="shared" ref="F2:F3" si="0">IF(D2="","",D2-TODAY())</f><v>12</v></c></row>')
    # Blanks keep their column's format; NaN is a blank; a blank formula result is the empty string; the
    # formula is the first row's, shared.
    assert second == ('<row r="3"><c r="A3" s="2"/><c r="B3" s="4"/><c r="C3" s="3"/><c r="D3" s="6"/><c r="E3" s="0"/>'
                      '<c r="F3" s="7" t="str"><f t="shared" si="0"/><v></v></c></row>')


def test_control_characters_are_dropped_so_the_xml_stays_valid() -> None:
    frame = pl.DataFrame({"t": ["bell\x07 tab\t ok"]})
    assert "<t xml:space=\"preserve\">bell tab\t ok</t>" in rows_xml(frame, [Cell("t")], 2).item()


def test_rows_streamed_in_chunks_read_back_cell_for_cell(monkeypatch) -> None:
    monkeypatch.setattr(sheetdata, "CHUNK_ROWS", 7)  # 50 rows: eight chunks
    frame = pl.DataFrame({"id": list(range(50)), "name": [f"client {i} & co" if i % 5 else None for i in range(50)],
                          "due": [date(2026, 1, 1 + i % 28) for i in range(50)]})
    template = io.BytesIO()
    frame.head(1).write_excel(template, worksheet="Rows", dtype_formats={pl.Date: "yyyy-mm-dd"}, autofit=False)
    package = Package.read(template.getvalue())
    part = package.sheet_parts()["Rows"]
    out = io.BytesIO()
    write_with_rows(package, {part: Fill(frame, [Cell("id"), Cell("name"), Cell("due")])}, out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Rows"]
    assert sheet.max_row == 51 and sheet.dimensions == "A1:C51"
    assert [c.value for c in sheet[1]] == ["id", "name", "due"]
    for i, row in enumerate(sheet.iter_rows(min_row=2, values_only=True)):
        assert row[0] == i and row[1] == (f"client {i} & co" if i % 5 else None)
        assert row[2] == (date(2026, 1, 1 + i % 28) - date(1899, 12, 30)).days  # style 0: the bare serial number


def test_joined_is_the_strings_back_to_back_nulls_as_nothing() -> None:
    text = pl.Series(["<a/>", None, "é<b/>", "", "<c/>"])
    assert bytes(joined(text)) == "<a/>é<b/><c/>".encode()
    assert bytes(joined(text.slice(2, 2))) == "é<b/>".encode()  # a slice starts inside the buffer
    assert bytes(joined(pl.Series([], dtype=pl.String))) == b""
    assert bytes(joined(pl.Series([None, None], dtype=pl.String))) == b""


def test_a_cell_is_the_same_whether_or_not_its_column_has_blanks() -> None:
    """Columns without blanks take the short path (no null fallback): the XML must not differ."""
    full = pl.DataFrame({"n": [7, 8], "x": [1.5, 2.0], "t": ["a & b", "c"], "d": [date(2026, 11, 23)] * 2, "b": [True, False]})
    cells = [Cell("n", 2), Cell("x", 4), Cell("t", 3), Cell("d", 6), Cell("b"), Cell("n", 7, "A{row}*2")]
    with_blanks = pl.concat([full.head(1), full.head(1).clear(1)])  # the same first row, then a row of blanks
    assert rows_xml(full, cells, 2).item(0) == rows_xml(with_blanks, cells, 2).item(0)
    assert rows_xml(with_blanks, cells, 2).item(1) == (
        '<row r="3"><c r="A3" s="2"/><c r="B3" s="4"/><c r="C3" s="3"/><c r="D3" s="6"/><c r="E3" s="0"/>'
        '<c r="F3" s="7" t="str"><f t="shared" si="0"/><v></v></c></row>')


def test_a_formula_column_is_one_shared_formula_over_all_its_chunks(monkeypatch) -> None:
    monkeypatch.setattr(sheetdata, "CHUNK_ROWS", 7)  # 20 rows: three chunks, the formula written out in the first
    frame = pl.DataFrame({"n": list(range(20)), "twice": [2 * i for i in range(20)]})
    template = io.BytesIO()
    frame.head(1).write_excel(template, worksheet="Rows", autofit=False)
    package = Package.read(template.getvalue())
    part = package.sheet_parts()["Rows"]
    out = io.BytesIO()
    write_with_rows(package, {part: Fill(frame, [Cell("n"), Cell("twice", formula="A{row}*2")])}, out)
    xml = Package.read(out.getvalue()).text(part)
    assert xml.count("<f") == 20 and xml.count('<f t="shared" ref="B2:B21" si="0">A2*2</f>') == 1
    formulas = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Rows"]
    values = openpyxl.load_workbook(io.BytesIO(out.getvalue()), data_only=True)["Rows"]
    for row in range(2, 22):  # each row's own formula, as a spreadsheet reads the shared one, and its cached value
        assert formulas[f"B{row}"].value == f"=A{row}*2" and values[f"B{row}"].value == 2 * (row - 2)


def test_a_formula_in_a_single_row_is_written_out() -> None:
    assert "<f>A2*2</f>" in rows_xml(pl.DataFrame({"n": [1]}), [Cell("n", formula="A{row}*2")], 2).item()

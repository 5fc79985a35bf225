"""The real workbooks in ``../shared/workbooks/`` (other programs' files from public test corpora; test
data only, never copied here) with a Cases sheet added at the package level, as its README asks: a new
worksheet part with the canonical headers and a few rows, registered in the workbook part, its
relationships and ``[Content_Types].xml``; every other entry keeps its bytes."""

from __future__ import annotations

import io
import re
from pathlib import Path

from acsxl.xlsx.package import Package, attributes, insert_before, rid_attribute

SHARED_WORKBOOKS = Path(__file__).resolve().parents[2] / "shared" / "workbooks"
CASES_PART = "xl/worksheets/sheetCasesAdded.xml"

HEADERS = ("Client", "Form", "Tax Year", "Balance", "Notice", "Notice Date", "Filed", "Response Due")
ROWS = (
    ("R1", "1040", 2021, 4200.5, "LT11", "2026-11-09", "Y", ""),
    ("R1", "1040", 2022, 18000, "CP504", "2026-10-19", "Y", ""),
    ("R2", "941", "2023Q4", 52000, "LT11", "2026-11-02", "Y", ""),
    ("R3", "1040", 2020, 800, "CP14", "2026-10-26", "Y", ""),
    ("R4", "1040", 2019, 12500, "CP3219A", "2026-09-14", "Y", "2026-12-13"),
)


def listed() -> list[tuple[str, str, str]]:
    """(file, what it exercises, expected outcome) from the folder's list.tsv."""
    lines = (SHARED_WORKBOOKS / "list.tsv").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")[:3]) for line in lines if line and not line.startswith("#")]


def _cell(ref: str, value: object) -> str:
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def cases_sheet_xml(namespace: str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main") -> str:
    rows = []
    for r, values in enumerate((HEADERS, *ROWS), start=1):
        cells = "".join(_cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(values) if v != "")
        rows.append(f'<row r="{r}">{cells}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{namespace}"><sheetData>{"".join(rows)}</sheetData></worksheet>')


def _strict_rid(xml: str) -> str | None:
    found = re.search(r'xmlns:(\w+)="http://purl.oclc.org/ooxml/officeDocument/relationships"', xml)
    return f"{found.group(1)}:id" if found else None


def with_cases_sheet(data: bytes) -> bytes | None:
    """The workbook's bytes with a Cases sheet added (entries in file order, unchanged ones byte-identical);
    None when its workbook part has no sheet list this simple harness can extend."""
    package = Package.read(data)
    book = package.main_part()
    xml = package.text(book)
    found = re.search(r"<(\w+:)?sheets>", xml)
    rid = rid_attribute(xml) or _strict_rid(xml)
    if found is None or rid is None:
        return None
    prefix = found.group(1) or ""
    namespace = re.search(rf'xmlns{":" + prefix[:-1] if prefix else ""}="([^"]+)"', xml).group(1)
    sheet_rels = [r for r in package.relationships(book) if r.kind == "worksheet"]
    if not sheet_rels:
        return None
    ids = [int(attributes(t).get("sheetId", 0)) for t in re.findall(rf"<{prefix}sheet\b[^>]*/>", xml)]
    tag = f'<{prefix}sheet name="Cases" sheetId="{max(ids, default=0) + 1}" {rid}="rIdCasesAdded"/>'
    package.put(book, insert_before(xml, f"</{prefix}sheets>", tag))
    folder = book.rsplit("/", 1)[0]
    part = f"{folder}/worksheets/sheetCasesAdded.xml"
    package.put(part, cases_sheet_xml(namespace))
    package.add_relationship(book, "rIdCasesAdded", sheet_rels[0].type, part)
    package.set_content_type(part, "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml")
    out = io.BytesIO()
    package.write(out)
    return out.getvalue()


def cases_csv(path: Path) -> Path:
    """The same cases as a CSV file: triaged to a portfolio of its own, the days our sheets must show."""
    lines = [",".join(HEADERS), *(",".join(str(v) for v in row) for row in ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

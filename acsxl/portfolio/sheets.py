"""The sheets acsxl writes into a portfolio workbook, declared once: their names, the mark in their
page header that tells a later run (or the in-place merge) they are acsxl's, the first cells the
Refresh portfolio button recognises them by, and the function in ``acsxl.portfolio.layout`` that lays
each one out. The writer, the in-place merge, the button and the workbook generator all read this.
Adding a sheet is its layout function plus one ``Sheet`` below."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acsxl.io.inputs import refreshable
from acsxl.xlsx.package import custom_properties

MARK = "acsxl"  # in every sheet's page header: survives Excel re-saving the file
OUTPUT_MARK = "acsxl as-of"  # a custom document property of every portfolio workbook acsxl writes (not of a client's refreshed one)


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str  # shown in the printed page header after the mark
    first_cells: tuple[str, ...]  # what cell A1 of this sheet begins with when acsxl wrote it
    layout: str  # the function in acsxl.portfolio.layout that writes it

    def page_header(self, as_of: str = "", version: str = "") -> str:
        """The printed page header; its mark also tells a later run the sheet is acsxl's."""
        header = f'&L&"-,Bold"{MARK} {self.title}'
        return header + (f"&C as of {as_of}&R parameters {version}" if as_of else "")


SHEETS: tuple[Sheet, ...] = (
    Sheet("Portfolio", "portfolio", ("Rank",), "portfolio_sheet"),
    Sheet("Summary", "summary", ("Portfolio as of ",), "summary_sheet"),
    Sheet("Issues", "issues", ("Workbook", "workbook", "No problems found."), "issues_sheet"),  # "workbook": before #24
    Sheet("Closed notes", "closed notes", ("Missing since", "No notes of closed cases"), "closed_sheet"),
)
NAMES = tuple(s.name for s in SHEETS)
BY_NAME = {s.name: s for s in SHEETS}
PLACEHOLDER = "Press Refresh portfolio on the Start sheet, or run: acsxl refresh "  # in an empty sheet of a new workbook


def our_portfolio(path: Path) -> str | None:
    """Why ``path`` is not a case list when it is a portfolio workbook acsxl wrote (yesterday's output
    saved in the client folder, say): it carries acsxl's document property. A client's workbook
    refreshed in place keeps its own properties and is read as usual. (Here, with nothing heavy
    imported: folder runs hand it to their worker processes.)"""
    if not refreshable(path):
        return None
    as_of = custom_properties(path).get(OUTPUT_MARK)
    return None if as_of is None else f"{path}: a portfolio acsxl wrote (as of {as_of}), not a case list; passed over"


def written_by_us(name: str, first_row: Sequence[Any]) -> bool:
    """Whether a sheet called ``name`` holds what acsxl wrote (by its first cells), or nothing."""
    if not any(c not in (None, "") for c in first_row):
        return True
    first = str(first_row[0] or "")
    return first.startswith(PLACEHOLDER) or any(first.startswith(start) for start in BY_NAME[name].first_cells)

"""The engine's options seen from outside: how dates read inside its texts."""

from __future__ import annotations

from datetime import date

import polars as pl

from acsxl.engine import triage


def test_dates_inside_the_sentences_read_as_the_caller_asks() -> None:
    """The next action's date in the style asked for (the workbook's mm/dd/yyyy); ISO by default; the
    date column stays a date."""
    cases = pl.DataFrame({"client_id": ["A"], "form": ["1040"], "tax_period": ["2022"], "balance": [14800.0], "last_notice": ["LT11"],
                          "notice_date": [date(2026, 2, 13)], "return_filed": ["Y"]})
    iso = triage(cases, date(2026, 3, 2))
    us = triage(cases, date(2026, 3, 2), dates="%m/%d/%Y")
    assert "by 2026-03-16" in iso["next_action"][0] and "by 03/16/2026" in us["next_action"][0]
    assert us["next_deadline"][0] == iso["next_deadline"][0] == date(2026, 3, 16)
    assert us.drop("next_action").equals(iso.drop("next_action"))

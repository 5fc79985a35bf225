"""Every code the rules can give back has a label for the workbook (catalogue.toml [labels]), and the
labels are told apart: two codes of one vocabulary never read the same."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from acsxl.cli import main
from acsxl.rules.catalogue import LABELS, NOTICES, STAGES, notice_label
from acsxl.rules.parameters import RULEBOOK

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "cases.xlsx"


def test_every_code_the_parameters_and_catalogue_name_has_a_label() -> None:
    p = RULEBOOK.at(date(2026, 11, 23)).priority
    assert set(STAGES) <= set(LABELS["stage"])
    assert set(p.deadline_weight) | {n["deadline_type"] for n in NOTICES.values() if n.get("deadline_type")} <= set(LABELS["deadline_type"])
    for vocabulary, weights in (("payroll_risk", p.payroll_weight), ("passport_risk", p.passport_weight), ("ro_risk", p.ro_weight),
                                ("csed_status", p.csed_weight)):
        assert set(weights) <= set(LABELS[vocabulary]), vocabulary
    for vocabulary, labels in LABELS.items():
        assert len(set(labels.values())) == len(labels), vocabulary


def test_every_code_the_sample_gives_back_has_a_label(tmp_path) -> None:
    assert main(["triage", str(SAMPLE), "--as-of", "2026-11-23", "--out", str(tmp_path / "p.parquet"), "-q"]) == 0
    result = pl.read_parquet(tmp_path / "p.parquet")
    for vocabulary in LABELS:
        found = set(result.get_column(vocabulary).cast(pl.String).drop_nulls())
        assert found and found <= set(LABELS[vocabulary]), (vocabulary, found - set(LABELS[vocabulary]))


@pytest.mark.parametrize(("code", "label"), [("L3172", "Letter 3172"), ("L725B", "Letter 725B"), ("LT11", "LT11"), ("CP504B", "CP504B")])
def test_letters_read_as_letters(code: str, label: str) -> None:
    assert notice_label(code) == label

"""The README says what the rules do, from the rulebook: the ranking section is generated from the
parameters (acsxl.rules.explain) and the deadline table is checked against the catalogue."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from acsxl.rules.catalogue import NOTICES, notice_rules
from acsxl.rules.explain import priority_markdown
from acsxl.rules.parameters import RULEBOOK

README = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
TODAY = date(2026, 12, 7)


def test_the_readme_ranking_section_is_the_one_the_parameters_give() -> None:
    start = README.index("### How the priority score works")
    section = README[start:README.index("\n## ", start) + 1].rstrip("\n") + "\n"
    assert section == priority_markdown(RULEBOOK.at(TODAY)), "regenerate the README section from acsxl.rules.explain.priority_markdown"


def _deadline_table() -> list[tuple[str, str, str]]:
    start = README.index("| deadline_type | notices | window | source |")
    rows = []
    for line in README[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        kind, notices, window, _ = (cell.strip() for cell in line.strip("|").split("|"))
        rows.append((kind, notices, window))
    return rows


def _code(name: str) -> str:
    return re.sub(r"^Letter ", "L", name).replace("-", "")


def test_every_notice_with_a_deadline_is_in_the_readme_table_with_its_window() -> None:
    rules = notice_rules(TODAY)
    table = _deadline_table()
    for code, notice in NOTICES.items():
        if "deadline_type" not in notice:
            continue
        rows = [(kind, window) for kind, notices, window in table
                if code in {_code(n.strip()) for n in re.split(r",|;|:|after a levy", notices) if n.strip()}]
        assert rows, f"{code} is not in the README's deadline table"
        kind, window = rows[0]
        assert kind == notice["deadline_type"], f"{code}: README says {kind}, catalogue {notice['deadline_type']}"
        if rules[code].window is not None:
            assert re.search(rf"\b{rules[code].window} (days|business days)", window), f"{code}: README window {window!r}, catalogue {rules[code].window}"

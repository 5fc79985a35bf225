"""Meta-tests of the rulebook: every parameter and notice is cited, dates are ordered without gaps,
every parameter is read by the code, the passport amounts are the reference's."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from acsxl.engine import triage
from acsxl.engine.scalar import triage_case
from acsxl.portfolio.sample import sample_cases
from acsxl.rules.catalogue import NOTICES, STAGES, WINDOW_KINDS, notice_rules
from acsxl.rules.parameters import RULEBOOK, load_raw, parse_rulebook

DEADLINE_TYPES = {"pay_by", "intent_to_levy", "cdp_request", "cp2000_response", "tax_court_petition", "tfrp_protest", "ia_default", "contact_irs"}


@pytest.mark.parametrize("name", sorted(RULEBOOK.parameters))
def test_every_parameter_is_described_and_cited(name: str) -> None:
    param = RULEBOOK[name]
    assert param.description and param.reference and param.unit, name
    assert all(entry.reference for entry in param.values), f"{name}: a dated value has no reference"


@pytest.mark.parametrize("name", sorted(RULEBOOK.parameters))
def test_effective_dates_are_ordered_without_gaps(name: str) -> None:
    raw_keys = list(_raw_values(name))
    assert raw_keys == sorted(raw_keys), f"{name}: dates out of order in parameters.toml"
    starts = [e.start for e in RULEBOOK[name].values]
    if RULEBOOK[name].period == "year":
        assert all(s.month == 1 and s.day == 1 for s in starts)
        assert [s.year for s in starts] == list(range(starts[0].year, starts[-1].year + 1)), f"{name}: a year is missing"


def _raw_values(name: str) -> dict:
    table = load_raw()
    for part in name.split("."):
        table = table[part]
    return table["values"]


def test_passport_thresholds_are_the_reference_amounts() -> None:
    expected = {2016: 50000, 2017: 50000, 2018: 51000, 2019: 52000, 2020: 53000, 2021: 54000, 2022: 55000,
                2023: 59000, 2024: 62000, 2025: 64000, 2026: 66000}
    param = RULEBOOK["passport.threshold"]
    assert {y: param.at(date(y, 7, 1)) for y in expected} == expected
    assert param.entry_at(date(2026, 1, 1)).unverified, "2026 is unverified in the reference (RR §5.3, §11)"
    assert not param.entry_at(date(2025, 12, 31)).unverified


def test_no_value_before_a_parameter_starts() -> None:
    with pytest.raises(LookupError, match=r"passport\.threshold"):
        RULEBOOK["passport.threshold"].at(date(2015, 12, 31))


@pytest.mark.parametrize("code", sorted(NOTICES))
def test_every_notice_is_cited_and_consistent(code: str) -> None:
    notice = NOTICES[code]
    assert notice.get("reference") and notice.get("title"), code
    assert notice["stage"] in STAGES
    assert notice["track"] in ("individual", "business", "any")
    for key in ("window", "large_balance_window"):
        if key in notice:
            assert notice[key] in RULEBOOK.parameters, f"{code}: {notice[key]} is not a parameter"
            assert RULEBOOK[notice[key]].unit in WINDOW_KINDS
    if "deadline_type" in notice:
        assert notice["deadline_type"] in DEADLINE_TYPES
    rule = notice_rules(date(2026, 3, 2))[code]
    assert (rule.window is None) == ("window" not in notice)


def test_every_parameter_is_used_by_the_engine_and_the_scalar_path() -> None:
    fresh = parse_rulebook(load_raw())
    import acsxl.rules.parameters as parameters

    real, parameters.RULEBOOK = parameters.RULEBOOK, fresh
    try:
        import acsxl.engine.pipeline as engine_module
        import acsxl.engine.scalar as scalar_module

        engine_module.RULEBOOK = scalar_module.RULEBOOK = fresh
        import acsxl.rules.catalogue as catalogue_module

        catalogue_module.RULEBOOK = fresh
        catalogue_module.notice_rules.cache_clear()
        engine_module._rule_exprs.cache_clear()  # rules are built once per day: build them from the fresh rulebook
        frame = sample_cases(300, seed=3, anchor=date(2026, 3, 1))
        triage(frame.rename({"Client #": "client_id"}), date(2026, 3, 2))
        triage_case({"client_id": "A", "form": "1040", "tax_period": "2023", "balance": 1, "last_notice": "LT11",
                     "notice_date": "2026-01-02"}, date(2026, 3, 2))
    finally:
        parameters.RULEBOOK = engine_module.RULEBOOK = scalar_module.RULEBOOK = catalogue_module.RULEBOOK = real
        catalogue_module.notice_rules.cache_clear()
        engine_module._rule_exprs.cache_clear()
    unused = set(fresh.parameters) - fresh.used
    assert not unused, f"parameters nobody reads: {sorted(unused)}"


def test_engine_output_has_the_rank_the_result_columns_the_problems_and_the_provenance_in_order() -> None:
    from acsxl.rules.triage import RESULT

    out = triage(pl.DataFrame({"client_id": ["A"], "form": ["1040"], "tax_period": ["2023"], "balance": [1.0], "extra": ["kept"]}),
                 date(2026, 3, 2))
    assert out.columns == ["rank", *RESULT, "problems", "source_file", "source_row", "extra"]
    assert out["extra"].to_list() == ["kept"]


def test_an_unverified_or_carried_forward_amount_has_a_caveat_and_the_lower_amount_the_sources_leave() -> None:
    """RR §5.3: 2025 verified; 2026 unverified ($65,000 or $66,000); 2027 none published: carried forward."""
    for year, caveat, low in ((2025, None, 64000), (2026, "2026 passport threshold $66,000 is unverified ($65,000 possible)", 65000),
                              (2027, "no 2027 passport threshold in acsxl: the 2026 amount $66,000 is carried forward", 65000)):
        law = RULEBOOK.at(date(year, 6, 1))
        found = law.caveat("passport.threshold")
        assert (found is None) if caveat is None else found.startswith(caveat), (year, found)
        assert law.low("passport.threshold") == low and law.passport.threshold == {2025: 64000}.get(year, 66000)
    assert RULEBOOK.carried_forward(date(2026, 12, 31)) == []
    assert [c.split(":")[0] for c in RULEBOOK.carried_forward(date(2027, 1, 1))] == ["no 2027 passport threshold in acsxl"]


def test_every_code_a_parameter_names_is_in_its_vocabulary() -> None:
    """The weights, the rights, the statuses named in the parameters are codes the rules make or read:
    a misspelt code would weigh nothing, silently."""
    from acsxl.rules.catalogue import COLLECTION_STATUSES

    law = RULEBOOK.at(date(2026, 12, 7))
    deadline_types = DEADLINE_TYPES | {"equivalent_hearing", "respond_by"}
    assert set(law.priority.deadline_weight) == deadline_types
    assert set(law.priority.right_deadlines) <= deadline_types
    assert set(law.priority.stage_weight) <= set(STAGES)
    assert set(law.priority.csed_weight) <= {"expired", "short", "running", "suspended"}
    for statuses in (law.levy.barring_statuses, law.csed.suspending_statuses, law.passport.exclusion_statuses):
        assert set(statuses) <= set(COLLECTION_STATUSES)
    assert set(law.priority.passport_weight) <= {"certified", "certifiable", "certifiable_if_lower", "excluded", "at_risk", "none"}

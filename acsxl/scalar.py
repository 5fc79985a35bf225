"""The scalar path: one case triaged in plain Python, for worksheet functions called thousands of
times per recalculation. It runs the same rule steps as the engine (``acsxl.rules.triage``) through
the Python backend of ``acsxl.rules.ops``, with the same single-value parsers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from acsxl.rules import values as v
from acsxl.rules.catalogue import NOTICE_FIELDS, notice_rules
from acsxl.rules.ops import ROW
from acsxl.rules.parameters import RULEBOOK
from acsxl.rules.schema import FIELDS, OUTPUT_COLUMNS
from acsxl.rules.triage import AGGREGATE_AFTER_STEP, AGGREGATES, QUARTERLY_FORMS, STEPS

PARSERS: dict[str, Callable[[Any], v.Parsed]] = {
    "text": lambda value: (v.text(value), None),
    "number": v.parse_number,
    "whole": v.parse_whole,
    "date": v.parse_date,
    "flag": v.parse_flag,
    "tcs": lambda value: (v.normalize_tcs(value), None),
    "form": v.parse_form,
    "notice": v.parse_notice,
    "status": v.parse_status,
    "source": v.parse_source,
    "taxpayer_type": v.parse_taxpayer_type,
}
NEGATIVE = v.NEGATIVE_BY_KIND


def parse_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """Typed canonical fields and ``parse_issues`` (None when none), as ``engine.parse.parse_cases``.
    A single case has no columns: an absent field is a blank value."""
    row: dict[str, Any] = {}
    problems: list[str] = []
    for field in FIELDS:
        raw = case.get(field.name)
        if field.kind == "period":
            quarterly = row.get("form") in QUARTERLY_FORMS
            value, problem = v.parse_period(v.text(raw), quarterly)
        else:
            value, problem = PARSERS[field.kind](raw)
        if value is not None and field.kind == "number":
            value = float(value)
        row[field.name] = value
        if field.required and value is None and problem is None:
            problems.append(f"{field.name}: {v.MISSING}")
        elif field.kind in NEGATIVE and value is not None and value < 0:
            shown = round(value, 2) if field.kind == "number" else value  # amounts to the cent
            problems.append(f"{field.name}: " + NEGATIVE[field.kind].format(v=ROW.fmt("{}", shown)))
        elif problem is not None:
            problems.append(f"{field.name}: {problem}")
    row["parse_issues"] = "; ".join(problems) or None
    return row


def _run_steps(r: dict[str, Any], p: Any, steps: tuple) -> None:
    for step in steps:
        for names, rule in step:
            out = rule(ROW, r, p)
            if isinstance(names, tuple):
                r.update(zip(names, out, strict=True))
            else:
                r[names] = out


def _prepared(case: Mapping[str, Any], as_of: date) -> tuple[dict[str, Any], Any]:
    """The case parsed, joined to its notice and run through the steps before the client aggregates."""
    p = RULEBOOK.at(as_of)
    r = parse_case(case)
    r["taxpayer_type_in"] = r["taxpayer_type"]
    r["source"] = case.get("source")
    notice = notice_rules(as_of).get(r["last_notice"])
    r.update({f"n_{f}": getattr(notice, f) if notice else None for f in NOTICE_FIELDS})
    _run_steps(r, p, STEPS[:AGGREGATE_AFTER_STEP])
    return r, p


AGGREGATORS: dict[str, Callable[[list[Any]], Any]] = {
    "sum": sum,
    "any": any,
    "n_unique": lambda values: len({v for v in values if v is not None}),
}


def client_aggregates(cases: list[Mapping[str, Any]], as_of: date) -> dict[str, Any]:
    """The client-level aggregates of one client's cases (what the engine computes per client)."""
    prepared = [_prepared(case, as_of) for case in cases]
    return {
        name: AGGREGATORS[how]([rule(ROW, r, p) for r, p in prepared])
        for name, (how, rule) in AGGREGATES.items()
    }


def triage_case(case: Mapping[str, Any], as_of: date, client: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Triage one case as of ``as_of``. ``client`` may give the client-level aggregates (names in
    ``acsxl.rules.triage.AGGREGATES``, e.g. ``client_total``, ``individual_total``,
    ``payroll_periods``; see ``client_aggregates``); those not given are taken from this case alone.
    Returns the output columns except ``rank`` (which only a whole list has)."""
    r, p = _prepared(case, as_of)
    client = client or {}
    for name, (how, rule) in AGGREGATES.items():
        r[name] = client[name] if name in client else AGGREGATORS[how]([rule(ROW, r, p)])
    _run_steps(r, p, STEPS[AGGREGATE_AFTER_STEP:])
    r["client_total"] = round(r["client_total"], 2)
    r["issues"] = ROW.join([r["parse_issues"], r["rule_issues"]], "; ")
    return {c: r.get(c) for c in OUTPUT_COLUMNS if c != "rank"}

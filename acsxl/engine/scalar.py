"""The scalar path: one case triaged in plain Python, for worksheet functions called thousands of
times per recalculation. ``RowOps`` is the rule vocabulary (``acsxl.rules.ops``) over plain Python
values (None is missing); the same rule steps as the engine run through it, with the same
single-value parsers (``acsxl.rules.values``)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from functools import cache
from typing import Any

from acsxl.rules import calendar
from acsxl.rules import values as v
from acsxl.rules.catalogue import NOTICE_FIELDS, notice_rules
from acsxl.rules.ops import with_kind
from acsxl.rules.parameters import RULEBOOK
from acsxl.rules.schema import FACTS, FIELDS
from acsxl.rules.triage import AGGREGATES, QUARTERLY_FORMS, RESULT, STEPS_AFTER_AGGREGATES, STEPS_BEFORE_AGGREGATES


class RowOps:
    """The same operations over plain Python values (None is missing)."""

    name = "row"

    @staticmethod
    def lit(value: Any) -> Any:
        return value

    def when(self, *cases: tuple[Any, Any], otherwise: Any = None, fill: Mapping[str, Any] | None = None) -> Any:
        return self.choose(*cases, otherwise=(otherwise,), fill=fill)[0]

    def choose(self, *cases: tuple[Any, ...], otherwise: tuple[Any, ...], fill: Mapping[str, Any] | None = None) -> tuple[Any, ...]:
        chosen = next((case[1:] for case in cases if case[0]), otherwise)
        if not fill:
            return chosen
        return tuple(self._fill(value, fill) if isinstance(value, str) else value for value in chosen)

    def eq(self, value: Any, other: Any) -> bool:
        return value is not None and value == other

    def first(self, cases: Iterable[tuple[Callable[[], Any], Any]], otherwise: Any) -> Any:
        return next((value for condition, value in cases if condition()), otherwise)

    def pick(self, value: Any, templates: Mapping[Any, str], otherwise: str, fill: Mapping[str, Any]) -> Any:
        return self._fill(templates.get(value, otherwise) if value is not None else otherwise, fill)

    def isin(self, value: Any, options: Sequence[Any]) -> bool:
        return value is not None and value in options

    def is_true(self, value: Any) -> bool:
        return bool(value)

    def not_(self, condition: Any) -> bool:
        return not condition

    def all(self, *conditions: Any) -> bool:
        return all(conditions)

    def any(self, *conditions: Any) -> bool:
        return any(conditions)

    def is_null(self, value: Any) -> bool:
        return value is None

    def coalesce(self, *values: Any) -> Any:
        return next((v for v in values if v is not None), None)

    def lookup(self, value: Any, mapping: Mapping[Any, Any], default: Any = None) -> Any:
        return mapping.get(value, default)

    def fmt(self, template: str, *args: Any) -> str | None:
        if any(a is None for a in args):
            return None
        return template.format(*(_text(a) for a in args))

    def _fill(self, template: str | None, values: Mapping[str, Any]) -> str | None:
        if template is None:
            return None
        for name, value in values.items():
            template = template.replace("{" + name + "}", "" if value is None else _text(value))
        return template

    def key(self, first: Any, second: Any) -> tuple[Any, Any]:
        return first, second

    def problems(self, *found: tuple[Any, ...], fill: Mapping[str, Any] | None = None) -> list[dict[str, Any]] | None:
        out = [{"field": field, "message": self._fill(message, fill or {}), "value": None if value is None else _text(value), "kind": kind}
               for field, condition, message, value, kind in (with_kind(f) for f in found) if condition]
        return out or None

    def matches(self, value: Any, pattern: str) -> bool:
        return value is not None and _regex(pattern).search(value) is not None

    def add_days(self, day: date | None, days: Any) -> date | None:
        return None if day is None or days is None else day + timedelta(days=days)

    def add_years(self, day: date | None, years: int) -> date | None:
        return None if day is None else calendar.add_years(day, int(years))

    def roll_forward(self, day: date | None) -> date | None:
        return None if day is None else calendar.roll_forward(day)

    def add_business_days(self, day: date | None, n: int | None) -> date | None:
        return None if day is None or n is None else calendar.add_business_days(day, int(n))

    def days_between(self, later: date | None, earlier: date | None) -> int | None:
        return None if later is None or earlier is None else (later - earlier).days

    def log10(self, value: float) -> float:
        return math.log10(value)

    def clip(self, value: float, lower: float, upper: float) -> float:
        return min(max(value, lower), upper)

    def round(self, value: float) -> int:
        # Half away from zero, as VecOps.round asks polars for (Python's round() is half to even).
        return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def _text(value: Any) -> str:
    """How pl.format shows a value: dates ISO, integral floats with '.0'."""
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)



@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


ROW = RowOps()

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
    """Typed canonical fields and ``parse_problems`` (None when none), as ``engine.parse.parse_cases``.
    A single case has no columns: an absent field is a blank value."""
    row: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
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
            problems.append(_problem(field.name, v.MISSING, None))
        elif field.kind in NEGATIVE and value is not None and value < 0:
            shown = v.text(round(value, 2) if field.kind == "number" else value)  # amounts to the cent
            problems.append(_problem(field.name, NEGATIVE[field.kind].format(v=shown), shown))
        elif problem is not None:
            problems.append(_problem(field.name, problem, v.text(raw)))
    row["parse_problems"] = problems or None
    return row


def _problem(field: str, message: str, value: str | None) -> dict[str, Any]:
    return {"field": field, "message": message, "value": value, "kind": "value"}


def _flat(steps: tuple) -> tuple[tuple[Callable[..., Any], tuple[str, ...] | str], ...]:
    """The steps' rules in order, as (formula, the column or columns it makes)."""
    return tuple((rule.formula, rule.makes if len(rule.makes) > 1 else rule.makes[0]) for step in steps for rule in step)


BEFORE_AGGREGATES, AFTER_AGGREGATES = _flat(STEPS_BEFORE_AGGREGATES), _flat(STEPS_AFTER_AGGREGATES)


def _run_steps(r: dict[str, Any], law: Any, rules: tuple) -> None:
    for formula, makes in rules:
        out = formula(ROW, r, law)
        if isinstance(makes, tuple):
            r.update(zip(makes, out, strict=True))
        else:
            r[makes] = out


def _prepared(case: Mapping[str, Any], as_of: date) -> tuple[dict[str, Any], Any]:
    """The case parsed, joined to its notice and run through the steps before the client aggregates."""
    law = RULEBOOK.at(as_of)
    r = parse_case(case)
    r["taxpayer_type_in"] = r["taxpayer_type"]
    notice = notice_rules(as_of).get(r["last_notice"])
    r.update({f"n_{f}": getattr(notice, f) if notice else None for f in NOTICE_FIELDS})
    _run_steps(r, law, BEFORE_AGGREGATES)
    return r, law


AGGREGATORS: dict[str, Callable[[list[Any]], Any]] = {
    "sum": sum,
    "any": any,
    "n_unique": lambda values: len({v for v in values if v is not None}),
}


def client_aggregates(cases: list[Mapping[str, Any]], as_of: date) -> dict[str, Any]:
    """The client-level aggregates of one client's cases (what the engine computes per client): a case
    written twice (the same ``acsxl.rules.schema.FACTS`` once parsed) counts once."""
    prepared, seen = [], set()
    for case in cases:
        r, law = _prepared(case, as_of)
        facts = tuple(r[name] for name in FACTS)
        if facts not in seen:
            seen.add(facts)
            prepared.append((r, law))
    return {name: AGGREGATORS[a.how]([a.formula(ROW, r, law) for r, law in prepared]) for name, a in AGGREGATES.items()}


def triage_case(case: Mapping[str, Any], as_of: date, client: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Triage one case as of ``as_of``. ``client`` may give the client-level aggregates (names in
    ``acsxl.rules.triage.AGGREGATES``, e.g. ``client_total``, ``individual_total``,
    ``payroll_periods``; see ``client_aggregates``); those not given are taken from this case alone.
    Returns what the engine gives back for a case (``acsxl.rules.triage.RESULT``, ``problems`` as a
    list of dicts or None), except ``rank`` and where the case came from (only a whole list has those)."""
    r, law = _prepared(case, as_of)
    client = client or {}
    for name, a in AGGREGATES.items():
        r[name] = client[name] if name in client else AGGREGATORS[a.how]([a.formula(ROW, r, law)])
    _run_steps(r, law, AFTER_AGGREGATES)
    r["client_total"] = round(r["client_total"], 2)
    found = (r["parse_problems"] or []) + (r["rule_problems"] or [])
    return {**{c: r.get(c) for c in RESULT}, "problems": found or None}

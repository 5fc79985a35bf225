"""The vocabulary the rules are written in.

A rule is a function ``rule(ops, case, law)``: ``ops`` the operations below, ``case`` the row it reads
(``case["balance"]``), ``law`` the parameters in force on the as-of date (``law.windows.pay_by``,
``law.as_of``). Rules use nothing but these operations, so one rule serves two backends:
``acsxl.engine.columnar.VecOps`` runs it over whole columns (polars expressions) and
``acsxl.engine.scalar.RowOps`` over one case's plain Python values; tests/engine/test_paths_agree.py
holds the two equal on random cases.

Conventions that keep both backends equal: conditions are never null (``eq``/``isin`` treat a missing
value as False), and every date or text operation passes a missing value through as missing. Text
templates name their fields in braces (``"Pay by {date}"``), filled from ``fill``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

FIELD = re.compile(r"\{(\w+)\}")  # a template's field: "Pay by {date}"


class Ops(Protocol):
    """What a rule may do. ``Value`` is a column (engine) or a plain value (one case)."""

    def lit(self, value: Any) -> Any:
        """A constant."""

    def when(self, *cases: tuple[Any, Any], otherwise: Any = None, fill: Mapping[str, Any] | None = None) -> Any:
        """The value of the first case whose condition holds, else ``otherwise``; text templates filled from ``fill``."""

    def choose(self, *cases: tuple[Any, ...], otherwise: tuple[Any, ...], fill: Mapping[str, Any] | None = None) -> tuple[Any, ...]:
        """Several outputs decided by one list of cases (``(condition, out1, out2, ...)``)."""

    def eq(self, value: Any, other: Any) -> Any: ...
    def isin(self, value: Any, options: Sequence[Any]) -> Any: ...
    def is_true(self, value: Any) -> Any: ...
    def not_(self, condition: Any) -> Any: ...
    def all(self, *conditions: Any) -> Any: ...
    def any(self, *conditions: Any) -> Any: ...
    def is_null(self, value: Any) -> Any: ...
    def coalesce(self, *values: Any) -> Any: ...

    def lookup(self, value: Any, mapping: Mapping[Any, Any], default: Any = None) -> Any:
        """``mapping[value]``, ``default`` when absent or missing."""

    def first(self, cases: Iterable[tuple[Callable[[], Any], Any]], otherwise: Any) -> Any:
        """``when`` with each condition given as a function making it: one case's values stop at the first
        that holds; columns evaluate them all."""

    def pick(self, value: Any, templates: Mapping[Any, str], otherwise: str, fill: Mapping[str, Any]) -> Any:
        """The template ``templates[value]`` (``otherwise`` when absent or missing), filled from ``fill``."""

    def fmt(self, template: str, *args: Any) -> Any:
        """``template`` with its ``{}`` filled; missing when any argument is."""

    def key(self, first: Any, second: Any) -> Any:
        """A value equal exactly when both parts are (for counting distinct combinations)."""

    def problems(self, *found: tuple[Any, ...], fill: Mapping[str, Any] | None = None) -> Any:
        """The problems a rule finds: for each ``(field, condition, message, value[, kind])`` whose
        condition holds, ``{field, message, value, kind}`` (message a template filled from ``fill``; kind
        "rule" unless given, "unverified" for a parameter the row used that is not verified); missing
        when there are none."""

    def matches(self, value: Any, pattern: str) -> Any:
        """Whether the text contains the regular expression ``pattern`` (False when missing)."""

    def add_days(self, day: Any, days: Any) -> Any: ...
    def add_years(self, day: Any, years: int) -> Any: ...

    def roll_forward(self, day: Any) -> Any:
        """The day, or the next business day (IRC §7503: weekends and D.C. holidays)."""

    def add_business_days(self, day: Any, n: Any) -> Any: ...
    def days_between(self, later: Any, earlier: Any) -> Any: ...
    def log10(self, value: Any) -> Any: ...
    def clip(self, value: Any, lower: float, upper: float) -> Any: ...

    def round(self, value: Any) -> Any:
        """To the nearest whole number, halves away from zero."""


Rule = Callable[[Any, Any, Any], Any]  # rule(ops, case, law)


def with_kind(found: tuple[Any, ...]) -> tuple[Any, ...]:
    """A problem as ``(field, condition, message, value, kind)``: kind "rule" when not given."""
    return found if len(found) == 5 else (*found, "rule")

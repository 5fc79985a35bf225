"""Dated, cited parameters (after OpenFisca): ``RULEBOOK.at(as_of)`` gives the law in force that day,
read by attribute as the rules read it (``law.windows.pay_by``, ``law.passport.threshold``; the day
itself is ``law.as_of``), or by dotted name (``law["windows.pay_by"]``)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class DatedValue:
    start: date
    value: Any
    reference: str
    unverified: bool = False
    low: Any = None  # for an unverified value: the lowest one the sources leave open (the value itself when None)


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    unit: str
    reference: str
    values: tuple[DatedValue, ...]  # ordered by start
    period: str | None = None
    label: str = ""  # what a user calls it ("passport threshold"); the name when not given

    def entry_at(self, day: date) -> DatedValue:
        current = None
        for entry in self.values:
            if entry.start > day:
                break
            current = entry
        if current is None:
            raise LookupError(f"parameter {self.name} has no value in force on {day.isoformat()}")
        return current

    def at(self, day: date) -> Any:
        return self.entry_at(day).value

    def carried_forward(self, day: date) -> bool:
        """A yearly parameter asked for a year after its last published one."""
        return self.period == "year" and day.year > self.values[-1].start.year

    def caveat(self, day: date) -> str | None:
        """Why the value in force on ``day`` cannot be relied on, in words a user reads; None when it can."""
        entry = self.entry_at(day)
        shown = f"${entry.value:,}" if self.unit == "USD" else f"{entry.value} {self.unit}"
        if self.carried_forward(day):
            return f"no {day.year} {self.label} in acsxl: the {entry.start.year} amount {shown} is carried forward, unverified"
        if entry.unverified:
            when = f"{entry.start.year} " if self.period == "year" else ""
            also = "" if entry.low is None else " (" + (f"${entry.low:,}" if self.unit == "USD" else f"{entry.low}") + " possible)"
            return f"{when}{self.label} {shown} is unverified{also}"
        return None


class Branch:
    """The parameters under a dotted prefix: ``law.windows`` is a branch, ``law.windows.pay_by`` a value."""

    def __init__(self, values: Values, prefix: str) -> None:
        self._values, self._prefix = values, prefix

    def __getattr__(self, name: str) -> Any:
        found = self._values.node(f"{self._prefix}.{name}")
        setattr(self, name, found)  # read once (and recorded as used), then an ordinary attribute
        return found


class Values(Mapping[str, Any]):
    """The law in force on one day. Records which parameters were read, so the rulebook test can prove
    that every parameter is used."""

    def __init__(self, rulebook: Rulebook, day: date) -> None:
        self._rulebook = rulebook
        self.as_of = day
        self._values = {name: p.at(day) for name, p in rulebook.parameters.items() if p.values[0].start <= day}
        prefixes = {".".join(name.split(".")[:i]) for name in rulebook.parameters for i in range(1, name.count(".") + 1)}
        self._branches = {prefix: Branch(self, prefix) for prefix in prefixes}
        self._caveats: dict[str, str | None] = {}
        self._lows: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        self._rulebook.used.add(name)
        try:
            return self._values[name]
        except KeyError:
            if name in self._rulebook.parameters:
                raise LookupError(f"parameter {name} has no value in force on {self.as_of.isoformat()}") from None
            raise

    def node(self, name: str) -> Any:
        """The value of the parameter ``name``, or the branch of parameters under it."""
        if name in self._rulebook.parameters:
            return self[name]
        branch = self._branches.get(name)
        if branch is None:
            raise AttributeError(f"no parameter or branch named {name}")
        return branch

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        found = self.node(name)
        setattr(self, name, found)  # read once (and recorded as used), then an ordinary attribute
        return found

    def caveat(self, name: str) -> str | None:
        """Why the value of ``name`` in force today cannot be relied on (unverified, or a yearly amount carried
        forward past its last published year); None when it can. The rules show it on the rows that use it."""
        self._rulebook.used.add(name)
        if name not in self._caveats:
            self._caveats[name] = self._rulebook[name].caveat(self.as_of)
        return self._caveats[name]

    def low(self, name: str) -> Any:
        """The lowest value of ``name`` the sources leave open today (the value itself when they leave none)."""
        self._rulebook.used.add(name)
        if name not in self._lows:
            entry = self._rulebook[name].entry_at(self.as_of)
            self._lows[name] = entry.value if entry.low is None else entry.low
        return self._lows[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class Rulebook:
    def __init__(self, version: str, parameters: dict[str, Parameter]) -> None:
        self.version = version
        self.parameters = parameters
        self.used: set[str] = set()

    def at(self, day: date) -> Values:
        return _values_at(self, day)

    def __getitem__(self, name: str) -> Parameter:
        return self.parameters[name]

    def carried_forward(self, day: date) -> list[str]:
        """What a whole run on ``day`` must say: every yearly amount carried past its last published year."""
        return [p.caveat(day) or "" for p in self.parameters.values() if p.values[0].start <= day and p.carried_forward(day)]


@cache
def _values_at(rulebook: Rulebook, day: date) -> Values:
    return Values(rulebook, day)


def _walk(prefix: str, table: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (dotted name, table) for every table that has ``values``."""
    for key, sub in table.items():
        if not isinstance(sub, dict):
            continue
        name = f"{prefix}.{key}" if prefix else key
        if "values" in sub:
            yield name, sub
        else:
            yield from _walk(name, sub)


def parse_rulebook(raw: dict[str, Any]) -> Rulebook:
    params = {}
    for name, table in _walk("", raw):
        entries = tuple(
            DatedValue(
                start=date.fromisoformat(key),
                value=entry["value"],
                reference=entry.get("reference", ""),
                unverified=bool(entry.get("unverified", False)),
                low=entry.get("low"),
            )
            for key, entry in sorted(table["values"].items())
        )
        params[name] = Parameter(
            name=name,
            description=table.get("description", ""),
            unit=table.get("unit", ""),
            reference=table.get("reference", ""),
            values=entries,
            period=table.get("period"),
            label=table.get("label", name),
        )
    return Rulebook(str(raw.get("version", "")), params)


def load_raw() -> dict[str, Any]:
    return tomllib.loads(resources.files("acsxl.rules").joinpath("parameters.toml").read_text("utf-8"))


RULEBOOK = parse_rulebook(load_raw())

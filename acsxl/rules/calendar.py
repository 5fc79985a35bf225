"""Business days under IRC §7503: a last day on a Saturday, Sunday or D.C. legal holiday (observed
days included) moves to the next business day. Holidays from ``holidays.US(subdiv="DC")`` (RR §11)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays

YEARS = range(1990, 2101)


@cache
def dc_holidays() -> tuple[date, ...]:
    return tuple(sorted(holidays.US(subdiv="DC", years=YEARS).keys()))


@cache
def _holiday_set() -> frozenset[date]:
    return frozenset(dc_holidays())


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holiday_set()


def roll_forward(day: date) -> date:
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def add_business_days(day: date, n: int) -> date:
    """Roll a non-business start forward, then count n business days (polars' add_business_days)."""
    day = roll_forward(day)
    for _ in range(n):
        day = roll_forward(day + timedelta(days=1))
    return day


def add_years(day: date, n: int) -> date:
    """Same month and day n years later; 29 February becomes 28 February (as polars' offset_by)."""
    try:
        return day.replace(year=day.year + n)
    except ValueError:
        return day.replace(year=day.year + n, day=28)

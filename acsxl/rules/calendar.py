"""Business days under IRC §7503: a last day on a Saturday, Sunday or D.C. legal holiday (observed
days included) moves to the next business day. Holidays from ``holidays.US(subdiv="DC")`` (RR §11)."""

from __future__ import annotations

from datetime import date, timedelta

YEARS = range(1990, 2101)  # years with holidays; outside them only weekends are skipped

_known: dict[int, frozenset[date]] = {}  # year -> its holidays, worked out when first needed


def _year(year: int) -> frozenset[date]:
    known = _known.get(year)
    if known is None:
        known = _known[year] = _worked_out(year)
    return known


def _worked_out(year: int) -> frozenset[date]:
    """The D.C. holidays falling in ``year``, worked out with the years around it (an observed day can
    cross New Year). Year by year, as needed."""
    if year not in YEARS:
        return frozenset()
    import holidays  # here, not at the top: importing it loads every country's calendar (see prepare)

    return frozenset(d for d in holidays.US(subdiv="DC", years=range(year - 1, year + 2)) if d.year == year)


def prepare(year: int) -> None:
    """Load the holiday calendar ahead of use (the CLI has it done on a thread while workbooks are read)."""
    _year(year)


def dc_holidays(first: int = YEARS.start, last: int = YEARS.stop - 1) -> tuple[date, ...]:
    """The holidays of the years ``first`` to ``last``, in order."""
    return tuple(sorted(d for year in range(max(first, YEARS.start), min(last, YEARS.stop - 1) + 1) for d in _year(year)))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _year(day.year)


def roll_forward(day: date) -> date:
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def roll_backward(day: date) -> date:
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def add_business_days(day: date, n: int) -> date:
    """The n-th business day after ``day``: "10 business days from the date of notice and demand"
    (IRC §6651(a)(3)) count from the first business day after the date, and a date on a weekend or
    holiday adds no day (RR §0 convention 5: a notice dated Saturday 2026-11-14 gives Monday
    2026-11-30, not Tuesday 2026-12-01). As polars' add_business_days with roll="backward"; with
    n = 0, the day or the business day before it."""
    if n == 0:
        return roll_backward(day)
    for _ in range(n):
        day = roll_forward(day + timedelta(days=1))
    return day


def add_months(day: date, n: int) -> date:
    """Same day n months later; past the month's last day, its last day (31 January + 1 month: 28 February)."""
    years, month = divmod(day.month - 1 + n, 12)
    year, month = day.year + years, month + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def add_years(day: date, n: int) -> date:
    """Same month and day n years later; 29 February becomes 28 February (as polars' offset_by)."""
    try:
        return day.replace(year=day.year + n)
    except ValueError:
        return day.replace(year=day.year + n, day=28)

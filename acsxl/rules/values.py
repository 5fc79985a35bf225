"""Parsing of single input values, as Excel, CSV or a DataFrame hands them (str, float, int, bool,
date, datetime, None). Each parser returns ``(value, problem)``; ``problem`` is a message without the
column name, or None.

The scalar path calls these per cell. The engine calls them once per *distinct* raw value of a
column and joins the answers back, so both paths share one implementation."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Any

from acsxl.rules.catalogue import ASSESSMENT_SOURCES, COLLECTION_STATUSES, FORMS, NOTICES, UNKNOWN_NOTICE_HINTS

Parsed = tuple[Any, str | None]

# Message templates; "{v}" is the value found. The engine fills them with pl.format, so keep "{v}"
# the only field.
COLUMN_MISSING = "required column not found"
MISSING = "missing (required)"
NOT_NUMBER = '"{v}" is not a number'
NOT_WHOLE = '"{v}" is not a whole number of days'
NEGATIVE = "negative amount {v}"
NEGATIVE_DAYS = "negative number of days {v}"
NOT_DATE = '"{v}" is not a date (use YYYY-MM-DD or MM/DD/YYYY)'
NOT_SERIAL = '"{v}" is not a plausible Excel date serial'
DATE_OUT_OF_RANGE = '"{v}" is outside 1950-2099: check the cell (an empty date formula shows 1899-12-30)'
DECIMAL_COMMA = '"{v}" has a decimal comma, which acsxl does not guess at: write the amount with a decimal point (1234.50)'
NOT_FLAG = '"{v}" is not yes/no'
UNKNOWN_NOTICE = 'unknown notice code "{v}"'
UNKNOWN_FORM = 'unknown form "{v}"'
BAD_PERIOD = '"{v}" is not a tax period (use 2023, 2025Q2 or a period-end date)'
UNKNOWN_STATUS = 'unknown collection status "{v}"'
UNKNOWN_SOURCE = 'unknown assessment source "{v}"'
UNKNOWN_TYPE = 'taxpayer type "{v}" is not individual or business'

NEGATIVE_BY_KIND = {"number": NEGATIVE, "whole": NEGATIVE_DAYS}  # value kinds that must not be negative

EXCEL_EPOCH = date(1899, 12, 30)  # Excel's 1900 date system, serial 1 = 1900-01-01
DATE_MIN, DATE_MAX = date(1950, 1, 1), date(2099, 12, 31)  # plausible dates for tax work, however given
SERIAL_MIN, SERIAL_MAX = (DATE_MIN - EXCEL_EPOCH).days, (DATE_MAX - EXCEL_EPOCH).days

INTEGRAL_TEXT = r"^(-?\d+)\.0+$"  # "1040.0" written as text by a spreadsheet export means 1040

YES = frozenset({"Y", "YES", "TRUE", "T", "1", "1.0", "X"})
NO = frozenset({"N", "NO", "FALSE", "F", "0", "0.0"})

# Numbers written as text: "$1,234.50", "(1,234.50)" for a negative amount. Shared with the engine.
NUMBER_JUNK = r"[$,\s]"
# "1.234,50", "1 234,50", "12,5": a comma before the last one or two digits is a decimal comma (European
# style), which stripping commas would read as 1.2345 or 123450 (issue #23 point 6).
DECIMAL_COMMA_STYLE = r",\d{1,2}\)?$|\.\d{3}(\.\d{3})*,"
NUMBER_NEGATIVE_PARENS = r"^\((.*)\)$"


def text(value: Any) -> str | None:
    """A cell as trimmed text; None for blank. Integral floats lose their ".0" (1040.0 -> "1040")."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    s = re.sub(INTEGRAL_TEXT, r"\1", str(value).strip())
    return s or None


def _compact(s: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", s.upper())


def parse_number(value: Any) -> Parsed:
    if isinstance(value, bool):
        return None, NOT_NUMBER.format(v=value)
    if isinstance(value, int | float):
        return (None, None) if value != value else (float(value), None)
    s = text(value)
    if s is None:
        return None, None
    if re.search(DECIMAL_COMMA_STYLE, s):
        return None, DECIMAL_COMMA.format(v=s)
    cleaned = re.sub(NUMBER_JUNK, "", s)
    m = re.match(NUMBER_NEGATIVE_PARENS, cleaned)
    try:
        number = -float(m.group(1)) if m else float(cleaned)
    except ValueError:
        return None, NOT_NUMBER.format(v=s)
    return (number, None) if math.isfinite(number) else (None, NOT_NUMBER.format(v=s))


def parse_whole(value: Any) -> Parsed:
    number, problem = parse_number(value)
    if problem or number is None:
        return None, problem and NOT_WHOLE.format(v=text(value))
    if not number.is_integer():
        return None, NOT_WHOLE.format(v=text(value))
    return int(number), None


def serial_to_date(serial: float) -> Parsed:
    if not SERIAL_MIN <= serial <= SERIAL_MAX:
        return None, NOT_SERIAL.format(v=text(serial))
    return EXCEL_EPOCH + timedelta(days=int(serial)), None


DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y/%m/%d",
    "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%d-%b-%Y", "%d-%b-%y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y",
)  # US order only where day and month could be confused: 05/06/2024 is May 6


def in_range(day: date) -> Parsed:
    return (day, None) if DATE_MIN <= day <= DATE_MAX else (None, DATE_OUT_OF_RANGE.format(v=day.isoformat()))


def parse_date(value: Any) -> Parsed:
    if isinstance(value, datetime):
        return in_range(value.date())
    if isinstance(value, date):
        return in_range(value)
    if isinstance(value, bool):
        return None, NOT_DATE.format(v=text(value))
    if isinstance(value, int | float):
        return (None, None) if value != value else serial_to_date(float(value))
    s = text(value)
    if s is None:
        return None, None
    for fmt in DATE_FORMATS:
        try:
            return in_range(datetime.strptime(s, fmt).date())
        except ValueError:
            pass
    if re.fullmatch(r"\d+(\.0+)?", s):
        return serial_to_date(float(s))
    return None, NOT_DATE.format(v=s)


def parse_flag(value: Any) -> Parsed:
    if isinstance(value, bool):
        return value, None
    s = text(value)
    if s is None:
        return None, None
    key = s.upper()
    if key in YES:
        return True, None
    if key in NO:
        return False, None
    return None, NOT_FLAG.format(v=s)


def _aliases(table: dict[str, dict[str, Any]]) -> dict[str, str]:
    out = {}
    for code, entry in table.items():
        for alias in (code, *entry.get("aliases", ())):
            out[_compact(alias)] = code
    return out


FORM_ALIASES = _aliases(FORMS)
NOTICE_ALIASES = _aliases(NOTICES)
LETTER_PREFIX = re.compile(r"^(LETTER|LTR|LET|L)(?=\d)")


def parse_form(value: Any) -> Parsed:
    s = text(value)
    if s is None:
        return None, None
    code = FORM_ALIASES.get(_compact(s))
    return (code, None) if code else (None, UNKNOWN_FORM.format(v=s))


def parse_notice(value: Any) -> Parsed:
    """'LTR 1058', 'L-1058', 'Letter 1058' -> L1058; 'cp 504' -> CP504; a bare 504 -> CP504."""
    s = text(value)
    if s is None:
        return None, None
    key = LETTER_PREFIX.sub("L", _compact(s))
    candidates = [key] if not key.isdigit() else [f"CP{key}", f"L{key}", f"LT{key}"]
    for candidate in candidates:
        code = NOTICE_ALIASES.get(candidate)
        if code:
            return code, None
    hints = [hint for pattern, hint in UNKNOWN_NOTICE_HINTS if re.search(pattern, key)]
    return None, UNKNOWN_NOTICE.format(v=s) + "".join(f": {hint}" for hint in hints[:1])


_PERIOD_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})\s*[-/ ]?\s*Q(?P<q>[1-4])$"),
    re.compile(r"^Q(?P<q>[1-4])\s*[-/ ]?\s*(?P<y>\d{4})$"),
    re.compile(r"^(?P<q>[1-4])Q\s*[-/ ]?\s*(?P<y>\d{4})$"),
)


def parse_period(value: Any, quarterly: bool = False) -> Parsed:
    """2023, 2025Q2, 2025-Q2, Q2 2025, or a period-end date (a quarter for quarterly forms)."""
    s = text(value)
    if s is None:
        return None, None
    upper = s.upper()
    for pattern in _PERIOD_PATTERNS:
        m = pattern.match(upper)
        if m:
            q = m.groupdict().get("q")
            return (f"{m['y']}Q{q}" if q else m["y"]), None
    day, _ = parse_date(s)
    if day is None:
        return None, BAD_PERIOD.format(v=s)
    return (f"{day.year}Q{(day.month - 1) // 3 + 1}" if quarterly else str(day.year)), None


def _vocabulary(value: Any, vocabulary: tuple[str, ...], message: str) -> Parsed:
    s = text(value)
    if s is None:
        return None, None
    key = re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")
    return (key, None) if key in vocabulary else (None, message.format(v=s))


def parse_status(value: Any) -> Parsed:
    return _vocabulary(value, COLLECTION_STATUSES, UNKNOWN_STATUS)


def parse_source(value: Any) -> Parsed:
    return _vocabulary(value, ASSESSMENT_SOURCES, UNKNOWN_SOURCE)


def parse_taxpayer_type(value: Any) -> Parsed:
    return _vocabulary(value, ("individual", "business"), UNKNOWN_TYPE)


TC_PREFIX = r"TC\s*"
TC_SEPARATORS = r"[\s,;]+"


def normalize_tcs(value: Any) -> str:
    """Transcript codes as ' 150 922 290 ': upper case, 'TC' prefixes dropped, single spaces, padded,
    so rule patterns can anchor on spaces. The engine applies the same two regexes."""
    s = text(value) or ""
    return " " + re.sub(TC_SEPARATORS, " ", re.sub(TC_PREFIX, "", s.upper())).strip() + " "

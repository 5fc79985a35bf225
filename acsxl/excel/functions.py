"""The worksheet functions (=ACS_...) in plain Python, beneath the thin xlwings layer in
``acsxl.excel.udfs``. Values come in as Excel hands them (floats such as 1040.0, date serials such as
45231.0, datetimes, booleans, None for an empty cell, empty text, 2-D lists for ranges) and go out as
Excel shows them (text, numbers, dates, None for an empty cell).

Every function takes single cells or whole ranges: a range gives a range of the same shape back,
which spills. A bad value gives ``#ACS: <argument>: <reason>`` in its own cell and leaves the other
cells alone; an empty row gives an empty cell.

One case goes through the scalar path (``acsxl.engine.scalar``), a range through the engine in one
call; both run the same rules (tests/engine/test_paths_agree.py). A cell's bad value is read from the
problems the triage gives back (``problems``: field, message, value); only the client totals, which
are not case fields, are checked here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import polars as pl

from acsxl.engine import triage
from acsxl.engine.scalar import PARSERS, triage_case
from acsxl.errors import BadCall, UnreadableInput
from acsxl.io.reader import canonical_names, no_headers, read_rows, value_column
from acsxl.portfolio.columns import COLUMNS, ENGINE_COLUMNS, Sources, shown
from acsxl.rules import values as v
from acsxl.rules.catalogue import COLLECTION_STATUSES
from acsxl.rules.schema import FIELD_BY_NAME
from acsxl.rules.triage import AGGREGATES

ERROR = "#ACS: "
ROW = "__acs_row__"  # keeps a range's own order through the engine, which ranks
AGGREGATE_KINDS = {"client_total": "number", "individual_total": "number", "payroll_periods": "count", "unfiled_periods": "count"}
assert set(AGGREGATE_KINDS) <= set(AGGREGATES)

Cells = list[Any]
Shape = tuple[int, int]


@dataclass(frozen=True)
class Arg:
    """One argument: its name in Excel, the help Excel's function wizard shows, the case field or
    client aggregate it fills (default: its name)."""

    name: str
    help: str
    fills: str = ""
    optional: bool = False  # may be left out of the call
    required: bool = False  # an empty cell is an error
    blank: Any = None  # what an empty cell stands for

    @property
    def target(self) -> str:
        return self.fills or self.name

    @property
    def kind(self) -> str:
        return "date" if self.name == "as_of" else AGGREGATE_KINDS.get(self.target) or FIELD_BY_NAME[self.target].kind


@dataclass(frozen=True)
class Function:
    """A worksheet function answering one output column for the cases its arguments describe."""

    name: str
    output: str
    doc: str
    args: tuple[Arg, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)  # case fields the function implies

    @property
    def case_args(self) -> tuple[Arg, ...]:
        return tuple(a for a in self.args if a.name != "as_of")


AS_OF = Arg("as_of", "Date to compute as of; empty: today. Pass TODAY() so Excel recalculates it each day.", optional=True)
OWED = 1.0  # an empty balance in a function about a balance in collections: some amount is owed


def _arg(name: str, help: str, **kw: Any) -> Arg:
    return Arg(name, help, **kw)


FORM = _arg("form", "Form of the tax period: 1040, 941, 940, 1120, CIVPEN (TFRP) ...", required=True)
NOTICE = _arg("last_notice", "Latest IRS notice or letter: CP14, CP501, CP503, CP504, LT11, L1058, L3172, CP90 ...")
NOTICE_DATE = _arg("notice_date", "Date printed on that notice")
BALANCE = _arg("balance", "Balance due on the tax period", optional=True)
RESPONSE_DUE = _arg("response_due", "Response date printed on the notice, if any: it wins over the computed one", optional=True)
STATUS = _arg("collection_status", "Collection status: " + ", ".join(COLLECTION_STATUSES), optional=True)
LIEN = _arg("lien_filed", "Notice of Federal Tax Lien filed: yes/no", optional=True)
LEVY = _arg("levy_issued", "Levy issued: yes/no", optional=True)
TCS = _arg("transaction_codes", "Transcript transaction codes, e.g. 150 290 582", optional=True)
DEADLINE_ARGS = (NOTICE, NOTICE_DATE, BALANCE, AS_OF, RESPONSE_DUE, STATUS)  # a CDP hearing requested in time (cdp_pending) leaves no window
CAUSE_ARGS = (
    FORM, NOTICE,
    _arg("return_filed", "Was the return filed? yes/no", optional=True),
    _arg("sfr", "Substitute for return (6020(b)) assessed? yes/no", optional=True),
    _arg("assessment_source", "How the tax was assessed: return, sfr, aur, exam, math_error, penalty", optional=True),
    TCS,
    _arg("balance", "Balance due; empty: some balance is owed", optional=True, blank=OWED),
)

FUNCTIONS: tuple[Function, ...] = (
    Function("ACS_CAUSE", "cause",
             "Why the balance is in collections: filed_unpaid, unfiled_sfr, audit_adjustment, payroll_business or unknown.",
             CAUSE_ARGS),
    Function("ACS_CAUSE_REASON", "cause_reason", "The evidence behind ACS_CAUSE, in one sentence.", CAUSE_ARGS),
    Function("ACS_STAGE", "stage",
             "Where the account is in the notice sequence: pre_assessment, notice, reminder, intent_to_levy, lien, final_notice, "
             "levy_eligible or revenue_officer (a status that bars levy keeps it out of levy_eligible).",
             (NOTICE, _arg("notice_date", "Date printed on that notice", optional=True), AS_OF, STATUS, LEVY, BALANCE,
              RESPONSE_DUE)),
    Function("ACS_DEADLINE", "next_deadline",
             "The running deadline: the date by which to act (format the cell as a date).", DEADLINE_ARGS),
    Function("ACS_DEADLINE_TYPE", "deadline_type",
             "What the running deadline is for: cdp_request, equivalent_hearing, intent_to_levy, tax_court_petition, "
             "tfrp_protest, pay_by, contact_irs ...",
             DEADLINE_ARGS),
    Function("ACS_DAYS_LEFT", "days_left", "Days from the as-of date to the running deadline; negative when missed.",
             DEADLINE_ARGS),
    Function("ACS_PASSPORT_RISK", "passport_risk",
             "Passport certification risk for seriously delinquent tax debt (IRC 7345): none, at_risk, certifiable, "
             "certifiable_if_lower (over the lower of the amounts the sources leave open for the year), certified, excluded.",
             (_arg("individual_total", "The individual's total assessed tax debt (all periods, TFRP included)",
                   fills="balance", required=True),
              LIEN, LEVY, STATUS, AS_OF, _arg("last_notice", "Latest notice; CP508C means certified", optional=True), TCS,
              _arg("notice_date", "Date printed on that notice: a lien counts once its Letter 3172 window has passed", optional=True),
              RESPONSE_DUE),
             fixed={"form": "1040"}),  # the debt is an individual's (IRC 7345 applies to individuals only)
    Function("ACS_PAYROLL_RISK", "payroll_risk",
             "Payroll-tax and Trust Fund Recovery Penalty risk: none, present, pyramiding, tfrp_proposed, tfrp_assessed.",
             (FORM, _arg("last_notice", "Latest notice; L1153 proposes the TFRP", optional=True),
              _arg("periods_unpaid", "Unpaid payroll periods of the business; empty: this one", fills="payroll_periods",
                   optional=True),
              _arg("balance", "Balance due; empty: some balance is owed", optional=True, blank=OWED))),
    Function("ACS_RO_RISK", "ro_risk", "Revenue-officer risk: none, elevated (practice heuristics), assigned.",
             (_arg("client_total", "The client's total balance (all periods)", fills="balance", required=True),
              _arg("payroll_periods", "Unpaid payroll periods", optional=True),
              _arg("unfiled_periods", "Periods with unfiled returns (SFR)", optional=True),
              STATUS, _arg("last_notice", "Latest notice; L725B means a revenue officer is assigned", optional=True))),
    Function("ACS_CSED", "csed", "Collection statute expiration date: assessment + 10 years + tolling days (IRC 6502).",
             (_arg("assessed_date", "Date the tax was assessed", required=True),
              _arg("tolling_days", "Days the statute was suspended (offer, bankruptcy, CDP ...)", optional=True))),
)
BY_NAME = {f.name: f for f in FUNCTIONS}


# -- shapes ---------------------------------------------------------------------------------------

def _cells(value: Any) -> tuple[Cells, Shape | None]:
    """A cell or a range as a flat list (row by row) and the range's shape (None for one cell)."""
    if isinstance(value, list | tuple):
        rows = [list(r) if isinstance(r, list | tuple) else [r] for r in value]
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0], None
        width = max((len(r) for r in rows), default=0)
        return [c for r in rows for c in (*r, *[None] * (width - len(r)))], (len(rows), width)
    return [value], None


def _shaped(cells: Cells, shape: Shape | None) -> Any:
    if shape is None:
        return cells[0]
    width = shape[1]
    return [cells[i:i + width] for i in range(0, len(cells), width)]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, float) and value != value)


def _as_of(value: Any, today: date) -> date:
    cells, shape = _cells(value)
    if shape is not None:
        raise BadCall("as_of: give one date, not a range")
    if _blank(cells[0]):
        return today
    day, problem = v.parse_date(cells[0])
    if day is None:
        raise BadCall(f"as_of: {problem}")
    return day


# -- per-argument checks ---------------------------------------------------------------------------

def _parsed(arg: Arg, cells: Cells) -> tuple[list[Any], list[str | None]]:
    """A client total's cells parsed (once per distinct value) and the problem of each cell (None when
    fine). Case fields are not parsed here: the triage reports their problems."""
    parse = ARG_PARSERS[arg.kind]
    answers: dict[tuple[type, Any], tuple[Any, str | None]] = {}
    for cell in cells:
        key = (type(cell), cell)  # 1 and True are equal keys, but not the same value
        if key not in answers:
            answers[key] = _check(arg, cell, parse)
    results = [answers[(type(c), c)] for c in cells]
    return [r[0] for r in results], [r[1] for r in results]


def _parse_count(value: Any) -> v.Parsed:
    """A number of tax periods: a whole number, not negative."""
    count, problem = v.parse_whole(value)
    if problem is not None:
        return None, f'"{v.text(value)}" is not a whole number of periods'
    return (None, f"negative number of periods {count}") if count is not None and count < 0 else (count, None)


ARG_PARSERS: dict[str, Callable[[Any], v.Parsed]] = {**PARSERS, "count": _parse_count}


def _check(arg: Arg, cell: Any, parse: Callable[[Any], v.Parsed]) -> tuple[Any, str | None]:
    if _blank(cell):
        return None, (f"{arg.name}: missing" if arg.required else None)
    value, problem = parse(cell)
    if problem is None and arg.kind in v.NEGATIVE_BY_KIND and value is not None and value < 0:
        problem = v.NEGATIVE_BY_KIND[arg.kind].format(v=v.text(cell))
    return value, (f"{arg.name}: {problem}" if problem else None)


def _bad_value(problems: list[dict[str, Any]] | None, names: Mapping[str, str]) -> str | None:
    """The first bad value (in argument order) among a case's problems, as ``argument: message``:
    ``names`` maps each case field to the argument that gave it. Missing values are the arguments'
    own business (an optional argument may be empty)."""
    found = {p["field"]: p["message"] for p in reversed(problems or ()) if p["kind"] == "value" and p["value"] is not None}
    return next((f"{name}: {found[field]}" for field, name in names.items() if field in found), None)


# -- evaluation -------------------------------------------------------------------------------------

def call(function: Function, values: Sequence[Any], today: date) -> Any:
    """``function`` applied to the values Excel passed (positional, missing ones as None)."""
    try:
        return _call(function, list(values) + [None] * (len(function.args) - len(values)), today)
    except BadCall as err:
        return ERROR + str(err)


def _call(function: Function, values: list[Any], today: date) -> Any:
    given = dict(zip([a.name for a in function.args], values, strict=True))
    as_of = _as_of(given.get("as_of"), today)
    args = function.case_args
    columns: dict[str, Cells] = {}
    shape: Shape | None = None
    for arg in args:
        cells, arg_shape = _cells(given[arg.name])
        columns[arg.name] = cells
        if arg_shape is None:
            continue
        if shape is None:
            shape = arg_shape
        elif len(cells) != shape[0] * shape[1]:
            first = next(a.name for a in args if len(columns[a.name]) == shape[0] * shape[1])
            raise BadCall(f"ranges differ in size: {first} has {shape[0] * shape[1]} cells, {arg.name} has {len(cells)}")
    n = shape[0] * shape[1] if shape else 1
    columns = {name: cells * n if len(cells) == 1 else cells for name, cells in columns.items()}

    fields = [a for a in args if a.target not in AGGREGATES]
    problems: list[str | None] = [None] * n
    for arg in fields:  # an empty required cell; the values themselves are checked by the triage
        if arg.required:
            problems = [p or (f"{arg.name}: missing" if _blank(c) else None) for p, c in zip(problems, columns[arg.name], strict=True)]
    given = {}
    for arg in args:
        if arg.target in AGGREGATES:
            given[arg.name], found = _parsed(arg, columns[arg.name])
            problems = [p or q for p, q in zip(problems, found, strict=True)]
    empty = [all(_blank(columns[a.name][i]) for a in args) for i in range(n)]
    answers, case_problems = _answers(function, columns, given, n, as_of)
    names = {a.target: a.name for a in fields}
    problems = [p or _bad_value(found, names) for p, found in zip(problems, case_problems, strict=True)]
    out = [None if empty[i] else ERROR + problems[i] if problems[i] else answers[i] for i in range(n)]
    return _shaped(out, shape)


def _answers(function: Function, columns: dict[str, Cells], parsed: dict[str, list[Any]], n: int,
             as_of: date) -> tuple[list[Any], list[list[dict[str, Any]] | None]]:
    """The output column for the n cases the arguments describe, each case its own client, and each
    case's problems."""
    fields = [a for a in function.case_args if a.target not in AGGREGATES]
    aggregates = [a for a in function.case_args if a.target in AGGREGATES]

    def raw(arg: Arg) -> Cells:
        return [arg.blank if _blank(c) else c for c in columns[arg.name]]

    if n == 1:
        case = {**function.fixed, **{a.target: raw(a)[0] for a in fields}}
        client = {a.target: parsed[a.name][0] for a in aggregates if parsed[a.name][0] is not None}
        result = triage_case(case, as_of, client)
        return [result[function.output]], [result["problems"]]
    cases = pl.DataFrame(
        [value_column(a.target, raw(a)) for a in fields]
        + [pl.Series(name, [value] * n) for name, value in function.fixed.items()]
        + [pl.Series("client_id", [str(i) for i in range(n)]), pl.Series(ROW, range(n))]
    )
    given = pl.DataFrame([pl.Series(a.target, parsed[a.name]) for a in aggregates]) if aggregates else None
    result = triage(cases, as_of, given, columns=[function.output]).sort(ROW)
    return result.get_column(function.output).to_list(), result.get_column("problems").to_list()


# -- whole case lists ------------------------------------------------------------------------------

def case_rows(output: str, headers: Any, cases: Any, as_of: Any, today: date) -> Any:
    """ACS_NEXT_ACTION / ACS_PRIORITY: one answer per row of ``cases`` (a case list's rows, laid out
    under ``headers``); the client totals are taken over the rows given."""
    try:
        day = _as_of(as_of, today)
        names = _header_names(tuple(_cells(headers)[0]))
        if not names:
            raise no_headers("headers")
    except (BadCall, UnreadableInput) as err:
        return ERROR + str(err)
    rows = _rows(cases)
    n = len(rows)
    columns = {name: [row[i] if i < len(row) else None for row in rows] for i, name in names.items()}
    if n == 1:
        result = triage_case({name: cells[0] for name, cells in columns.items()}, day)
        answers, found = [result[output]], [result["problems"]]
    else:
        frame = pl.DataFrame([value_column(name, cells) for name, cells in columns.items()] + [pl.Series(ROW, range(n))])
        triaged = triage(frame, day, columns=[output]).sort(ROW)
        answers, found = triaged.get_column(output).to_list(), triaged.get_column("problems").to_list()
    problems = [_bad_value(p, {name: name for name in columns}) for p in found]
    empty = [all(_blank(cells[i]) for cells in columns.values()) for i in range(n)]
    out = [None if empty[i] else ERROR + problems[i] if problems[i] else answers[i] for i in range(n)]
    return out[0] if n == 1 else [[x] for x in out]


@lru_cache(maxsize=64)  # a sheet's formulas share one header row
def _header_names(headers: tuple[Any, ...]) -> dict[int, str]:
    return canonical_names(headers)


def _rows(value: Any) -> list[list[Any]]:
    """A range as a list of rows (a single value: one row of one cell)."""
    if not isinstance(value, list | tuple):
        return [[value]]
    return [list(r) if isinstance(r, list | tuple) else [r] for r in value]


def triage_table(cases: Any, as_of: Any, today: date) -> Any:
    """ACS_TRIAGE: the whole case list triaged, headers first, most urgent first."""
    try:
        day = _as_of(as_of, today)
        case_list = read_rows(_rows(cases), "range")
    except (BadCall, UnreadableInput) as err:
        return ERROR + str(err)
    result = triage(case_list.frame.with_columns(pl.lit(0, pl.Int64).alias("source_file")), day, columns=ENGINE_COLUMNS)
    out = shown(result, Sources((case_list.source,)), notes=False).select(c.name for c in COLUMNS)
    return [[c.header for c in COLUMNS], *(list(r) for r in out.iter_rows())]

"""The =ACS_... worksheet functions as xlwings sees them: the module the workbook's xlwings.conf sheet
names under "UDF Modules". Each function is a thin wrapper around ``acsxl.excel.functions``: it reads
the clock (today, for an empty as_of) and turns any unexpected failure into a ``#ACS:`` text, so Excel
never shows a Python traceback.

Ranges arrive as 2-D lists (``ndim=2``) so one formula can serve a whole column and spill."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

import xlwings as xw

from acsxl.excel import functions as f

CATEGORY = "acsxl"
log = logging.getLogger(__name__)


def _guarded(name: str, answer: Callable[[], Any]) -> Any:
    try:
        return answer()
    except Exception as err:  # a bug must not reach the sheet as a traceback
        log.exception("%s failed", name)
        return f"{f.ERROR}{name} failed ({type(err).__name__}: {err}); please report it"


def _excel_function(name: str, doc: str, args: list[tuple[str, str, bool]], body: Callable[..., Any]) -> Callable[..., Any]:
    """A function named ``name`` with one parameter per (name, help, optional) entry, registered with
    xlwings: its docstring and the argument helps are what Excel's function wizard shows."""

    def udf(*values: Any) -> Any:
        return _guarded(name, lambda: body(*values))

    udf.__name__ = udf.__qualname__ = name
    udf.__doc__ = doc
    udf.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(arg, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None if optional else inspect.Parameter.empty)
        for arg, _, optional in args
    ])
    for arg, help, _ in args:  # as @xw.arg lines under @xw.func: xw.func is applied last
        options = {} if arg == "as_of" else {"ndim": 2}  # a cell or a range, always as a 2-D list
        udf = xw.arg(arg, doc=help, **options)(udf)
    return xw.func(category=CATEGORY)(udf)


def _field_function(function: f.Function) -> Callable[..., Any]:
    return _excel_function(
        function.name, function.doc, [(a.name, a.help, a.optional) for a in function.args],
        lambda *values: f.call(function, values, date.today()),
    )


CASES_HELP = "The case list's rows (one row, or many: the answer spills down)"
HEADERS_HELP = "The case list's header row: Client, Form, Period, Balance, Notice, Notice Date ..."
AS_OF_HELP = f.AS_OF.help

for _function in f.FUNCTIONS:
    globals()[_function.name] = _field_function(_function)

ACS_NEXT_ACTION = _excel_function(
    "ACS_NEXT_ACTION", "The next thing to do on each case, most urgent matter first. Client totals are taken over the rows given.",
    [("headers", HEADERS_HELP, False), ("cases", CASES_HELP, False), ("as_of", AS_OF_HELP, True)],
    lambda headers, cases, as_of=None: f.case_rows("next_action", headers, cases, as_of, date.today()),
)
ACS_PRIORITY = _excel_function(
    "ACS_PRIORITY", "Priority 0-100 of each case (deadline, levy exposure, payroll, passport, revenue officer, balance). Client totals are taken over the rows given.",
    [("headers", HEADERS_HELP, False), ("cases", CASES_HELP, False), ("as_of", AS_OF_HELP, True)],
    lambda headers, cases, as_of=None: f.case_rows("priority", headers, cases, as_of, date.today()),
)
ACS_TRIAGE = _excel_function(
    "ACS_TRIAGE", "The whole case list triaged, as one array that spills: headers first, most urgent case first.",
    [("cases", "The case list with its header row, e.g. Cases!A1:S500", False), ("as_of", AS_OF_HELP, True)],
    lambda cases, as_of=None: f.triage_table(cases, as_of, date.today()),
)

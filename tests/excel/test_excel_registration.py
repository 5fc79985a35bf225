"""What Excel gets when a user clicks "Import Functions": xlwings' own registration code
(``xlwings.udfs``, Windows-only because it imports pywin32) is loaded here with pywin32 stubbed out,
applied to ``acsxl.excel.udfs``, and asked for the VBA wrappers it would import into the workbook."""

from __future__ import annotations

import importlib
import io
import re
import sys
import types
from collections.abc import Iterator

import pytest

from acsxl.excel import functions as f

xlwings = pytest.importorskip("xlwings")


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[types.ModuleType, types.ModuleType]]:
    """(xlwings.udfs, acsxl.excel.udfs decorated by it), as on Windows."""
    stubs = {name: types.ModuleType(name) for name in ("pythoncom", "pywintypes", "win32com", "win32com.client")}
    stubs["pythoncom"].CoInitialize = lambda: None
    stubs["pywintypes"].com_error = Exception
    stubs["win32com.client"].Dispatch = lambda *args: None
    for name, module in stubs.items():
        monkeypatch.setitem(sys.modules, name, module)
    xl_udfs = importlib.import_module("xlwings.udfs")
    monkeypatch.setattr(xlwings, "func", xl_udfs.xlfunc)
    monkeypatch.setattr(xlwings, "arg", xl_udfs.xlarg)
    ours = importlib.reload(importlib.import_module("acsxl.excel.udfs"))
    yield xl_udfs, ours
    monkeypatch.undo()
    sys.modules.pop("xlwings.udfs", None)
    importlib.reload(ours)


class Book:
    Name = "acs_portfolio.xlsm"


EXPECTED = {
    "ACS_CAUSE": "form, last_notice, Optional return_filed, Optional sfr, Optional assessment_source, "
                 "Optional transaction_codes, Optional balance",
    "ACS_STAGE": "last_notice, Optional notice_date, Optional as_of, Optional collection_status, Optional levy_issued, "
                 "Optional balance, Optional response_due",
    "ACS_DEADLINE": "last_notice, notice_date, Optional balance, Optional as_of, Optional response_due, Optional collection_status",
    "ACS_DEADLINE_TYPE": "last_notice, notice_date, Optional balance, Optional as_of, Optional response_due, Optional collection_status",
    "ACS_DAYS_LEFT": "last_notice, notice_date, Optional balance, Optional as_of, Optional response_due, Optional collection_status",
    "ACS_PASSPORT_RISK": "individual_total, Optional lien_filed, Optional levy_issued, Optional collection_status, "
                         "Optional as_of, Optional last_notice, Optional transaction_codes, Optional notice_date, Optional response_due",
    "ACS_PAYROLL_RISK": "form, Optional last_notice, Optional periods_unpaid, Optional balance",
    "ACS_CSED": "assessed_date, Optional tolling_days",
    "ACS_NEXT_ACTION": "headers, cases, Optional as_of",
    "ACS_PRIORITY": "headers, cases, Optional as_of",
    "ACS_TRIAGE": "cases, Optional as_of",
}


def test_import_functions_gives_excel_every_function_with_its_optional_arguments(registered) -> None:
    xl_udfs, ours = registered
    vba = io.StringIO()
    xl_udfs.generate_vba_wrapper("acsxl.excel.udfs", ours, vba, Book())
    signatures = dict(re.findall(r"^Function (ACS_\w+)\((.*)\)$", vba.getvalue(), re.MULTILINE))
    assert set(signatures) == {fn.name for fn in f.FUNCTIONS} | {"ACS_NEXT_ACTION", "ACS_PRIORITY", "ACS_TRIAGE"}
    for name, args in EXPECTED.items():
        assert signatures[name] == args
    assert 'ACS_CAUSE = XLPy.CallUDF("acsxl.excel.udfs", "ACS_CAUSE", Array(form, last_notice, return_filed, sfr, ' in vba.getvalue()


def test_the_function_wizard_shows_a_description_and_help_for_every_argument(registered) -> None:
    _, ours = registered
    functions = [getattr(ours, name) for name in dir(ours) if name.startswith("ACS_")]
    assert len(functions) == 13
    for fn in functions:
        info = fn.__xlfunc__
        assert info["category"] == "acsxl"
        assert len(info["ret"]["doc"]) > 30 and len(info["ret"]["doc"]) <= 255, fn.__name__
        for arg in info["args"]:
            assert not arg["doc"].startswith("Positional argument"), f"{fn.__name__}({arg['name']}) has no help"
            assert len(arg["doc"]) <= 255
            # Ranges come as 2-D lists, so a single cell and a whole column take one path; as_of is one date.
            assert arg["options"] == ({} if arg["name"] == "as_of" else {"ndim": 2}), f"{fn.__name__}({arg['name']})"

"""The case list's canonical columns, their header aliases and value kinds, and the output columns."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, number, whole, date, flag, form, period, notice, status, source, taxpayer_type, tcs
    required: bool = False
    aliases: tuple[str, ...] = ()


FIELDS: tuple[Field, ...] = (
    Field("client_id", "text", True, ("Client", "Client #", "Client No", "Client Number", "Client ID")),
    Field("client_name", "text", False, ("Name", "Taxpayer", "Client Name", "Taxpayer Name")),
    Field("taxpayer_type", "taxpayer_type", False, ("Type", "Entity Type", "Taxpayer Type")),
    Field("form", "form", True, ("Form Type", "Return", "Return Type")),
    Field("tax_period", "period", True, ("Tax Year", "Period", "Year", "Quarter", "Tax Period")),
    Field("balance", "number", True, ("Balance Due", "Amount Due", "Amount Owed")),
    Field("assessed_date", "date", False, ("Assessment Date", "Date Assessed", "Assessed")),
    Field("last_notice", "notice", False, ("Notice", "Latest Notice", "Notice Code", "Letter", "Last Notice")),
    Field("notice_date", "date", False, ("Date of Notice", "Letter Date")),
    Field("response_due", "date", False, ("Due Date", "Pay By", "Respond By", "Response Due")),
    Field("return_filed", "flag", False, ("Filed", "Return Filed?")),
    Field("sfr", "flag", False, ("Substitute for Return", "6020(b)", "SFR")),
    Field("assessment_source", "source", False, ("Source", "Assessment Type")),
    Field("transaction_codes", "tcs", False, ("TCs", "TC", "Transaction Codes")),
    Field("lien_filed", "flag", False, ("Lien", "NFTL", "Lien Filed")),
    Field("levy_issued", "flag", False, ("Levy", "Levy Issued")),
    Field("collection_status", "status", False, ("Status",)),
    Field("tolling_days", "whole", False, ("Tolling Days",)),
    Field("notes", "text", False, ("Comments",)),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
REQUIRED = tuple(f.name for f in FIELDS if f.required)


def header_key(header: str) -> str:
    """Header matching ignores case, spaces, underscores and punctuation."""
    return re.sub(r"[^0-9a-z]", "", str(header).lower())


HEADER_ALIASES: dict[str, str] = {
    header_key(alias): f.name for f in FIELDS for alias in (f.name, *f.aliases)
}

# Output: one row per input row, in rank order.
OUTPUT_COLUMNS = (
    "rank", "priority", "client_id", "client_name", "taxpayer_type", "form", "tax_period", "balance",
    "client_total", "cause", "cause_reason", "stage", "last_notice", "notice_date", "deadline_type",
    "next_deadline", "days_left", "payroll_risk", "passport_risk", "ro_risk", "csed", "next_action",
    "issues", "source",
)

# Human headers of the output columns, as the Portfolio sheet and ACS_TRIAGE show them.
HEADERS = {
    "rank": "Rank", "priority": "Priority", "client_id": "Client", "client_name": "Name", "taxpayer_type": "Type",
    "form": "Form", "tax_period": "Period", "balance": "Balance", "client_total": "Client total", "cause": "Cause",
    "cause_reason": "Why", "stage": "Stage", "last_notice": "Last notice", "notice_date": "Notice date",
    "deadline_type": "Deadline", "next_deadline": "Next deadline", "days_left": "Days left", "payroll_risk": "Payroll risk",
    "passport_risk": "Passport risk", "ro_risk": "RO risk", "csed": "CSED", "next_action": "Next action",
    "issues": "Issues", "source": "Source", "notes": "Notes",
}

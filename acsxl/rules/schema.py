"""The case list's canonical columns, their header aliases and value kinds. (The output columns are the
portfolio's: ``acsxl.portfolio.columns``.)"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, number, whole, date, flag, form, period, notice, status, source, taxpayer_type, tcs
    required: bool = False
    aliases: tuple[str, ...] = ()
    header: str = ""  # how acsxl heads the column where it writes a case list (the Excel workbook's Cases sheet); reads back as this field


FIELDS: tuple[Field, ...] = (
    Field("client_id", "text", True, ("Client", "Client #", "Client No", "Client Number", "Client ID"), header="Client ID"),
    Field("client_name", "text", False, ("Name", "Taxpayer", "Client Name", "Taxpayer Name"), header="Name"),
    Field("taxpayer_type", "taxpayer_type", False, ("Type", "Entity Type", "Taxpayer Type"), header="Type"),
    Field("form", "form", True, ("Form Type", "Return", "Return Type"), header="Form"),
    Field("tax_period", "period", True, ("Tax Year", "Period", "Year", "Quarter", "Tax Period"), header="Period"),
    Field("balance", "number", True, ("Balance Due", "Amount Due", "Amount Owed"), header="Balance"),
    Field("assessed_date", "date", False, ("Assessment Date", "Date Assessed", "Assessed"), header="Assessed"),
    Field("last_notice", "notice", False, ("Notice", "Latest Notice", "Notice Code", "Letter", "Last Notice"), header="Last notice"),
    Field("notice_date", "date", False, ("Date of Notice", "Letter Date"), header="Notice date"),
    Field("response_due", "date", False, ("Due Date", "Pay By", "Respond By", "Response Due"), header="Response due"),
    Field("return_filed", "flag", False, ("Filed", "Return Filed?"), header="Return filed"),
    Field("sfr", "flag", False, ("Substitute for Return", "6020(b)", "SFR"), header="SFR"),
    Field("assessment_source", "source", False, ("Source", "Assessment Type"), header="Assessment source"),
    Field("transaction_codes", "tcs", False, ("TCs", "TC", "Transaction Codes"), header="TCs"),
    Field("lien_filed", "flag", False, ("Lien", "NFTL", "Lien Filed"), header="Lien filed"),
    Field("levy_issued", "flag", False, ("Levy", "Levy Issued"), header="Levy issued"),
    Field("collection_status", "status", False, ("Status",), header="Collection status"),
    Field("tolling_days", "whole", False, ("Tolling Days",), header="Tolling days"),
    Field("notes", "text", False, ("Comments",), header="Notes"),
    # Who works the case: fills the Portfolio's Assigned to column (README, "Your own columns on the Portfolio").
    Field("assigned_to", "text", False, ("Assigned To", "Assigned", "Assignee", "Staff", "Preparer", "Owner", "Case Owner"), header="Assigned to"),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
REQUIRED = tuple(f.name for f in FIELDS if f.required)
# What makes a case the case it is: two rows equal in all of these are one case written twice (the
# name may be spelled differently, the notes and the assignee may differ).
FACTS = tuple(f.name for f in FIELDS if f.name not in ("client_name", "notes", "assigned_to"))


def header_key(header: str) -> str:
    """Header matching ignores case, spaces, underscores and punctuation."""
    return re.sub(r"[^0-9a-z]", "", str(header).lower())


HEADER_ALIASES: dict[str, str] = {
    header_key(alias): f.name for f in FIELDS for alias in (f.name, *f.aliases)
}

"""Synthetic case lists: seeded, any size, every cause, notice and form represented, a few bad rows.
No real taxpayer data: names come from small made-up lists."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import polars as pl

FIRST = ["Morgan", "Dana", "Avery", "Jordan", "Riley", "Casey", "Quinn", "Harper", "Rowan", "Emerson", "Sage", "Blair"]
LAST = ["Ellery", "Whitfield", "Calloway", "Brennan", "Okafor", "Lindqvist", "Marchetti", "Haddad", "Novak", "Tran"]
BUSINESS = ["Harbor Diner", "Ridge Framing", "Coastline Movers", "Northgate Holdings", "Blue Fern Dental", "Summit Paving",
            "Cedar Lane Bakery", "Ironwood Logistics", "Prairie Clinic", "Lakeside Auto"]
SUFFIX = ["LLC", "Inc", "Corp", "LLP"]

INDIVIDUAL_NOTICES = ["CP14", "CP501", "CP503", "CP504", "LT11", "Letter 1058", "CP90", "CP91", "CP2000", "CP3219A", "CP3219N",
                      "CP59", "CP518", "CP523", "CP71C", "CP508C", "LT16", "Letter 725-B", "CP11", "CP22E", "LTR 3172", "CP22A", None]
BUSINESS_NOTICES = ["CP161", "CP504B", "LT11", "L-1058", "CP297", "CP297A", "Letter 3172", "Letter 1153", "725-B", "LT16", None]
TFRP_NOTICES = ["CP14", "CP504", "LT11", "CP501"]
EMPLOYMENT_FORMS = ["941", "941", "941", "940", "944", "945", "943", "CT-1"]
OTHER_BUSINESS_FORMS = ["1120", "1120-S", "1065", "1041", "720", "2290"]
STATUSES = [None] * 8 + ["installment_agreement", "ia_pending", "oic_pending", "cdp_pending", "cnc", "cnc_hardship", "bankruptcy", "pca"]
TCS = [None] * 6 + ["150 922 290", "150=0 290", "150 420 300", "150=0.00 599", "150", "150 582"]
BAD = ["CP777", "n/a", "not a date", "-1200", None]

HEADERS = {  # practitioner-style headers, to exercise the aliases
    "client_id": "Client #", "client_name": "Client Name", "taxpayer_type": "Entity Type", "form": "Form", "tax_period": "Tax Period",
    "balance": "Balance Due", "assessed_date": "Assessment Date", "last_notice": "Latest Notice", "notice_date": "Notice Date",
    "response_due": "Respond By", "return_filed": "Return Filed?", "sfr": "SFR", "assessment_source": "Source",
    "transaction_codes": "TCs", "lien_filed": "Lien", "levy_issued": "Levy", "collection_status": "Status",
    "tolling_days": "Tolling Days", "notes": "Comments", "assigned_to": "Staff",
}
STAFF = ("A. Kim", "M. Ruiz", "J. Tate", None)  # who works a client's cases (Assigned to); one client in four unassigned


def _period(rng: random.Random, year: int, quarterly: bool) -> str:
    y = rng.randint(year - 7, year - 1)
    return f"{y}Q{rng.randint(1, 4)}" if quarterly else str(y)


def _case(rng: random.Random, client: dict[str, Any], anchor: date) -> dict[str, Any]:
    kind = client["kind"]
    if kind == "individual":
        form = "TFRP" if rng.random() < 0.08 else rng.choice(["1040", "1040", "1040", "1040-SR"])
        notices = [*TFRP_NOTICES, "Letter 1153"] if form == "TFRP" else INDIVIDUAL_NOTICES
    else:
        form = rng.choice(EMPLOYMENT_FORMS if rng.random() < 0.7 else OTHER_BUSINESS_FORMS)
        notices = BUSINESS_NOTICES
    notice = rng.choice(notices)
    notice_date = anchor - timedelta(days=rng.randint(0, 150))
    unfiled = notice in ("CP59", "CP518", "CP3219N") or (kind == "individual" and rng.random() < 0.08)
    balance = round(rng.lognormvariate(9.6, 1.0), 2) if notice not in ("CP59", "CP518") else 0.0
    quarterly = form in ("941", "720", "TFRP")
    return {
        "client_id": client["id"],
        "client_name": client["name"],
        "taxpayer_type": client["kind"] if rng.random() < 0.3 else None,
        "form": form,
        "tax_period": _period(rng, anchor.year, quarterly),
        "balance": balance,
        "assessed_date": (notice_date - timedelta(days=rng.randint(30, 2500))) if rng.random() < 0.6 else None,
        "last_notice": notice,
        "notice_date": notice_date if notice else None,
        "response_due": (notice_date + timedelta(days=rng.choice([10, 21, 30]))) if notice in ("CP501", "CP503") and rng.random() < 0.5 else None,
        "return_filed": None if form == "TFRP" else ("N" if unfiled else rng.choice(["Y", "Y", "Yes", "TRUE", None])),
        "sfr": "Y" if unfiled and rng.random() < 0.6 else None,
        "assessment_source": rng.choice([None, None, None, "return", "exam", "aur", "math_error", "penalty"]),
        "transaction_codes": rng.choice(TCS),
        "lien_filed": "Y" if rng.random() < 0.25 else rng.choice([None, "N"]),
        "levy_issued": "Y" if rng.random() < 0.05 else None,
        "collection_status": rng.choice(STATUSES),
        "tolling_days": rng.choice([None] * 8 + [30, 45, 120]),
        "notes": None,
        "assigned_to": client["staff"],
    }


def _corrupt(rng: random.Random, case: dict[str, Any]) -> dict[str, Any]:
    """One deliberate mistake of the kinds practitioners make."""
    what = rng.randrange(5)
    if what == 0:
        case["last_notice"] = "CP777"
    elif what == 1:
        case["balance"] = "n/a"
    elif what == 2:
        case["notice_date"] = "not a date"
    elif what == 3:
        case["balance"] = -abs(float(case["balance"] or 100))
    else:
        case["client_id"] = None
    case["notes"] = "deliberately bad row (sample data)"
    return case


def sample_cases(rows: int, seed: int = 7, anchor: date = date(2026, 11, 21), bad_share: float = 0.03) -> pl.DataFrame:
    """A synthetic case list of ``rows`` rows with practitioner-style headers; notices dated in the
    150 days before ``anchor``."""
    rng = random.Random(seed)
    cases: list[dict[str, Any]] = []
    n = 0
    while len(cases) < rows:
        n += 1
        individual = rng.random() < 0.65
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}" if individual else f"{rng.choice(BUSINESS)} {rng.choice(SUFFIX)}"
        client = {"id": f"C{n:05d}", "name": name, "kind": "individual" if individual else "business", "staff": STAFF[n % len(STAFF)]}
        for _ in range(min(rng.choice([1, 1, 2, 2, 3, 4, 6]), rows - len(cases))):
            case = _case(rng, client, anchor)
            cases.append(_corrupt(rng, case) if rng.random() < bad_share else case)
    return pl.DataFrame([_column(header, [case[key] for case in cases]) for key, header in HEADERS.items()])


def _column(name: str, values: list[Any]) -> pl.Series:
    """Keep a column typed when all its values share a type (as a spreadsheet would), else text."""
    types = {type(v) for v in values if v is not None}
    if types <= {date}:
        return pl.Series(name, values, dtype=pl.Date)
    if types <= {float, int}:
        return pl.Series(name, values, dtype=pl.Float64)
    return pl.Series(name, [None if v is None else str(v) for v in values], dtype=pl.String)

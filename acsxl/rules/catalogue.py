"""The notice and form catalogue (``catalogue.toml``), resolved against the parameters in force."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from acsxl.rules.parameters import RULEBOOK

RAW: dict[str, Any] = tomllib.loads(
    resources.files("acsxl.rules").joinpath("catalogue.toml").read_text("utf-8")
)

# Canonical vocabularies.
STAGES = ("pre_assessment", "notice", "reminder", "intent_to_levy", "lien", "final_notice", "levy_eligible", "revenue_officer")
COLLECTION_STATUSES: tuple[str, ...] = tuple(RAW["collection_statuses"]["values"])
ASSESSMENT_SOURCES: tuple[str, ...] = tuple(RAW["assessment_sources"]["values"])
NOTICES: dict[str, dict[str, Any]] = RAW["notices"]
FORMS: dict[str, dict[str, Any]] = RAW["forms"]
UNKNOWN_NOTICE_HINTS: tuple[tuple[str, str], ...] = tuple((h["pattern"], h["hint"]) for h in RAW["unknown_notice_hints"])
# How each code reads in the workbook, per vocabulary (catalogue.toml [labels]); the notices' own below.
LABELS: dict[str, dict[str, str]] = RAW["labels"]


def notice_label(code: str) -> str:
    """A notice as a practitioner names it: a letter (L3172, L1058, L725B) as "Letter 3172", a CP or LT
    notice by its code."""
    return f"Letter {code[1:]}" if re.fullmatch(r"L\d+\w*", code) else code


LABELS["last_notice"] = {code: notice_label(code) for code in NOTICES}

# Unit of a window parameter -> window kind.
WINDOW_KINDS = {"calendar_days": "calendar", "business_days": "business"}


@dataclass(frozen=True)
class NoticeRule:
    """One notice as the rules see it on a given day: windows resolved to numbers."""

    code: str
    stage: str
    track: str
    deadline_type: str | None
    window: int | None
    window_kind: str | None
    large_window: int | None
    large_window_kind: str | None
    cdp: bool
    cause_hint: str | None
    balance_due: bool
    abroad: str | None
    counterpart: str | None


def _window(name: str | None, as_of: date) -> tuple[int | None, str | None]:
    if name is None:
        return None, None
    values = RULEBOOK.at(as_of)
    return int(values[name]), WINDOW_KINDS[RULEBOOK[name].unit]


@cache
def notice_rules(as_of: date) -> dict[str, NoticeRule]:
    out = {}
    for code, n in NOTICES.items():
        window, kind = _window(n.get("window"), as_of)
        large, large_kind = _window(n.get("large_balance_window"), as_of)
        out[code] = NoticeRule(
            code=code,
            stage=n["stage"],
            track=n["track"],
            deadline_type=n.get("deadline_type"),
            window=window,
            window_kind=kind,
            large_window=large,
            large_window_kind=large_kind,
            cdp=bool(n.get("cdp", False)),
            cause_hint=n.get("cause_hint"),
            balance_due=bool(n.get("balance_due", False)),
            abroad=n.get("abroad"),
            counterpart=n.get("counterpart"),
        )
    return out


NOTICE_FIELDS = tuple(f for f in NoticeRule.__dataclass_fields__ if f != "code")

"""The triage rules, written once against ``acsxl.rules.ops`` so the engine and the scalar path share
them. Each rule is ``rule(x, r, p)``: backend, row, parameters in force (``p.day`` is the as-of date).

Inputs are the parsed case columns (see ``acsxl.rules.schema``), the notice catalogue fields joined as
``n_<field>`` (``acsxl.rules.catalogue.NoticeRule``) and, for the client-level rules, the aggregates
in ``AGGREGATES``. Rules run in ``STEPS``: a rule may only read columns made by an earlier step.
"RR §n" cites ../shared/domain/rules-reference.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from acsxl.rules.catalogue import FORMS

Rule = Callable[[Any, Any, Any], Any]
# A step entry makes one column, or several from one rule returning a tuple.
Step = tuple[tuple[str | tuple[str, ...], Rule], ...]

FORM_FAMILY = {code: f["family"] for code, f in FORMS.items()}
QUARTERLY_FORMS = tuple(code for code, f in FORMS.items() if f.get("quarterly"))
FAMILY_TAXPAYER = {"individual": "individual", "tfrp": "individual", "employment": "business", "business": "business"}

# Transcript evidence (RR §7.1) over codes normalised to ' 150 922 290 ' (values.normalize_tcs).
_CODE_END = "[ /=]"
TC_FILED = r" 150(=[0-9.,]*[1-9][0-9.,]*)?[ /]"  # original return with tax (no amount given counts)
TC_SFR = rf" 150=[0.,]+ (.* )?(290|300){_CODE_END}| 599{_CODE_END}"  # zero TC 150 then 290/300; TC 599
TC_AUDIT = rf" (922|420|424|300){_CODE_END}|{TC_FILED}(.* )?290{_CODE_END}"  # AUR, exam, 290 after 150
TC_LIEN = rf" 582{_CODE_END}"  # lien indicator: NFTL filed (RR §7.2)

NO_DATE = 10**6  # days_left stand-in for "no deadline" in comparisons


def _cause(x: Any, r: Any, p: Any) -> tuple[Any, Any]:
    """Cause precedence (issue #2): business forms and TFRP, explicit columns, the notice, transcript
    codes, then a balance-due notice on a filed return."""
    source = r["assessment_source"]
    return x.choose(
        (x.eq(r["family"], "employment"), "payroll_business", "Form {form} is an employment-tax (payroll) return"),
        (x.eq(r["family"], "business"), "payroll_business", "Form {form} is a business return"),
        (x.eq(r["family"], "tfrp"), "payroll_business", "Trust Fund Recovery Penalty assessed personally for a business's unpaid payroll tax (IRC 6672)"),
        (x.is_true(r["sfr"]), "unfiled_sfr", "SFR column: the IRS assessed a substitute for return"),
        (x.eq(r["return_filed"], False), "unfiled_sfr", "Return Filed column: no return was filed"),
        (x.eq(source, "sfr"), "unfiled_sfr", "assessment source: substitute for return"),
        (x.isin(source, ("aur", "exam", "math_error")), "audit_adjustment", "assessment source: {source}"),
        (x.eq(source, "return"), "filed_unpaid", "assessment source: the filed return"),
        (x.eq(r["n_cause_hint"], "unfiled_sfr"), "unfiled_sfr", "notice {notice} is sent when no return is on file"),
        (x.eq(r["n_cause_hint"], "audit_adjustment"), "audit_adjustment", "notice {notice} proposes or bills an IRS adjustment"),
        (x.matches(r["transaction_codes"], TC_SFR), "unfiled_sfr", "transcript: zero TC 150 then TC 290/300, or TC 599, marks a substitute for return"),
        (x.matches(r["transaction_codes"], TC_AUDIT), "audit_adjustment", "transcript: TC 922, 420/424, 300, or TC 290 after the original TC 150: an IRS adjustment"),
        (x.all(x.is_true(r["n_balance_due"]), x.any(x.eq(r["return_filed"], True), x.matches(r["transaction_codes"], TC_FILED))),
         "filed_unpaid", "balance-due notice {notice} on a filed return"),
        (x.all(x.eq(r["return_filed"], True), r["owed"]), "filed_unpaid", "return filed with a balance due"),
        otherwise=("unknown", "no evidence of the cause: fill Return Filed, SFR or Assessment Source, or add transcript codes"),
        fill={"form": r["form"], "notice": r["last_notice"], "source": source},
    )


def _window(x: Any, r: Any, p: Any) -> tuple[Any, Any]:
    """The notice's window; the large-balance window when the balance reaches the threshold (§6651(a)(3))."""
    large = x.all(x.not_(x.is_null(r["n_large_window"])), r["bal"] >= p["windows.large_balance_threshold"])
    return x.choose((large, r["n_large_window"], r["n_large_window_kind"]), otherwise=(r["n_window"], r["n_window_kind"]))


def _computed_deadline(x: Any, r: Any, p: Any) -> Any:
    """The printed due date wins; else notice date + window, rolled past weekends and D.C. holidays
    (IRC §7503); business-day windows count business days."""
    start = r["notice_date"]
    return x.when(
        (x.not_(x.is_null(r["response_due"])), r["response_due"]),
        (x.eq(r["window_kind"], "business"), x.add_business_days(start, r["window"])),
        (x.eq(r["window_kind"], "calendar"), x.roll_forward(x.add_days(start, r["window"]))),
        otherwise=None,
    )


def _eh_deadline(x: Any, r: Any, p: Any) -> Any:
    """Equivalent hearing: one year from the CDP notice date (Reg. 301.6330-1(i); RR §2)."""
    years = p["windows.equivalent_hearing"]
    return x.when((x.is_true(r["n_cdp"]), x.roll_forward(x.add_years(r["notice_date"], years))), otherwise=None)


def _cdp_passed(x: Any, r: Any, p: Any) -> Any:
    return x.all(x.is_true(r["n_cdp"]), x.coalesce(x.days_between(r["computed_deadline"], p.day), 0) < 0)


def _stage(x: Any, r: Any, p: Any) -> Any:
    return x.when(
        (x.any(x.eq(r["collection_status"], "revenue_officer"), x.eq(r["last_notice"], "L725B")), "revenue_officer"),
        (x.is_true(r["levy_issued"]), "levy_eligible"),
        (r["cdp_passed"], "levy_eligible"),
        otherwise=r["n_stage"],
    )


def _deadline(x: Any, r: Any, p: Any) -> tuple[Any, Any]:
    """After a missed CDP window the running deadline is the equivalent hearing, then nothing."""
    eh_open = x.all(r["cdp_passed"], x.coalesce(x.days_between(r["eh_deadline"], p.day), -1) >= 0)
    return x.choose(
        (eh_open, "equivalent_hearing", r["eh_deadline"]),
        (r["cdp_passed"], None, None),
        (x.is_null(r["computed_deadline"]), None, None),
        otherwise=(x.coalesce(r["n_deadline_type"], "respond_by"), r["computed_deadline"]),
    )


def _csed(x: Any, r: Any, p: Any) -> Any:
    """Ten years from assessment plus tolling days (IRC §6502(a); RR §4)."""
    return x.add_days(x.add_years(r["assessed_date"], p["csed.years"]), x.clip(x.coalesce(r["tolling_days"], 0), 0, NO_DATE))


def _individual_debt(x: Any, r: Any, p: Any) -> Any:
    """Only an individual's debt counts for §7345: 1040 and TFRP rows, rows marked individual (RR §5.1)."""
    return x.any(x.isin(r["family"], ("individual", "tfrp")), x.eq(r["taxpayer_type_in"], "individual"))


# Client-level aggregates: name -> (how, per-row contribution). The engine aggregates over the client;
# the scalar path takes them as arguments (a single case stands for its client when they are not given).
AGGREGATES: dict[str, tuple[str, Rule]] = {
    "client_total": ("sum", lambda x, r, p: r["bal"]),
    "individual_total": ("sum", lambda x, r, p: x.when((r["individual_debt"], r["bal"]), otherwise=0.0)),
    "countable_total": ("sum", lambda x, r, p: x.when(
        (x.all(r["individual_debt"], x.not_(x.isin(r["collection_status"], p["passport.exclusion_statuses"]))), r["bal"]),
        otherwise=0.0)),
    "enforced": ("any", lambda x, r, p: x.all(r["individual_debt"], x.any(
        x.is_true(r["lien_filed"]), x.matches(r["transaction_codes"], TC_LIEN), x.is_true(r["levy_issued"])))),
    "certified": ("any", lambda x, r, p: x.all(r["individual_debt"], x.eq(r["last_notice"], "CP508C"))),
    "tfrp_letter": ("any", lambda x, r, p: x.eq(r["last_notice"], "L1153")),
    "ro_assigned": ("any", lambda x, r, p: x.eq(r["stage"], "revenue_officer")),
    "payroll_periods": ("n_unique", lambda x, r, p: x.when(
        (x.all(x.eq(r["family"], "employment"), r["owed"]), x.key(r["form"], r["tax_period"])), otherwise=None)),
    "unfiled_periods": ("n_unique", lambda x, r, p: x.when(
        (x.eq(r["cause"], "unfiled_sfr"), x.key(r["form"], r["tax_period"])), otherwise=None)),
}


def _payroll_risk(x: Any, r: Any, p: Any) -> Any:
    employment = x.eq(r["family"], "employment")
    return x.when(
        (x.eq(r["last_notice"], "L1153"), "tfrp_proposed"),  # IRC §6672(b) preliminary notice (RR §1.4)
        (x.eq(r["family"], "tfrp"), "tfrp_assessed"),
        (x.all(employment, r["tfrp_letter"]), "tfrp_proposed"),
        (x.all(employment, r["payroll_periods"] >= p["payroll.pyramiding_periods"]), "pyramiding"),
        (x.all(employment, r["owed"]), "present"),
        otherwise="none",
    )


def _passport_risk(x: Any, r: Any, p: Any) -> Any:
    """IRC §7345: more than the year's threshold, assessed, and a lien filed or a levy made, unless an
    exclusion applies (RR §5). Excluded debt does not count toward the threshold."""
    threshold = p["passport.threshold"]
    return x.when(
        (x.not_(r["individual_debt"]), "none"),
        (r["certified"], "certified"),
        (x.all(r["countable_total"] > threshold, r["enforced"]), "certifiable"),
        (x.all(r["individual_total"] > threshold, r["countable_total"] <= threshold), "excluded"),
        (r["countable_total"] > threshold * p["passport.near_threshold_band"], "at_risk"),
        otherwise="none",
    )


def _ro_risk(x: Any, r: Any, p: Any) -> Any:
    """Revenue-officer risk: practice heuristics, not published IRS thresholds (RR §6.1, §10.10)."""
    return x.when(
        (r["ro_assigned"], "assigned"),
        (x.any(
            r["client_total"] >= p["revenue_officer.balance_heuristic"],
            r["payroll_periods"] >= p["payroll.pyramiding_periods"],
            r["unfiled_periods"] >= p["revenue_officer.unfiled_periods"],
        ), "elevated"),
        otherwise="none",
    )


def _priority(x: Any, r: Any, p: Any) -> Any:
    """0-100: the running deadline (by type, scaled by closeness), levy exposure by stage, payroll/TFRP,
    passport and revenue-officer risk, balance size. Weights: parameters.toml, priority.*."""
    closeness = p["priority.deadline_closeness"]
    days = x.coalesce(r["days_left"], NO_DATE)
    share = x.when(
        (x.is_null(r["days_left"]), 0.0),
        (days < 0, closeness["overdue"]),
        *((days <= limit, share) for limit, share in closeness["bands"]),
        otherwise=closeness["later"],
    )
    balance = p["priority.balance"]
    points = (
        x.lookup(r["deadline_type"], p["priority.deadline_weight"], 0.0) * share
        + x.lookup(r["stage"], p["priority.stage_weight"], 0.0)
        + x.lookup(r["payroll_risk"], p["priority.payroll_weight"], 0.0)
        + x.lookup(r["passport_risk"], p["priority.passport_weight"], 0.0)
        + x.lookup(r["ro_risk"], p["priority.ro_weight"], 0.0)
        + balance["weight"] * x.clip(x.log10(r["bal"] + 1.0) / x.log10(x.lit(float(balance["full_at"]))), 0.0, 1.0)
    )
    return x.round(x.clip(points, 0.0, 100.0))


def _next_action(x: Any, r: Any, p: Any) -> Any:
    """One sentence a practitioner acts on, most urgent matter first (RR §2, §3, §9)."""
    d, form, period, kind, stage, cause = (
        r["next_deadline"], r["form"], r["tax_period"], r["deadline_type"], r["stage"], r["cause"])
    due = x.coalesce(r["days_left"], -1) >= 0
    return x.when(
        (x.all(x.eq(kind, "cdp_request"), x.eq(r["last_notice"], "L3172")),
         "Request a lien CDP hearing on Form 12153 by {date} to contest the lien filing and keep Tax Court review"),
        (x.all(x.eq(kind, "cdp_request"), x.eq(r["n_stage"], "levy_eligible")),
         "Levy already made: request a post-levy CDP hearing on Form 12153 by {date}"),
        (x.eq(kind, "cdp_request"), "Request a CDP hearing on Form 12153 by {date} to stop the levy and keep Tax Court review"),
        (x.all(x.eq(kind, "tax_court_petition"), x.eq(cause, "unfiled_sfr")),
         "File the original return for {period} and petition the Tax Court by {date} to contest the deficiency on the substitute for return"),
        (x.eq(kind, "tax_court_petition"), "Petition the Tax Court by {date} to contest the proposed {period} deficiency"),
        (x.eq(kind, "tfrp_protest"),
         "File a written protest of the proposed Trust Fund Recovery Penalty (Letter 1153) by {date} to keep Appeals review"),
        (x.eq(kind, "cp2000_response"), "Answer the CP2000 for {period} by {date}: agree, or disagree in writing with documents"),
        (x.eq(kind, "ia_default"),
         "Cure the installment agreement default or call the IRS by {date} (appeal through CAP, Form 9423) to keep the agreement"),
        (x.all(x.eq(stage, "revenue_officer"), x.not_(x.is_null(d))),
         "Meet the revenue officer's deadline of {date} with a collection information statement (Form 433-A or 433-B) ready"),
        (x.eq(stage, "revenue_officer"),
         "Call the revenue officer named on Letter 725-B and prepare a collection information statement (Form 433-A or 433-B)"),
        (x.eq(kind, "contact_irs"), "Call the IRS by {date} about the LT16 with a resolution proposal, before a revenue officer is assigned"),
        (x.all(x.eq(kind, "intent_to_levy"), due),
         "Pay the {form} {period} balance or set up an installment agreement before {date} to head off the final notice and levy"),
        (x.eq(kind, "equivalent_hearing"),
         "CDP window missed: request an equivalent hearing on Form 12153 by {date} (no Tax Court review), or appeal a levy through CAP (Form 9423)"),
        (x.eq(stage, "levy_eligible"),
         "Levy can proceed now: put a collection alternative in place (installment agreement, offer in compromise or CNC) and ask for any levy release"),
        (x.all(x.eq(cause, "unfiled_sfr"), x.eq(stage, "pre_assessment")),
         "File the original return for {period} (or show none is due) before the IRS assesses a substitute for return"),
        (x.eq(cause, "unfiled_sfr"), "File the original return for {period} to replace the SFR, then negotiate the corrected balance"),
        (x.eq(r["payroll_risk"], "tfrp_assessed"),
         "Protect the responsible person: installment agreement or offer on the TFRP, or pay one employee's share and claim a refund (Form 843) to contest it"),
        (x.isin(r["payroll_risk"], ("present", "pyramiding", "tfrp_proposed")),
         "Make current federal tax deposits first, then request an in-business trust fund installment agreement for the {form} {period} balance"),
        (x.eq(r["passport_risk"], "certified"),
         "Passport certified (CP508C): pay, or set up an installment agreement or offer, so the IRS reverses the certification"),
        (x.eq(r["passport_risk"], "certifiable"),
         "Prevent passport certification: set up an installment agreement or offer in compromise before the IRS certifies the debt"),
        (x.all(x.not_(x.is_null(d)), due), "Pay the {form} {period} balance by {date} or set up an installment agreement"),
        (x.eq(cause, "audit_adjustment"),
         "Check the {period} adjustment: request audit reconsideration if it is wrong, otherwise set up payment"),
        (x.eq(cause, "filed_unpaid"),
         "Set up payment for the {form} {period} balance (full pay, installment agreement or offer) and ask for first-time penalty abatement"),
        otherwise="Pull the account transcript to confirm the cause and the next IRS step",
        fill={"date": d, "form": form, "period": period},
    )


def _rule_issues(x: Any, r: Any, p: Any) -> Any:
    """Problems the rules see (parse problems come from acsxl.rules.values)."""
    fill = {"notice": r["last_notice"], "form": r["form"]}
    return x.join([
        x.when((x.all(x.not_(x.is_null(r["n_window"])), x.is_null(r["notice_date"]), x.is_null(r["response_due"])),
                "notice_date: missing, needed for the {notice} deadline"), fill=fill),
        x.when((x.all(x.is_true(r["sfr"]), x.eq(r["return_filed"], True)),
                "sfr/return_filed: conflicting flags (SFR yes and return filed yes); SFR taken")),
        x.when((x.all(x.isin(r["form"], QUARTERLY_FORMS), x.not_(x.is_null(r["tax_period"])), x.not_(x.matches(r["tax_period"], "Q"))),
                "tax_period: Form {form} is filed quarterly; give the quarter (e.g. 2025Q2)"), fill=fill),
    ], "; ")


_BEFORE_AGGREGATES: tuple[Step, ...] = (
    (
        ("family", lambda x, r, p: x.lookup(r["form"], FORM_FAMILY, None)),
        ("bal", lambda x, r, p: x.clip(x.coalesce(r["balance"], 0.0), 0.0, float("inf"))),
    ),
    (("owed", lambda x, r, p: r["bal"] > 0),),  # a flag, so rules that only ask "is anything owed" read codes
    (
        ("taxpayer_type", lambda x, r, p: x.coalesce(r["taxpayer_type_in"], x.lookup(r["family"], FAMILY_TAXPAYER, None))),
        ("individual_debt", _individual_debt),
        (("cause", "cause_reason"), _cause),
        (("window", "window_kind"), _window),
    ),
    (
        ("computed_deadline", _computed_deadline),
        ("eh_deadline", _eh_deadline),
        ("csed", _csed),
    ),
    (("cdp_passed", _cdp_passed),),
    (
        ("stage", _stage),
        (("deadline_type", "next_deadline"), _deadline),
    ),
    (("days_left", lambda x, r, p: x.days_between(r["next_deadline"], p.day)),),
)
_AFTER_AGGREGATES: tuple[Step, ...] = (
    (
        ("payroll_risk", _payroll_risk),
        ("passport_risk", _passport_risk),
        ("ro_risk", _ro_risk),
        ("rule_issues", _rule_issues),
    ),
    (
        ("priority", _priority),
        ("next_action", _next_action),
    ),
)
STEPS = _BEFORE_AGGREGATES + _AFTER_AGGREGATES
AGGREGATE_AFTER_STEP = len(_BEFORE_AGGREGATES)  # the aggregates read stage and cause

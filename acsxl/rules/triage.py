"""The triage rules, written once against the vocabulary in ``acsxl.rules.ops`` so the engine and the
scalar path share them. Each rule is a function ``rule(ops, case, law)`` declared with ``@rule``: the
columns it makes and the columns it reads. The order the rules run in is derived from those
declarations (``STEPS``), not scheduled by hand.

A rule reads the parsed case columns (``acsxl.rules.schema.FIELDS``; the taxpayer type as given is
``taxpayer_type_in``), the notice catalogue's fields joined as ``n_<field>``
(``acsxl.rules.catalogue.NoticeRule``), columns other rules make and, for the client-level rules, the
client aggregates in ``AGGREGATES``. "RR §n" cites ../shared/domain/rules-reference.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace
from typing import Any

from acsxl.rules import calendar
from acsxl.rules.catalogue import FORMS, NOTICE_FIELDS
from acsxl.rules.ops import Rule
from acsxl.rules.schema import FIELDS


@dataclass(frozen=True)
class Declared:
    """A rule with what it makes (one column, or several from one rule returning a tuple) and reads."""

    makes: tuple[str, ...]
    reads: tuple[str, ...]
    formula: Rule

    @property
    def name(self) -> str | tuple[str, ...]:
        return self.makes[0] if len(self.makes) == 1 else self.makes

    def __call__(self, ops: Any, case: Any, law: Any) -> Any:
        return self.formula(ops, case, law)


RULES: list[Declared] = []


def rule(*makes: str, reads: tuple[str, ...]) -> Callable[[Rule], Declared]:
    """Declare a rule: ``@rule("stage", reads=("last_notice", ...))``."""
    def declare(formula: Rule) -> Declared:
        declared = Declared(makes, reads, formula)
        RULES.append(declared)
        return declared
    return declare


@dataclass(frozen=True)
class Aggregate:
    """A client-level value: each case's contribution (``formula``), combined over the client's cases
    (``how``: sum, any, n_unique). The engine groups by client; the scalar path takes them as
    arguments (a single case stands for its client when they are not given)."""

    how: str
    reads: tuple[str, ...]
    formula: Rule


FORM_FAMILY = {code: f["family"] for code, f in FORMS.items()}
QUARTERLY_FORMS = tuple(code for code, f in FORMS.items() if f.get("quarterly"))
FAMILY_TAXPAYER = {"individual": "individual", "tfrp": "individual", "employment": "business", "business": "business"}

# Transcript evidence (RR §7.1) over codes normalised to ' 150 922 290 ' (values.normalize_tcs).
_CODE_END = "[ /=]"
TC_FILED = r" 150(=[0-9.,]*[1-9][0-9.,]*)?[ /]"  # original return with tax (no amount given counts)
TC_SFR = rf" 150=[0.,]+ (.* )?(290|300){_CODE_END}| 599{_CODE_END}"  # zero TC 150 then 290/300; TC 599
# AUR, exam, a TC 290 with tax after the TC 150 (a TC 290 for .00 assesses nothing: RR §7.1, §7.3)
TC_AUDIT = rf" (922|420|424|300){_CODE_END}|{TC_FILED}(.* )?290(=[0-9.,]*[1-9][0-9.,]*)?[ /]"
TC_LIEN = rf" 582{_CODE_END}"  # lien indicator: NFTL filed (RR §7.2)

NO_DATE = 10**6  # days_left stand-in for "no deadline" in comparisons


@rule("cause", "cause_reason", reads=("family", "sfr", "return_filed", "assessment_source", "n_cause_hint", "transaction_codes",
                                      "n_balance_due", "owed", "form", "last_notice"))
def cause(ops: Any, case: Any, law: Any) -> tuple[Any, Any]:
    """Cause precedence (issue #2): business forms and TFRP, explicit columns, the notice, transcript
    codes, then a balance-due notice on a filed return."""
    source = case["assessment_source"]
    return ops.choose(
        (ops.eq(case["family"], "employment"), "payroll_business", "Form {form} is an employment-tax (payroll) return"),
        (ops.eq(case["family"], "business"), "payroll_business", "Form {form} is a business return"),
        (ops.eq(case["family"], "tfrp"), "payroll_business", "Trust Fund Recovery Penalty assessed personally for a business's unpaid payroll tax (IRC 6672)"),
        (ops.is_true(case["sfr"]), "unfiled_sfr", "SFR column: the IRS assessed a substitute for return"),
        (ops.eq(case["return_filed"], False), "unfiled_sfr", "Return Filed column: no return was filed"),
        (ops.eq(source, "sfr"), "unfiled_sfr", "assessment source: substitute for return"),
        (ops.isin(source, ("aur", "exam", "math_error")), "audit_adjustment", "assessment source: {source}"),
        (ops.eq(source, "return"), "filed_unpaid", "assessment source: the filed return"),
        (ops.eq(case["n_cause_hint"], "unfiled_sfr"), "unfiled_sfr", "notice {notice} is sent when no return is on file"),
        (ops.eq(case["n_cause_hint"], "audit_adjustment"), "audit_adjustment", "notice {notice} proposes or bills an IRS adjustment"),
        (ops.eq(case["n_cause_hint"], "filed_unpaid"), "filed_unpaid",
         "notice {notice}: changes made at the taxpayer's request on a filed return, not an IRS adjustment"),
        (ops.matches(case["transaction_codes"], TC_SFR), "unfiled_sfr", "transcript: zero TC 150 then TC 290/300, or TC 599, marks a substitute for return"),
        (ops.matches(case["transaction_codes"], TC_AUDIT), "audit_adjustment",
         "transcript: TC 922, 420/424, 300, or TC 290 after the original TC 150: an IRS adjustment"),
        (ops.all(ops.is_true(case["n_balance_due"]), ops.any(ops.eq(case["return_filed"], True), ops.matches(case["transaction_codes"], TC_FILED))),
         "filed_unpaid", "balance-due notice {notice} on a filed return"),
        (ops.all(ops.eq(case["return_filed"], True), case["owed"]), "filed_unpaid", "return filed with a balance due"),
        otherwise=("unknown", "no evidence of the cause: fill Return Filed, SFR or Assessment Source, or add transcript codes"),
        fill={"form": case["form"], "notice": case["last_notice"], "source": source},
    )


@rule("window", "window_kind", reads=("n_large_window", "n_large_window_kind", "n_window", "n_window_kind", "bal"))
def window(ops: Any, case: Any, law: Any) -> tuple[Any, Any]:
    """The notice's window; the large-balance window when the balance reaches the threshold (§6651(a)(3))."""
    large = ops.all(ops.not_(ops.is_null(case["n_large_window"])), case["bal"] >= law.windows.large_balance_threshold)
    return ops.choose((large, case["n_large_window"], case["n_large_window_kind"]), otherwise=(case["n_window"], case["n_window_kind"]))


@rule("computed_deadline", reads=("notice_date", "response_due", "window", "window_kind"))
def computed_deadline(ops: Any, case: Any, law: Any) -> Any:
    """The printed due date wins; else notice date + window, rolled past weekends and D.C. holidays
    (IRC §7503); business-day windows count business days."""
    start = case["notice_date"]
    return ops.when(
        (ops.not_(ops.is_null(case["response_due"])), case["response_due"]),
        (ops.eq(case["window_kind"], "business"), ops.add_business_days(start, case["window"])),
        (ops.eq(case["window_kind"], "calendar"), ops.roll_forward(ops.add_days(start, case["window"]))),
        otherwise=None,
    )


@rule("eh_deadline", reads=("n_cdp", "notice_date"))
def eh_deadline(ops: Any, case: Any, law: Any) -> Any:
    """Equivalent hearing: one year from the CDP notice date (Reg. 301.6330-1(i); RR §2)."""
    years = law.windows.equivalent_hearing
    return ops.when((ops.is_true(case["n_cdp"]), ops.roll_forward(ops.add_years(case["notice_date"], years))), otherwise=None)


@rule("cdp_passed", reads=("n_cdp", "computed_deadline"))
def cdp_passed(ops: Any, case: Any, law: Any) -> Any:
    return ops.all(ops.is_true(case["n_cdp"]), ops.coalesce(ops.days_between(case["computed_deadline"], law.as_of), 0) < 0)


@rule("levy_barred", reads=("collection_status",))
def levy_barred(ops: Any, case: Any, law: Any) -> Any:
    """The collection status bars or suspends levy: an agreement in effect or pending, an offer pending
    (IRC §6331(k)), a CDP hearing pending (§6330(e)(1)), bankruptcy (11 U.S.C. §362(a)(6)), innocent
    spouse relief requested (§6015(e)(1)(B)) (RR §2.1)."""
    return ops.isin(case["collection_status"], law.levy.barring_statuses)


@rule("stage", reads=("collection_status", "last_notice", "levy_issued", "cdp_passed", "n_stage", "levy_barred"))
def stage(ops: Any, case: Any, law: Any) -> Any:
    """The notice's stage, except: a revenue officer; levy_eligible once a levy is made or a levy CDP
    window has passed, unless the status bars levy (RR §2.1); a lapsed lien window stays a lien stage,
    since §6320 gives no levy authority (§6330(a)(1); RR §2.2)."""
    return ops.when(
        (ops.any(ops.eq(case["collection_status"], "revenue_officer"), ops.eq(case["last_notice"], "L725B")), "revenue_officer"),
        (case["levy_barred"], case["n_stage"]),
        (ops.is_true(case["levy_issued"]), "levy_eligible"),
        (ops.all(case["cdp_passed"], ops.not_(ops.eq(case["n_stage"], "lien"))), "levy_eligible"),
        otherwise=case["n_stage"],
    )


@rule("deadline_type", "next_deadline", reads=("cdp_passed", "eh_deadline", "computed_deadline", "n_deadline_type", "n_cdp",
                                               "collection_status"))
def deadline(ops: Any, case: Any, law: Any) -> tuple[Any, Any]:
    """After a missed CDP window the running deadline is the equivalent hearing, then nothing. A CDP
    hearing requested in time (status cdp_pending) leaves no window running: nothing was missed (RR §2.1)."""
    eh_open = ops.all(case["cdp_passed"], ops.coalesce(ops.days_between(case["eh_deadline"], law.as_of), -1) >= 0)
    return ops.choose(
        (ops.all(ops.is_true(case["n_cdp"]), ops.eq(case["collection_status"], "cdp_pending")), None, None),
        (eh_open, "equivalent_hearing", case["eh_deadline"]),
        (case["cdp_passed"], None, None),
        (ops.is_null(case["computed_deadline"]), None, None),
        otherwise=(ops.coalesce(case["n_deadline_type"], "respond_by"), case["computed_deadline"]),
    )


@rule("csed", reads=("assessed_date", "tolling_days"))
def csed(ops: Any, case: Any, law: Any) -> Any:
    """Ten years from assessment plus tolling days (IRC §6502(a); RR §4)."""
    return ops.add_days(ops.add_years(case["assessed_date"], law.csed.years), ops.clip(ops.coalesce(case["tolling_days"], 0), 0, NO_DATE))


@rule("csed_status", "csed_note", reads=("csed", "collection_status"))
def csed_status(ops: Any, case: Any, law: Any) -> tuple[Any, Any]:
    """Where the collection statute stands (RR §4.1, §4.2): suspended while the collection status
    suspends it (the CSED shown is then only the earliest it can end); expired once past (IRC §6502:
    no levy or suit may begin; not seriously delinquent, §7345(b)(1)); short within the horizon
    (IRM 8.21.5); else running. Nothing without an assessment date."""
    csed = case["csed"]
    horizon = calendar.add_months(law.as_of, law.csed.short_statute_months)
    return ops.choose(
        (ops.is_null(csed), None, None),
        (ops.isin(case["collection_status"], law.csed.suspending_statuses), "suspended",
         "suspended by the collection status: the CSED shown is the earliest it can end, and it runs later"),
        (ops.coalesce(ops.days_between(csed, law.as_of), 0) < 0, "expired",
         "past the CSED: the balance may no longer be legally enforceable (IRC §6502)"),
        (ops.coalesce(ops.days_between(csed, horizon), 1) <= 0, "short",
         "a short statute: the CSED falls within the horizon of IRM 8.21.5 (csed.short_statute_months)"),
        otherwise=("running", None),
    )


@rule("individual_debt", reads=("family", "taxpayer_type_in"))
def individual_debt(ops: Any, case: Any, law: Any) -> Any:
    """Only an individual's debt counts for §7345: 1040 and TFRP rows, rows marked individual (RR §5.1)."""
    return ops.any(ops.isin(case["family"], ("individual", "tfrp")), ops.eq(case["taxpayer_type_in"], "individual"))


@rule("passport_debt", reads=("individual_debt", "n_stage", "csed_status", "collection_status", "last_notice", "lien_filed",
                               "transaction_codes", "levy_issued", "cdp_passed"))
def passport_debt(ops: Any, case: Any, law: Any) -> Any:
    """How this period counts for §7345, each period on its own (IRS Notice 2018-1; RR §5.1, §5.3):
    ``none`` when it is not an individual's, not assessed (a deficiency or TFRP only proposed: the
    notice's stage is pre-assessment) or past its CSED (not legally enforceable); ``excluded`` under an
    exclusion (§7345(b)(2), IRM 5.19.25; an agreement in default, CP523, is no longer "paid in a timely
    manner", RR §5.2); ``countable`` when a lien is filed and its §6320 window has lapsed, or a levy
    was made (§7345(b)(1)(C)); else ``eligible`` (it would count with a lien or levy)."""
    lien_window_open = ops.all(ops.eq(case["last_notice"], "L3172"), ops.not_(case["cdp_passed"]))
    lien = ops.all(ops.any(ops.is_true(case["lien_filed"]), ops.matches(case["transaction_codes"], TC_LIEN)), ops.not_(lien_window_open))
    defaulted = ops.all(ops.eq(case["collection_status"], "installment_agreement"), ops.eq(case["last_notice"], "CP523"))
    return ops.when(
        (ops.not_(case["individual_debt"]), "none"),
        (ops.eq(case["n_stage"], "pre_assessment"), "none"),
        (ops.eq(case["csed_status"], "expired"), "none"),
        (ops.all(ops.isin(case["collection_status"], law.passport.exclusion_statuses), ops.not_(defaulted)), "excluded"),
        (ops.any(lien, ops.is_true(case["levy_issued"])), "countable"),
        otherwise="eligible",
    )


def _passport_sum(*kinds: str) -> Aggregate:
    return Aggregate("sum", ("passport_debt", "bal"), lambda ops, case, law: ops.when(
        (ops.isin(case["passport_debt"], kinds), case["bal"]), otherwise=0.0))


# Client-level aggregates, by name (read by the client-level rules below).
AGGREGATES: dict[str, Aggregate] = {
    "client_total": Aggregate("sum", ("bal",), lambda ops, case, law: case["bal"]),
    # An individual's assessed, enforceable debt; of it, what is not excluded; of that, what meets the lien or levy leg (RR §5.1).
    "individual_total": _passport_sum("excluded", "eligible", "countable"),
    "eligible_total": _passport_sum("eligible", "countable"),
    "countable_total": _passport_sum("countable"),
    "certified": Aggregate("any", ("individual_debt", "last_notice"), lambda ops, case, law: ops.all(case["individual_debt"], ops.eq(case["last_notice"], "CP508C"))),
    "tfrp_letter": Aggregate("any", ("last_notice",), lambda ops, case, law: ops.eq(case["last_notice"], "L1153")),
    "ro_assigned": Aggregate("any", ("stage",), lambda ops, case, law: ops.eq(case["stage"], "revenue_officer")),
    "payroll_periods": Aggregate("n_unique", ("family", "owed", "form", "tax_period"), lambda ops, case, law: ops.when(
        (ops.all(ops.eq(case["family"], "employment"), case["owed"]), ops.key(case["form"], case["tax_period"])), otherwise=None)),
    "unfiled_periods": Aggregate("n_unique", ("cause", "form", "tax_period"), lambda ops, case, law: ops.when(
        (ops.eq(case["cause"], "unfiled_sfr"), ops.key(case["form"], case["tax_period"])), otherwise=None)),
}


@rule("payroll_risk", reads=("last_notice", "family", "tfrp_letter", "payroll_periods", "owed"))
def payroll_risk(ops: Any, case: Any, law: Any) -> Any:
    employment = ops.eq(case["family"], "employment")
    return ops.when(
        (ops.eq(case["last_notice"], "L1153"), "tfrp_proposed"),  # IRC §6672(b) preliminary notice (RR §1.4)
        (ops.eq(case["family"], "tfrp"), "tfrp_assessed"),
        (ops.all(employment, case["tfrp_letter"]), "tfrp_proposed"),
        (ops.all(employment, case["payroll_periods"] >= law.payroll.pyramiding_periods), "pyramiding"),
        (ops.all(employment, case["owed"]), "present"),
        otherwise="none",
    )


@rule("passport_risk", reads=("individual_debt", "certified", "countable_total", "eligible_total", "individual_total"))
def passport_risk(ops: Any, case: Any, law: Any) -> Any:
    """IRC §7345 over the periods that meet the test (RR §5.1, §5.3): ``certifiable`` when they add up
    to more than the year's threshold; ``certifiable_if_lower`` when only the lowest amount the sources
    leave open for the year is exceeded (2026: $65,000 against the $66,000 default), rather than
    under-warning; ``excluded`` when only excluded debt takes the total over; ``at_risk`` when the debt
    that is not excluded passes the band (a lien or levy would make it count)."""
    threshold = law.passport.threshold
    return ops.when(
        (ops.not_(case["individual_debt"]), "none"),
        (case["certified"], "certified"),
        (case["countable_total"] > threshold, "certifiable"),
        (case["countable_total"] > law.low("passport.threshold"), "certifiable_if_lower"),
        (ops.all(case["individual_total"] > threshold, case["eligible_total"] <= threshold), "excluded"),
        (case["eligible_total"] > threshold * law.passport.near_threshold_band, "at_risk"),
        otherwise="none",
    )


@rule("ro_risk", reads=("ro_assigned", "client_total", "payroll_periods", "unfiled_periods"))
def ro_risk(ops: Any, case: Any, law: Any) -> Any:
    """Revenue-officer risk: practice heuristics, not published IRS thresholds (RR §6.1, §10.10)."""
    return ops.when(
        (case["ro_assigned"], "assigned"),
        (ops.any(
            case["client_total"] >= law.revenue_officer.balance_heuristic,
            case["payroll_periods"] >= law.payroll.pyramiding_periods,
            case["unfiled_periods"] >= law.revenue_officer.unfiled_periods,
        ), "elevated"),
        otherwise="none",
    )


@rule("closing_right", reads=("deadline_type", "days_left"))
def closing_right(ops: Any, case: Any, law: Any) -> Any:
    """A right is lost when the running deadline passes, within the ranking horizon: such rows rank
    before every other, nearest first (RR §3.2; priority.right_deadlines, priority.right_horizon_days)."""
    days = ops.coalesce(case["days_left"], -1)
    return ops.all(ops.isin(case["deadline_type"], law.priority.right_deadlines), days >= 0, days <= law.priority.right_horizon_days)


@rule("priority", reads=("days_left", "deadline_type", "stage", "payroll_risk", "passport_risk", "ro_risk", "bal", "levy_barred",
                          "csed_status"))
def priority(ops: Any, case: Any, law: Any) -> Any:
    """0-100: the running deadline (by type, scaled by closeness; a deadline that lost a right scores
    nothing once passed, RR §3.1; none past the collection statute), levy exposure by stage (none while the status bars levy, RR §2.1, or
    once the collection statute has ended, §6502(a)), a short statute (RR §4.2), payroll/TFRP, passport
    and revenue-officer risk, balance size. Weights: parameters.toml, priority.*."""
    closeness = law.priority.deadline_closeness
    days = ops.coalesce(case["days_left"], NO_DATE)
    share = ops.when(
        (ops.is_null(case["days_left"]), 0.0),
        (ops.eq(case["csed_status"], "expired"), 0.0),  # past the statute nothing is urgent collection work (§6502(a); RR §4.2)
        (ops.all(days < 0, ops.isin(case["deadline_type"], law.priority.right_deadlines)), 0.0),
        (days < 0, closeness["overdue"]),
        *((days <= limit, share) for limit, share in closeness["bands"]),
        otherwise=closeness["later"],
    )
    balance = law.priority.balance
    points = (
        ops.lookup(case["deadline_type"], law.priority.deadline_weight, 0.0) * share
        + ops.when((ops.any(case["levy_barred"], ops.eq(case["csed_status"], "expired")), 0.0),
                   otherwise=ops.lookup(case["stage"], law.priority.stage_weight, 0.0))
        + ops.lookup(case["csed_status"], law.priority.csed_weight, 0.0)
        + ops.lookup(case["payroll_risk"], law.priority.payroll_weight, 0.0)
        + ops.lookup(case["passport_risk"], law.priority.passport_weight, 0.0)
        + ops.lookup(case["ro_risk"], law.priority.ro_weight, 0.0)
        + balance["weight"] * ops.clip(ops.log10(case["bal"] + 1.0) / ops.log10(ops.lit(float(balance["full_at"]))), 0.0, 1.0)
    )
    return ops.round(ops.clip(points, 0.0, 100.0))


TC_AUR_ALONE = rf" 922{_CODE_END}"  # the underreporter flag: nothing assessed by it (RR §7.3)
TC_ASSESSED_ADJUSTMENT = rf" (420|424|300){_CODE_END}|{TC_FILED}(.* )?290(=[0-9.,]*[1-9][0-9.,]*)?[ /]"


@rule("irs_prepared", reads=("family", "sfr", "return_filed", "assessment_source", "transaction_codes"))
def irs_prepared(ops: Any, case: Any, law: Any) -> Any:
    """A business return the IRS prepared (IRC §6020(b)): the original return replaces it (RR §7.3)."""
    return ops.all(ops.isin(case["family"], ("employment", "business")), ops.any(
        ops.is_true(case["sfr"]), ops.eq(case["return_filed"], False), ops.eq(case["assessment_source"], "sfr"),
        ops.matches(case["transaction_codes"], TC_SFR)))


@rule("aur_flag_only", reads=("transaction_codes",))
def aur_flag_only(ops: Any, case: Any, law: Any) -> Any:
    """TC 922 with no assessed adjustment: the underreporter program's early warning (RR §7.3)."""
    return ops.all(ops.matches(case["transaction_codes"], TC_AUR_ALONE), ops.not_(ops.matches(case["transaction_codes"], TC_ASSESSED_ADJUSTMENT)))


@dataclass(frozen=True)
class Action:
    """One next action: its code, when it applies (the first that does wins) and its sentence, a template
    filled with {date}, {form}, {period}, {abroad} and {ftp_days}."""

    code: str
    applies: Callable[[Any, Any], Any]  # (ops, facts) -> condition; facts: see ``action``
    text: str


ABROAD = " (longer, {abroad}, if the notice was addressed outside the U.S.: check the date printed on it)"

# Most urgent matter first (RR §2, §2.1-§2.3, §3, §3.1, §9).
ACTIONS: tuple[Action, ...] = (
    # Past the statute nothing is collectible: not to be paid before it is verified (RR §4.2).
    Action("statute_expired", lambda ops, f: ops.eq(f.statute, "expired"),
           "Collection statute ended (see the CSED note): verify the CSED of each assessment from the account transcript before paying anything; "
           "the balance may be unenforceable (IRC §6502) and a payment after it is an overpayment (IRC §6401(a))"),
    # A timely CDP request: nothing was missed, levy and the statute are suspended (RR §2.1).
    Action("cdp_hearing_pending", lambda ops, f: ops.eq(f.status, "cdp_pending"),
           "CDP hearing requested: levy and the collection statute are suspended while it is pending (IRC §6330(e)(1)); prepare the collection "
           "alternative and financial statement for Appeals, and petition the Tax Court within 30 days of the notice of determination (IRC §6330(d)(1))"),
    Action("lien_cdp_request", lambda ops, f: ops.all(ops.eq(f.kind, "cdp_request"), ops.eq(f.notice, "L3172")),
           "Request a lien CDP hearing on Form 12153 by {date} to contest the lien filing and keep Tax Court review"),
    Action("post_levy_cdp_request", lambda ops, f: ops.all(ops.eq(f.kind, "cdp_request"), ops.eq(f.case["n_stage"], "levy_eligible")),
           "Levy already made: request a post-levy CDP hearing on Form 12153 by {date}"),
    Action("cdp_request", lambda ops, f: ops.eq(f.kind, "cdp_request"),
           "Request a CDP hearing on Form 12153 by {date} to stop the levy and keep Tax Court review"),
    # Notices of deficiency: the petition window, then what is left after it (RR §3, §3.1).
    Action("petition_sfr", lambda ops, f: ops.all(ops.eq(f.kind, "tax_court_petition"), f.due, ops.eq(f.cause, "unfiled_sfr")),
           "File the original return for {period} and petition the Tax Court by {date} to contest the deficiency on the substitute for return" + ABROAD),
    Action("petition", lambda ops, f: ops.all(ops.eq(f.kind, "tax_court_petition"), f.due),
           "Petition the Tax Court by {date} to contest the proposed {period} deficiency; do not just pay a proposed deficiency" + ABROAD),
    Action("petition_closed_sfr", lambda ops, f: ops.all(ops.eq(f.kind, "tax_court_petition"), ops.eq(f.cause, "unfiled_sfr")),
           "Tax Court window closed on {date}: file the original {period} return to have the substitute for return reconsidered "
           "(audit reconsideration, IRM 4.13.1), or pay and claim a refund; if the notice never arrived, raise the liability in a CDP hearing"),
    Action("petition_closed", lambda ops, f: ops.eq(f.kind, "tax_court_petition"),
           "Tax Court window closed on {date}, the deficiency is assessed by default: request audit reconsideration with the missing documents "
           "(IRM 4.13.1), or pay and claim a refund; if the notice never arrived, raise the liability in a CDP hearing (IRC §6330(c)(2)(B))"),
    Action("tfrp_protest", lambda ops, f: ops.all(ops.eq(f.kind, "tfrp_protest"), f.due),
           "File a written protest of the proposed Trust Fund Recovery Penalty (Letter 1153) by {date} to keep Appeals review" + ABROAD),
    Action("tfrp_protest_closed", lambda ops, f: ops.eq(f.kind, "tfrp_protest"),
           "TFRP protest window closed on {date}: if Letter 1153 was received, the penalty can no longer be contested in a CDP hearing "
           "(Kazmi, T.C. Memo. 2022-13): pay one employee's withholding for one quarter and claim a refund (Form 843); if it never arrived, "
           "contest it in a CDP hearing (Mason, 132 T.C. 301)"),
    Action("cp2000_answer", lambda ops, f: ops.all(ops.eq(f.kind, "cp2000_response"), f.due),
           "Answer the CP2000 for {period} by {date}: agree, or disagree in writing with documents" + ABROAD),
    Action("cp2000_closed", lambda ops, f: ops.eq(f.kind, "cp2000_response"),
           "CP2000 window closed on {date}: a notice of deficiency follows; answer the CP2000 now anyway, and petition the Tax Court within the "
           "90 days printed on the notice of deficiency"),
    # A short statute: an agreement or offer would suspend it (IRC §6331(k), RR §4.1), so it is weighed first.
    Action("short_statute", lambda ops, f: ops.eq(f.statute, "short"),
           "Short collection statute (see the CSED note): verify it from the account transcript, and weigh that an installment agreement "
           "or offer would suspend it, before proposing one for the {form} {period} balance"),
    Action("ia_default_cure", lambda ops, f: ops.all(ops.eq(f.kind, "ia_default"), f.due),
           "Cure the installment agreement default or call the IRS by {date} (appeal through CAP, Form 9423) to keep the agreement"),
    Action("ia_default_passed", lambda ops, f: ops.eq(f.kind, "ia_default"),
           "CP523 date {date} has passed: the IRS may terminate the agreement (levy stays barred 30 days after a termination, IRC §6331(k)(2)); "
           "appeal through CAP (Form 9423) or ask to reinstate it now; an agreement in default no longer keeps the passport exclusion"),
    # What the collection status means (RR §2.1, §9.3).
    Action("bankruptcy", lambda ops, f: ops.eq(f.status, "bankruptcy"),
           "Bankruptcy: the automatic stay bars levy on taxes from before the petition (11 U.S.C. §362(a)(6)) and the collection statute is "
           "suspended for the stay plus 6 months (IRC §6503(h)); check the IRS's proof of claim and keep returns and taxes after the petition current"),
    Action("installment_agreement", lambda ops, f: ops.eq(f.status, "installment_agreement"),
           "Installment agreement in effect: levy is barred (IRC §6331(k)(2)); keep every payment, return and new tax on time so it does not default"),
    Action("ia_pending", lambda ops, f: ops.eq(f.status, "ia_pending"),
           "Installment agreement requested: levy is barred while it is pending and 30 days after a rejection (IRC §6331(k)(2)); follow it up, "
           "keep filings current, and appeal a rejection through CAP (Form 9423)"),
    Action("oic_pending", lambda ops, f: ops.eq(f.status, "oic_pending"),
           "Offer in compromise pending: levy is barred while it is pending and 30 days after a rejection (IRC §6331(k)(1)); keep filings and "
           "estimated payments current and appeal a rejection within 30 days"),
    Action("innocent_spouse", lambda ops, f: ops.eq(f.status, "innocent_spouse"),
           "Innocent spouse relief requested: levy for the assessment at issue is barred until the Tax Court period after the determination "
           "ends (IRC §6015(e)(1)(B)); answer the IRS's requests, and petition within 90 days of a denial"),
    Action("revenue_officer_deadline", lambda ops, f: ops.all(ops.eq(f.stage, "revenue_officer"), ops.not_(ops.is_null(f.d))),
           "Meet the revenue officer's deadline of {date} with a collection information statement (Form 433-A or 433-B) ready"),
    Action("revenue_officer_call", lambda ops, f: ops.eq(f.stage, "revenue_officer"),
           "Call the revenue officer named on Letter 725-B and prepare a collection information statement (Form 433-A or 433-B)"),
    Action("lt16_call", lambda ops, f: ops.eq(f.kind, "contact_irs"),
           "Call the IRS by {date} about the LT16 with a resolution proposal, before a revenue officer is assigned"),
    Action("intent_to_levy_pay", lambda ops, f: ops.all(ops.eq(f.kind, "intent_to_levy"), f.due),
           "Pay the {form} {period} balance or set up an installment agreement before {date} to head off the final notice and levy; "
           "the failure-to-pay penalty doubles to 1% a month from the first month that begins more than {ftp_days} days "
           "after the notice date (IRC §6651(d))"),
    # A lapsed lien window: the lien remains, not a levy (RR §2.2).
    Action("lien_equivalent_hearing", lambda ops, f: ops.all(ops.eq(f.kind, "equivalent_hearing"), ops.eq(f.notice, "L3172")),
           "Lien CDP window missed: request a lien equivalent hearing on Form 12153 by {date} (no Tax Court review), appeal through CAP "
           "(Form 9423), or ask for withdrawal (Form 12277), discharge or subordination of the lien; levy still needs a levy CDP notice"),
    Action("equivalent_hearing", lambda ops, f: ops.eq(f.kind, "equivalent_hearing"),
           "CDP window missed: request an equivalent hearing on Form 12153 by {date} (no Tax Court review), or appeal a levy through CAP (Form 9423)"),
    Action("lien_relief", lambda ops, f: ops.eq(f.stage, "lien"),
           "Lien filed and its hearing windows passed: appeal through CAP (Form 9423), or ask for withdrawal (Form 12277, e.g. once an "
           "installment agreement is in place), discharge or subordination; levy still needs a levy CDP notice (IRC §6330(a)(1))"),
    Action("levy_file_first", lambda ops, f: ops.all(ops.eq(f.stage, "levy_eligible"), ops.any(ops.eq(f.cause, "unfiled_sfr"), f.prepared_by_irs)),
           "Levy can proceed now: file every missing return first (an offer cannot be processed, nor an agreement granted, without them: "
           "Form 656-B), then put a collection alternative in place and ask for any levy release"),
    Action("levy_alternative", lambda ops, f: ops.eq(f.stage, "levy_eligible"),
           "Levy can proceed now: put a collection alternative in place (installment agreement, offer in compromise or CNC) and ask for any levy release"),
    Action("cnc", lambda ops, f: ops.isin(f.status, ("cnc", "cnc_hardship")),
           "Currently not collectible: collection is on hold but can resume; keep filing and paying new taxes, and review if income rises"),
    Action("file_before_sfr", lambda ops, f: ops.all(ops.eq(f.cause, "unfiled_sfr"), ops.eq(f.stage, "pre_assessment")),
           "File the original return for {period} (or show none is due) before the IRS assesses a substitute for return"),
    Action("file_replace_sfr", lambda ops, f: ops.eq(f.cause, "unfiled_sfr"),
           "File the original return for {period} to replace the SFR, then negotiate the corrected balance"),
    Action("file_6020b", lambda ops, f: f.prepared_by_irs,
           "File the original Form {form} return for {period} to replace the one the IRS prepared (IRC §6020(b)), then resolve the corrected balance"),
    Action("tfrp_assessed", lambda ops, f: ops.eq(f.case["payroll_risk"], "tfrp_assessed"),
           "Protect the responsible person: installment agreement or offer on the TFRP, or pay one employee's share and claim a refund (Form 843) to contest it"),
    Action("payroll_deposits", lambda ops, f: ops.isin(f.case["payroll_risk"], ("present", "pyramiding", "tfrp_proposed")),
           "Make current federal tax deposits first, then request an in-business trust fund installment agreement for the {form} {period} balance"),
    Action("passport_certified", lambda ops, f: ops.eq(f.case["passport_risk"], "certified"),
           "Passport certified (CP508C): pay, or set up an installment agreement or offer, so the IRS reverses the certification"),
    Action("passport_prevent", lambda ops, f: ops.isin(f.case["passport_risk"], ("certifiable", "certifiable_if_lower")),
           "Prevent passport certification: set up an installment agreement or offer in compromise before the IRS certifies the debt"),
    Action("pay_by", lambda ops, f: ops.all(ops.not_(ops.is_null(f.d)), f.due),
           "Pay the {form} {period} balance by {date} or set up an installment agreement"),
    Action("aur_early_warning", lambda ops, f: f.case["aur_flag_only"],
           "Early warning: the underreporter program flagged {period} (TC 922) but nothing is assessed yet: compare the Wage & Income "
           "transcript with the return and amend before a CP2000 arrives"),
    Action("audit_check", lambda ops, f: ops.eq(f.cause, "audit_adjustment"),
           "Check the {period} adjustment: request audit reconsideration if it is wrong, otherwise set up payment"),
    Action("set_up_payment", lambda ops, f: ops.eq(f.cause, "filed_unpaid"),
           "Set up payment for the {form} {period} balance (full pay, installment agreement or offer) and ask for first-time penalty abatement"),
)
ACTION_TEXTS = {a.code: a.text for a in ACTIONS}
NO_ACTION = Action("pull_transcript", lambda ops, f: True, "Pull the account transcript to confirm the cause and the next IRS step")


@rule("action", reads=("next_deadline", "deadline_type", "stage", "cause", "last_notice", "n_stage", "payroll_risk", "passport_risk",
                        "csed_status", "collection_status", "irs_prepared", "aur_flag_only"))
def action(ops: Any, case: Any, law: Any) -> Any:
    """Which next action applies (``ACTIONS``, first match), as a code: decided from codes and flags only,
    so the sentence (``next_action``) is then only filled in."""
    facts = SimpleNamespace(
        case=case, d=case["next_deadline"], kind=case["deadline_type"], stage=case["stage"], cause=case["cause"],
        statute=case["csed_status"], status=case["collection_status"], notice=case["last_notice"], prepared_by_irs=case["irs_prepared"],
        due=ops.coalesce(ops.days_between(case["next_deadline"], law.as_of), -1) >= 0)
    return ops.first(((partial(a.applies, ops, facts), a.code) for a in ACTIONS), otherwise=NO_ACTION.code)


@rule("next_action", reads=("action", "next_deadline", "form", "tax_period", "n_abroad"))
def next_action(ops: Any, case: Any, law: Any) -> Any:
    """One sentence a practitioner acts on: the action's text, filled in."""
    return ops.pick(case["action"], ACTION_TEXTS, NO_ACTION.text,
                    fill={"date": case["next_deadline"], "form": case["form"], "period": case["tax_period"], "abroad": case["n_abroad"],
                          "ftp_days": law.penalties.ftp_rate_doubles_after})


@rule("rule_problems", reads=("n_window", "notice_date", "response_due", "sfr", "return_filed", "form", "tax_period", "last_notice",
                               "n_track", "n_counterpart", "taxpayer_type", "individual_debt", "eligible_total", "csed_status", "ro_risk",
                               "client_total"))
def rule_problems(ops: Any, case: Any, law: Any) -> Any:
    """Problems the rules see (a bad or missing input value is reported by the parsers,
    acsxl.rules.values), and an unverified parameter shown on the rows where it decides something."""
    threshold = law.caveat("passport.threshold")
    horizon = law.caveat("csed.short_statute_months")
    heuristic = law.caveat("revenue_officer.balance_heuristic")
    track, kind = case["n_track"], case["taxpayer_type"]
    caveats = [
        ("passport_risk", ops.all(case["individual_debt"],
                                  case["eligible_total"] > law.low("passport.threshold") * law.passport.near_threshold_band), threshold, None),
        ("csed_status", ops.eq(case["csed_status"], "short"), horizon, None),
        ("ro_risk", ops.all(ops.eq(case["ro_risk"], "elevated"), case["client_total"] >= law.revenue_officer.balance_heuristic), heuristic, None),
    ]
    return ops.problems(
        ("notice_date", ops.all(ops.not_(ops.is_null(case["n_window"])), ops.is_null(case["notice_date"]), ops.is_null(case["response_due"])),
         "missing, needed for the {notice} deadline", None),
        ("sfr/return_filed", ops.all(ops.is_true(case["sfr"]), ops.eq(case["return_filed"], True)),
         "conflicting flags (SFR yes and return filed yes); SFR taken", None),
        ("tax_period", ops.all(ops.isin(case["form"], QUARTERLY_FORMS), ops.not_(ops.is_null(case["tax_period"])), ops.not_(ops.matches(case["tax_period"], "Q"))),
         "Form {form} is filed quarterly; give the quarter (e.g. 2025Q2)", case["tax_period"]),
        # The catalogue's track: a CP14 on a 941 (CP161), a CP504 on a 941 (CP504B) (RR §1.2, §1.3).
        ("last_notice", ops.any(ops.all(ops.eq(track, "individual"), ops.eq(kind, "business")), ops.all(ops.eq(track, "business"), ops.eq(kind, "individual"))),
         "notice {notice} is sent to {track} taxpayers but this is a {kind}'s Form {form}{instead}: check the notice code or the form", case["last_notice"]),
        *((*caveat, "unverified") for caveat in caveats if caveat[2]),  # a caveat has no {fields}: its text is shown as written
        fill={"notice": case["last_notice"], "form": case["form"], "track": track, "kind": kind,
              "instead": ops.coalesce(ops.fmt(" (a {} gets {})", kind, case["n_counterpart"]), "")},
    )


@rule("family", reads=("form",))
def family(ops: Any, case: Any, law: Any) -> Any:
    """The form's family: individual, tfrp, employment or business (catalogue.toml)."""
    return ops.lookup(case["form"], FORM_FAMILY, None)


@rule("bal", reads=("balance",))
def bal(ops: Any, case: Any, law: Any) -> Any:
    """The balance as the rules count it: missing or negative is nothing owed."""
    return ops.clip(ops.coalesce(case["balance"], 0.0), 0.0, float("inf"))


@rule("owed", reads=("bal",))
def owed(ops: Any, case: Any, law: Any) -> Any:
    """A flag, so rules that only ask "is anything owed" read codes, not amounts."""
    return case["bal"] > 0


@rule("taxpayer_type", reads=("taxpayer_type_in", "family"))
def taxpayer_type(ops: Any, case: Any, law: Any) -> Any:
    """As given, else from the form's family."""
    return ops.coalesce(case["taxpayer_type_in"], ops.lookup(case["family"], FAMILY_TAXPAYER, None))


@rule("days_left", reads=("next_deadline",))
def days_left(ops: Any, case: Any, law: Any) -> Any:
    """Days from the as-of date to the running deadline; negative once passed."""
    return ops.days_between(case["next_deadline"], law.as_of)


# -- the order the rules run in, derived from what they read and make --------------------------------

# The case columns as parsed (the taxpayer type as given is taxpayer_type_in: the rules make the one used)
# and the notice catalogue's fields.
INPUTS = frozenset({f.name for f in FIELDS if f.name != "taxpayer_type"} | {"taxpayer_type_in"} | {f"n_{name}" for name in NOTICE_FIELDS})
Step = tuple[Declared, ...]


def _levels() -> tuple[dict[str, int], int]:
    """Each column's level: 0 for an input, else one more than the deepest column its rule reads; and
    the level of the client aggregates (one more than the deepest column they read)."""
    makers = {name: r for r in RULES for name in r.makes}
    aggregate_reads = {name for a in AGGREGATES.values() for name in a.reads}
    level: dict[str, int] = dict.fromkeys(INPUTS, 0)
    visiting: set[str] = set()

    def of(name: str) -> int:
        if name in level:
            return level[name]
        if name in AGGREGATES:
            return aggregates()
        if name not in makers:
            raise LookupError(f"no rule makes {name!r} and it is not an input")
        if name in visiting:
            raise LookupError(f"rules read each other in a circle at {name!r}")
        visiting.add(name)
        depth = 1 + max((of(read) for read in makers[name].reads), default=0)
        for made in makers[name].makes:
            level[made] = depth
        return depth

    def aggregates() -> int:
        return 1 + max(of(read) for read in aggregate_reads)

    for r in RULES:
        of(r.makes[0])
    return level, aggregates()


def _steps() -> tuple[tuple[Step, ...], tuple[Step, ...]]:
    level, aggregate_level = _levels()
    by_level: dict[int, list[Declared]] = {}
    for r in RULES:
        by_level.setdefault(level[r.makes[0]], []).append(r)
    steps = [tuple(by_level[k]) for k in sorted(by_level)]
    before = tuple(s for s in steps if level[s[0].makes[0]] <= aggregate_level)
    return before, tuple(s for s in steps if level[s[0].makes[0]] > aggregate_level)


# Rules run step by step; a step's rules read only columns made before it. The client aggregates are
# computed between the two parts.
STEPS_BEFORE_AGGREGATES, STEPS_AFTER_AGGREGATES = _steps()
MADE = tuple(name for r in RULES for name in r.makes)
# Working columns: steps on the way, not part of a triaged case.
WORKING = frozenset({"bal", "owed", "family", "window", "window_kind", "computed_deadline", "eh_deadline", "cdp_passed",
                     "individual_debt", "rule_problems", "levy_barred", "passport_debt", "closing_right", "irs_prepared", "aur_flag_only",
                     "action"})
# What a triaged case holds, in this order: its priority, the case as parsed, what the rules make, the
# client's total. (The engine adds the rank, the problems and where the case came from.)
RESULT = tuple(dict.fromkeys(["priority", *(f.name for f in FIELDS), *(c for c in MADE if c not in WORKING), "client_total"]))

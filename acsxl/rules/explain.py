"""The ranking explained in words, from the parameters in force: the README's "How the priority score
works" is this text (tests/rules/test_docs.py keeps them in step)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _weights(weights: Mapping[str, Any]) -> str:
    """``{"a": 40, "b": 40, "c": 35}`` -> "`a` or `b` 40, `c` 35" (heaviest first, equal weights together)."""
    groups: dict[Any, list[str]] = {}
    for code, points in sorted(weights.items(), key=lambda item: -item[1]):
        groups.setdefault(points, []).append(f"`{code}`")
    return ", ".join(f"{' or '.join(codes)} {points:g}" for points, codes in groups.items())


def _share(share: float) -> str:
    return f"{share * 100:g}%"


def priority_markdown(law: Any) -> str:
    """The section's text for the law in force (``RULEBOOK.at(day)``), as Markdown."""
    p = law.priority
    closeness = p.deadline_closeness
    bands = ", ".join(f"≤ {limit} days left {_share(share)}" for limit, share in closeness["bands"])
    rights = ", ".join(f"`{code}`" for code in p.right_deadlines)
    balance = p.balance
    barring = ", ".join(f"`{code}`" for code in law.levy.barring_statuses)
    return f"""### How the priority score works

Rows are ranked in two tiers, with the numbers from `acsxl/rules/parameters.toml` (`priority.*`; RR §3.2):

1. **A right about to be lost comes first.** A row whose running deadline loses a right when it passes
   ({rights}) within {p.right_horizon_days} days (`priority.right_horizon_days`) ranks before every other
   row, nearest deadline first, whatever its score: no balance, payroll, passport or revenue-officer risk
   can push a closing CDP window or Tax Court petition below a row with no right at stake.
2. **Then the score.** `priority` (0–100) adds up:
   1. **The running deadline**: points by deadline type ({_weights(p.deadline_weight)}) times a closeness
      share: {bands}, later {_share(closeness["later"])}, already passed {_share(closeness["overdue"])}. A
      deadline that lost a right scores nothing once passed (RR §3.1): what is left counts instead (the
      equivalent-hearing year, the stage). No deadline scores past the collection statute (RR §4.2).
   2. **Levy exposure** by stage: {_weights(p.stage_weight)}; none while the collection status bars
      levy ({barring}; RR §2.1), nor once the collection statute has ended (no levy may begin, IRC §6502(a)).
   3. **Collection statute**: {_weights(p.csed_weight)} (an agreement or offer would suspend a short
      statute: RR §4.2).
   4. **Payroll / TFRP**: {_weights(p.payroll_weight)}.
   5. **Passport**: {_weights(p.passport_weight)}.
   6. **Revenue officer**: {_weights(p.ro_weight)}.
   7. **Balance size**: up to {balance["weight"]:g} points,
      `{balance["weight"]:g} × log10(1 + balance) / log10({balance["full_at"]:,})`.

   The sum is capped at 100 and rounded.

Ties go to the fewest days left (none last), then the larger balance, then the order of the input. A
CP504's date is the earliest levy date, not a right (RR §1.5): it is weighed as `intent_to_levy`, below a
petition, and its next action says from when the failure-to-pay rate doubles (notice date +
{law.penalties.ftp_rate_doubles_after} days, IRC §6651(d)).
"""

"""How the rules run: ``triage(cases, as_of)`` over whole columns (``pipeline``, through the columnar
backend), ``triage_case(case, as_of)`` for one case (``scalar``, plain Python)."""

from acsxl.engine.pipeline import triage

__all__ = ["triage"]

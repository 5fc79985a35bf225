"""The vectorized engine: ``triage(cases, as_of)``."""

from acsxl.engine.pipeline import triage

__all__ = ["triage"]

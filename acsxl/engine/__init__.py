"""The vectorized engine: ``triage(cases, as_of)``."""

from acsxl.engine.triage import triage

__all__ = ["triage"]

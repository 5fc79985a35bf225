from __future__ import annotations

from pathlib import Path

import pytest
import yaml

SCENARIOS = Path(__file__).resolve().parents[1].parent / "shared" / "cases" / "acs-scenarios.yaml"
OWN_SCENARIOS = Path(__file__).resolve().parent / "cases" / "own-scenarios.yaml"


def load_groups() -> list[dict]:
    groups = yaml.safe_load(OWN_SCENARIOS.read_text())
    if SCENARIOS.is_file():
        groups = yaml.safe_load(SCENARIOS.read_text()) + groups
    return groups


def require_shared() -> None:
    if not SCENARIOS.is_file():
        pytest.skip(f"shared scenario file not found at {SCENARIOS}; clone the repo with ../shared beside it")

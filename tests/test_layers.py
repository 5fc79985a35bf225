"""The rooms' dependency rule: cli -> excel -> portfolio -> {engine, io} -> {rules, xlsx}, each layer
importing only the layers below it (and the one exception family, acsxl.errors). Each layer is
imported alone in a fresh interpreter and ``sys.modules`` shows what it brought in."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import acsxl

LAYERS = {
    "rules": {"rules", "errors"},
    "xlsx": {"xlsx"},
    "io": {"io", "rules", "xlsx", "errors"},
    "engine": {"engine", "rules", "errors"},
    "portfolio": {"portfolio", "engine", "io", "rules", "xlsx", "errors"},
    "excel": {"excel", "portfolio", "engine", "io", "rules", "xlsx", "errors"},
    "cli": {"cli", "excel", "portfolio", "engine", "io", "rules", "xlsx", "errors"},
}
NO_POLARS = {"rules"}  # the xlsx row writer builds its XML with polars


def modules_of(layer: str) -> list[str]:
    package = __import__(f"acsxl.{layer}", fromlist=["_"])
    return [f"acsxl.{layer}"] + [m.name for m in pkgutil.walk_packages(package.__path__, f"acsxl.{layer}.") if not m.name.endswith("__main__")]


def loaded_by(modules: list[str]) -> dict[str, list[str]]:
    script = ("import importlib, json, sys\n"
              f"for m in {modules!r}: importlib.import_module(m)\n"
              "print(json.dumps(sorted(sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout)
    return {"acsxl": sorted({m.split(".")[1] for m in loaded if m.startswith("acsxl.")}), "polars": [m for m in loaded if m == "polars"]}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_each_layer_imports_only_the_layers_below_it(layer: str) -> None:
    loaded = loaded_by(modules_of(layer))
    assert set(loaded["acsxl"]) <= LAYERS[layer], f"acsxl.{layer} imports {sorted(set(loaded['acsxl']) - LAYERS[layer])}"
    if layer in NO_POLARS:
        assert not loaded["polars"], f"acsxl.{layer} imports polars"


def test_every_room_is_in_the_rule_and_importing_the_package_loads_nothing_else() -> None:
    rooms = {m.name for m in pkgutil.iter_modules(acsxl.__path__)} - {"errors"}
    assert rooms == set(LAYERS)
    assert loaded_by(["acsxl"])["acsxl"] == []

"""acsxl: triage of IRS Automated Collection System cases for tax-resolution practitioners.

Rooms by concern, arrows pointing one way: ``cli`` -> ``excel`` -> ``portfolio`` -> {``engine``,
``io``} -> {``rules``, ``xlsx``}; ``errors`` is the one exception family. Importing the package
imports nothing else (tests/test_layers.py)."""

from importlib import metadata

try:
    __version__ = metadata.version("acsxl")
except metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

"""The command line: ``main`` (arguments, exit codes, the clock), ``commands`` (what each command
does, through ``acsxl.portfolio.service``) and ``runs`` (progress, the run log)."""

from acsxl.cli.main import main

__all__ = ["main"]

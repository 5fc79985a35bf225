"""How the workbook shows dates, declared once: the date cells' number format and the dates inside its
sentences (the next action, the issues). US practitioners read mm/dd/yyyy, the default; ISO
(yyyy-mm-dd) for those who want it, and in the CSV and Parquet outputs, which machines read too.
(Here, with nothing heavy imported: the command line checks the choice before reading begins.)"""

from __future__ import annotations

from dataclasses import dataclass

from acsxl.io.config import Config, ConfigError


@dataclass(frozen=True)
class DateStyle:
    name: str
    number_format: str  # Excel's
    text: str  # strftime, in sentences


DATE_STYLES = {s.name: s for s in (DateStyle("us", "mm/dd/yyyy", "%m/%d/%Y"), DateStyle("iso", "yyyy-mm-dd", "%Y-%m-%d"))}
DEFAULT_DATES = "us"
MACHINE_DATES = "iso"  # CSV and Parquet


def date_style(config: Config | None, given: str | None = None, workbook: bool = True) -> str:
    """The run's date style: ``given`` (the command line's ``--dates``); else, for a workbook, the firm's
    settings (``[display] dates``) or the default; else ISO."""
    configured = config.dates if config is not None else None
    chosen = given or ((configured or DEFAULT_DATES) if workbook else MACHINE_DATES)
    if chosen not in DATE_STYLES:
        where = f"{config.path}: [display] " if config is not None and config.path is not None and not given else "--"
        raise ConfigError(f"{where}dates = {chosen!r} is not a date style (known: {', '.join(DATE_STYLES)})")
    return chosen

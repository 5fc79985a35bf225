"""Write a triaged frame; the format follows the file extension. Writes are atomic: a temporary file
in the same folder, then a rename, so a crash never leaves a half-written file."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

FORMATS = (".csv", ".parquet", ".xlsx")

# Human headers for the plain workbook.
HEADERS = {
    "rank": "Rank", "priority": "Priority", "client_id": "Client", "client_name": "Name", "taxpayer_type": "Type",
    "form": "Form", "tax_period": "Period", "balance": "Balance", "client_total": "Client total", "cause": "Cause",
    "cause_reason": "Why", "stage": "Stage", "last_notice": "Last notice", "notice_date": "Notice date",
    "deadline_type": "Deadline", "next_deadline": "Next deadline", "days_left": "Days left", "payroll_risk": "Payroll risk",
    "passport_risk": "Passport risk", "ro_risk": "RO risk", "csed": "CSED", "next_action": "Next action",
    "issues": "Issues", "source": "Source", "notes": "Notes",
}


class OutputError(Exception):
    """The output cannot be written; the message says why, in one line."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _mode_for(path))  # mkstemp makes 0600; give the file the mode a normal write would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The existing file's mode, else what the umask allows for a new file."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_output(frame: pl.DataFrame, out: str | Path) -> None:
    """``out`` of '-' writes CSV to standard output."""
    if str(out) == "-":
        frame.write_csv(sys.stdout.buffer)
        return
    path = Path(out)
    suffix = path.suffix.lower()
    writers = {".csv": frame.write_csv, ".parquet": frame.write_parquet, ".xlsx": lambda p: _write_xlsx(frame, p)}
    if suffix not in writers:
        raise OutputError(f"{path}: unknown output format {suffix or '(none)'} (use {', '.join(FORMATS)})")
    try:
        atomic_write(path, writers[suffix])
    except OSError as err:
        raise OutputError(f"{path}: cannot write ({err.strerror or err})") from None


def _write_xlsx(frame: pl.DataFrame, path: Path) -> None:
    """A plain, readable sheet: human headers, frozen header, filters, date and money formats."""
    shown = frame.rename({c: HEADERS[c] for c in frame.columns if c in HEADERS})
    money = [HEADERS["balance"], HEADERS["client_total"]]
    frame_dates = [HEADERS[c] for c in ("notice_date", "next_deadline", "csed") if c in frame.columns]
    shown.write_excel(
        path,
        worksheet="Portfolio",
        autofit=True,
        freeze_panes=(1, 0),
        autofilter=True,
        table_style=None,
        header_format={"bold": True, "bottom": 1, "bg_color": "#DDE4EE"},
        column_formats={**dict.fromkeys(money, "$#,##0.00"), **dict.fromkeys(frame_dates, "yyyy-mm-dd")},
        dtype_formats={pl.Date: "yyyy-mm-dd"},
    )

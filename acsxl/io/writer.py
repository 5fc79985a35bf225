"""Write a triaged frame; the format follows the file extension. Writes are atomic: a temporary file
in the same folder, then a rename, so a crash never leaves a half-written file."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports this module before polars (see acsxl.cli.main)
    import polars as pl

    from acsxl.io.portfolio import RunInfo

FORMATS = (".csv", ".parquet", ".xlsx")


class OutputError(Exception):
    """The output cannot be written; the message says why, in one line."""


def atomic_write(path: Path, write: Callable[[Path], None], verify: Callable[[Path], None] | None = None) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``. With ``verify``
    (raises if a file is not right), the new file is checked before the rename and again after it,
    and the previous file is kept as a backup until then: put back if the check fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _mode_for(path))  # mkstemp makes 0600; give the file the mode a normal write would
        if verify is not None:
            verify(Path(tmp))
        backup = _backup(path) if verify is not None and path.exists() else None
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if backup is None:
        return
    try:
        verify(path)
    except BaseException:
        os.replace(backup, path)
        raise
    backup.unlink()


def backup_path(path: Path) -> Path:
    """Hidden, and not a case-list extension, so a folder run never reads it."""
    return path.with_name(f".{path.name}.acsxl-backup")


def _backup(path: Path) -> Path:
    backup = backup_path(path)
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)  # instant; the rename then leaves the old file reachable only here
    except OSError:
        shutil.copy2(path, backup)
    return backup


def _mode_for(path: Path) -> int:
    """The existing file's mode, else what the umask allows for a new file."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_output(frame: pl.DataFrame, out: str | Path, run: RunInfo) -> None:
    """``out`` of '-' writes CSV to standard output; .xlsx is the formatted portfolio workbook."""
    if str(out) == "-":
        frame.write_csv(sys.stdout.buffer)
        return
    from acsxl.io.portfolio import write_portfolio  # here, not above: see the imports

    path = Path(out)
    suffix = path.suffix.lower()
    writers = {".csv": frame.write_csv, ".parquet": frame.write_parquet, ".xlsx": lambda p: write_portfolio(frame, p, run)}
    if suffix not in writers:
        raise OutputError(f"{path}: unknown output format {suffix or '(none)'} (use {', '.join(FORMATS)})")
    try:
        atomic_write(path, writers[suffix])
    except OSError as err:
        raise OutputError(f"{path}: cannot write ({err.strerror or err})") from None

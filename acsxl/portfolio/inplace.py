"""Refresh a client's workbook: its Portfolio, Summary, Issues and Closed notes sheets rebuilt inside it, safely.

Never touched: a workbook open in a spreadsheet application, a file changed since its cases were read.
Left as they are, with the portfolio written beside them (``beside_path``): CSV files, a workbook with its
own sheet named like ours, or a layout acsxl does not edit. The write is atomic and verified, with the
previous file kept as a backup until the new one reads back."""

from __future__ import annotations

import threading
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from acsxl.errors import NotKept, NotRefreshed, OutputBusy
from acsxl.io.inputs import BESIDE_SUFFIX, excel_lock, file_stamp, refreshable
from acsxl.io.writer import CannotKeep, atomic_write, narrowest_mode, output_lock, workbook_lock_path
from acsxl.portfolio.layout import RunInfo, portfolio_parts, write_portfolio
from acsxl.portfolio.sheets import MARK, NAMES
from acsxl.portfolio.working import read_kept, unchanged
from acsxl.xlsx.merge import Refused, merge_sheets, page_header_marked
from acsxl.xlsx.package import LARGE_PART, Package, PackageError, read_through
from acsxl.xlsx.rows import write_with_rows

is_ours = page_header_marked(MARK)  # a sheet acsxl wrote: its page header carries the mark


@dataclass(frozen=True)
class Refreshed:
    path: Path
    rows: int
    beside: Path | None = None  # set when the portfolio went beside the workbook instead
    reason: str | None = None  # why it did
    notes: list[str] = field(default_factory=list)  # what was typed in its Portfolio that did not go back as it was


def beside_path(path: Path) -> Path:
    return path.with_name(path.stem + BESIDE_SUFFIX)


def refresh_workbook(path: Path, frame: pl.DataFrame, run: RunInfo, read_stamp: tuple[int, int] | None = None,
                     stop: threading.Event | None = None) -> Refreshed:
    """Write ``frame`` (this workbook's triaged rows, ranked) as the Portfolio, Summary, Issues and Closed notes sheets
    inside the workbook at ``path``. Raises NotRefreshed when the workbook must be left alone, also when
    ``stop`` is set before the rename (the run gave up waiting for it)."""
    if not refreshable(path):
        return _beside(path, frame, run, "a CSV file cannot hold sheets")
    _check_free(path, read_stamp)
    try:
        mode = path.stat().st_mode
    except OSError as err:
        raise NotRefreshed(f"{path}: cannot be read ({err.strerror or err}); not refreshed") from None
    if not mode & 0o222:
        raise NotRefreshed(f"{path}: marked read-only; not refreshed (clear the read-only mark to let acsxl refresh it)")
    # A link is refreshed where it leads: the file itself is replaced, and the link still leads to it.
    real = path.resolve() if path.is_symlink() else path
    try:
        client = Package.read(path, stream_larger=LARGE_PART)  # the large parts (sheets, images) are copied as streams
    except OSError as err:
        raise NotRefreshed(f"{path}: cannot be read ({err.strerror or err}); not refreshed") from None
    except PackageError as err:
        raise NotRefreshed(f"{path}: {err}; not refreshed") from None
    try:
        date1904 = client.date1904()
    except (PackageError, KeyError, UnicodeDecodeError) as err:
        raise NotRefreshed(f"{path}: its workbook part cannot be read ({err}); not refreshed") from None
    # What the user typed in the Portfolio goes back onto the same cases (acsxl.portfolio.working); a
    # change to the file after its cases were read is caught before the rename, as for any save.
    try:
        kept = read_kept(path) if set(client.sheet_parts()) & set(NAMES) else None
    except NotKept as err:
        raise NotRefreshed(str(err)) from None
    run = replace(run, inside=path, not_refreshed=[], date1904=date1904, kept=kept)  # dates in the client's own date system
    try:
        # Our sheets go into the client's package with their first rows only; the rows are then
        # streamed in with the client's own format numbers, written once (acsxl.xlsx.rows).
        package, fills, replaced, notes = portfolio_parts(frame, run, into=lambda ours: merge_sheets(client, ours, NAMES, is_ours))
    except Refused as err:
        return _beside(path, frame, replace(run, kept=None), str(err))

    checked: list[int] = []

    def verify(candidate: Path) -> None:
        verify_workbook(candidate, frame.height)
        checked.append(candidate.stat().st_size)

    try:
        # One refresh of a workbook at a time; the other run's rename would change the stamp anyway.
        with output_lock(real, 0, workbook_lock_path(real)):
            # Opened or saved while the sheets were written and checked? Looked at once more
            # immediately before the rename, so a save is never replaced.
            atomic_write(real, lambda target: write_with_rows(package, fills, str(target), replaced), verify,
                         last_look=lambda: _check_free(path, read_stamp, stop), keep_owner=True,
                         confirm=lambda renamed: confirm_workbook(renamed, checked[-1]))
    except OutputBusy:
        raise NotRefreshed(f"{path}: another acsxl run is refreshing it; not refreshed") from None
    except CannotKeep as err:
        raise NotRefreshed(f"{path}: not refreshed: {err}; the workbook is as it was") from None
    except (OSError, VerifyFailed) as err:
        raise NotRefreshed(f"{path}: not refreshed ({err}); the workbook is as it was") from None
    return Refreshed(path, frame.height, notes=[f"{path}: {note}" for note in notes])


def _beside(path: Path, frame: pl.DataFrame, run: RunInfo, reason: str) -> Refreshed:
    """The portfolio written beside the workbook, what was typed in the one written there before given back."""
    beside = beside_path(path)
    try:
        kept = read_kept(beside)
    except NotKept as err:
        raise NotRefreshed(str(err)) from None
    notes: list[str] = []
    atomic_write(beside, lambda p: notes.extend(write_portfolio(frame, p, replace(run, inside=None, not_refreshed=[], kept=kept))),
                 last_look=lambda: unchanged(beside, kept), narrow_to=narrowest_mode([path]))
    return Refreshed(path, frame.height, beside, f"{path}: not changed: {reason}; its portfolio is in {beside.name}",
                     [f"{beside}: {note}" for note in notes])


class VerifyFailed(NotRefreshed):
    """The written file did not read back as it should."""


def verify_workbook(path: Path, rows: int) -> None:
    """The file is a sound package (every part reads through its checksum) and its Portfolio sheet holds
    ``rows`` rows under its header."""
    try:
        written = read_through(path, NAMES[0])
    except Exception as err:
        raise VerifyFailed(f"the written file does not read back: {err}") from None
    if rows and written - 1 != rows:
        raise VerifyFailed(f"the written Portfolio sheet has {written - 1} rows, expected {rows}")


def confirm_workbook(path: Path, size: int) -> None:
    """After the rename: the workbook is the file that was checked (its size) and its zip directory opens.
    (The full check ran on the same bytes just before.)"""
    try:
        with zipfile.ZipFile(path) as archive:
            archive.infolist()
        if path.stat().st_size != size:
            raise VerifyFailed(f"the renamed file has {path.stat().st_size:,} bytes, not the {size:,} checked")
    except (OSError, zipfile.BadZipFile) as err:
        raise VerifyFailed(f"the renamed file does not read back: {err}") from None


def _check_free(path: Path, read_stamp: tuple[int, int] | None, stop: threading.Event | None = None) -> None:
    if stop is not None and stop.is_set():
        raise NotRefreshed(f"{path}: given up (it took too long); not refreshed")
    lock = excel_lock(path) or (excel_lock(path.resolve()) if path.is_symlink() else None)
    if lock is not None:
        raise NotRefreshed(f"{path}: open in a spreadsheet application (lock file {lock.name}); not refreshed")
    if read_stamp is not None and file_stamp(path) != read_stamp:
        raise NotRefreshed(f"{path}: changed since its cases were read; not refreshed (run again)")

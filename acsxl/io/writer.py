"""Writing files safely: atomic writes (a temporary file in the same folder, then a rename, so a crash
never leaves a half-written file), the backup kept while a replaced file is checked, the lock that
keeps two runs from writing one output, and tables as CSV or Parquet."""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from acsxl.errors import OutputBusy, OutputError

if TYPE_CHECKING:  # the command line imports this module before polars (see acsxl.cli.main)
    import polars as pl

FORMATS = (".csv", ".parquet", ".xlsx")  # output formats, by extension (.xlsx: the portfolio workbook, acsxl.portfolio)


class CannotKeep(OSError):
    """A replaced file's owner or group cannot be kept (the run is not that account, nor root)."""


def atomic_write(path: Path, write: Callable[[Path], None], verify: Callable[[Path], None] | None = None,
                 last_look: Callable[[], None] | None = None, *, narrow_to: int | None = None, keep_owner: bool = False,
                 confirm: Callable[[Path], None] | None = None) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``. With ``verify``
    (raises if a file is not right), the new file is checked before the rename and again after it,
    and the previous file is kept as a backup until then: put back if the check fails (after the
    rename, ``confirm`` checks instead, when given: a lighter look at the same bytes). ``last_look``
    (raises to keep ``path`` as it is) runs immediately before the rename, after the slow work.

    The file gets the mode of the one it replaces, else the umask's, never more than ``narrow_to``
    (the mode of the client files its data comes from). A replaced file's owner and group are kept
    where the account may set them; with ``keep_owner`` (a client's own workbook) it is left as it
    is when they cannot be (``CannotKeep``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    backup = None
    try:
        write(Path(tmp))
        os.chmod(tmp, _mode_for(path) & (0o777 if narrow_to is None else narrow_to))  # mkstemp makes 0600
        _owner_of(path, Path(tmp), keep_owner)
        if verify is not None:
            verify(Path(tmp))
        if last_look is not None:
            last_look()
        backup = _backup(path) if verify is not None and path.exists() else None
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        if backup is not None:
            backup.unlink(missing_ok=True)
        raise
    if backup is None:
        return
    try:
        (confirm or verify)(path)
    except BaseException:
        os.replace(backup, path)
        raise
    backup.unlink()


TMP_SUFFIX, BACKUP_SUFFIX = ".acsxl-tmp", ".acsxl-backup"
ORPHAN_SECONDS = 6 * 3600  # a temporary file or backup this old beside an output is left from a run that was killed


def remove_orphans(path: Path, now: float | None = None) -> list[Path]:
    """Delete the temporary files and backups of ``path`` that a killed run left behind: only ours (named
    ``.NAME.*.acsxl-tmp`` / ``.acsxl-backup``) and only when older than ``ORPHAN_SECONDS``, so a run
    writing meanwhile keeps its own. Returns what was removed."""
    now = time.time() if now is None else now
    removed = []
    for suffix in (TMP_SUFFIX, BACKUP_SUFFIX):
        for found in path.parent.glob(f".{glob.escape(path.name)}.*{suffix}"):
            try:
                if now - found.lstat().st_mtime > ORPHAN_SECONDS and found.is_file():
                    found.unlink()
                    removed.append(found)
            except OSError:  # gone meanwhile, or not ours to delete: left as it is
                continue
    return removed


def backup_path(path: Path, run: int | None = None) -> Path:
    """Hidden, and not a case-list extension, so a folder run never reads it; one name per run (the
    process id), so two runs never share a backup."""
    return path.with_name(f".{path.name}.{os.getpid() if run is None else run}{BACKUP_SUFFIX}")


def _backup(path: Path) -> Path:
    backup = backup_path(path)
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)  # instant; the rename then leaves the old file reachable only here
    except OSError:
        shutil.copy2(path, backup)
    return backup


def _owner_of(path: Path, tmp: Path, strict: bool) -> None:
    """Give ``tmp`` the owner and group of ``path`` (when it exists and they differ)."""
    try:
        was, now = path.stat(), tmp.stat()
    except FileNotFoundError:
        return
    if (was.st_uid, was.st_gid) == (now.st_uid, now.st_gid) or not hasattr(os, "chown"):
        return
    try:
        os.chown(tmp, was.st_uid, was.st_gid)
    except OSError:
        if strict:
            raise CannotKeep(f"its owner (user {was.st_uid}, group {was.st_gid}) cannot be kept by this account; "
                             "run acsxl as the workbook's owner") from None


def narrowest_mode(paths: Iterable[Path]) -> int | None:
    """The permission bits every one of ``paths`` allows (None for none): what a file holding data from
    all of them may allow at most."""
    mode = None
    for path in paths:
        try:
            bits = path.stat().st_mode & 0o777
        except OSError:
            continue
        mode = bits if mode is None else mode & bits
    return mode


def _mode_for(path: Path) -> int:
    """The existing file's mode, else what the umask allows for a new file."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# A CSV cell a spreadsheet would run as a formula or DDE begins with one of these (OWASP "CSV injection").
FORMULA_START = r"^[=+\-@\t\r]"


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text cell that a spreadsheet would read as a formula, with a ``'`` put before it (OWASP's
    advice for CSV files opened by people); numbers and dates are not text and stay as they are."""
    import polars as pl  # (here: the command line imports this module before polars)

    text = [name for name, dtype in frame.schema.items() if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)]
    cells = {name: pl.col(name).cast(pl.String) for name in text}
    return frame.with_columns(pl.when(c.str.contains(FORMULA_START)).then("'" + c).otherwise(c).alias(name) for name, c in cells.items())


def write_table(frame: pl.DataFrame, out: str | Path, raw: bool = False, narrow_to: int | None = None) -> None:
    """``frame`` as CSV or Parquet by ``out``'s extension; '-' is CSV on standard output. CSV text
    cells that would start a formula are neutralised (``neutralised``) unless ``raw``."""
    if not raw and (str(out) == "-" or Path(out).suffix.lower() == ".csv"):
        frame = neutralised(frame)
    if str(out) == "-":
        try:
            frame.write_csv(sys.stdout.buffer)
        except OSError as err:  # polars says a closed pipe in its own words
            if isinstance(err, BrokenPipeError) or err.errno == errno.EPIPE or "Broken pipe" in str(err):
                raise BrokenPipeError(errno.EPIPE, "the reader of standard output closed it") from None
            raise
        return
    path = Path(out)
    writers = {".csv": frame.write_csv, ".parquet": frame.write_parquet}
    write_file(path, writers.get(path.suffix.lower()), narrow_to)


def write_file(path: Path, write: Callable[[Path], None] | None, narrow_to: int | None = None,
               last_look: Callable[[], None] | None = None) -> None:
    """``write`` to ``path`` atomically (mode at most ``narrow_to``; ``last_look`` as ``atomic_write``
    takes it); a clear error when there is no writer for the extension or the folder refuses."""
    if write is None:
        raise OutputError(f"{path}: unknown output format {path.suffix or '(none)'} (use {', '.join(FORMATS)})")
    try:
        atomic_write(path, write, last_look=last_look, narrow_to=narrow_to)
    except OSError as err:
        raise OutputError(f"{path}: cannot write ({write_failure(err)})") from None


def write_failure(err: OSError) -> str:
    """Why a write failed, in the user's terms: a file standing where a folder should be is said so."""
    if err.errno == errno.EEXIST and err.filename:
        return f"{err.filename} is a file, not a folder"
    if err.errno == errno.ENOTDIR and err.filename:
        return f"part of {err.filename} is a file, not a folder"
    return err.strerror or str(err)


def lock_path(out: Path) -> Path:
    """The lock beside an output: hidden, and not a case-list extension, so a folder run never reads it."""
    return out.with_name(f".{out.name}.lock")


def workbook_lock_path(workbook: Path) -> Path:
    """The lock a refresh holds on a client's workbook: in this account's temporary folder, named after
    the workbook's full path, so nothing is added to the client's folder."""
    key = hashlib.sha256(str(workbook.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"acsxl-locks-{user}" / f"{key}.lock"


LONG_HELD_SECONDS = 6 * 3600  # a lock held this long belongs to a run that hangs (output_lock's take_over)


def holder_path(lock: Path) -> Path:
    """Who holds ``lock``: written beside it by the holder (the lock file itself is emptied by every
    process that tries it)."""
    return lock.with_name(lock.name + ".holder")


def _holder(lock: Path) -> tuple[int, str, float] | None:
    """(pid, host, since) from the holder file; None when there is none to read."""
    try:
        held = json.loads(holder_path(lock).read_text(encoding="utf-8"))
        return int(held["pid"]), str(held["host"]), float(held["since"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _holder_note(lock: Path, now: float) -> str:
    """'held by acsxl (pid N) on HOST since TIME', from the holder file; '' when there is none to read."""
    held = _holder(lock)
    if held is None:
        return ""
    pid, host, since = held
    started = datetime.fromtimestamp(since).astimezone().isoformat(timespec="seconds")
    note = f"held by acsxl (pid {pid}) on {host} since {started}"
    if now - since > LONG_HELD_SECONDS:
        note += f", {int((now - since) // 3600)} hours: if that run hangs, end it (its lock goes with it)"
    return note


@contextmanager
def output_lock(out: Path, wait_seconds: float, lock: Path | None = None, take_over: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock beside ``out`` (``lock_path``, or ``lock``) while writing it: an operating-system
    lock (filelock), so it goes with the process that held it, however that process ends, on Linux,
    macOS and Windows: an empty, damaged or old lock file, a reused process id or a run in another
    container never holds anybody up. A second run waits up to ``wait_seconds`` for it, then gives up,
    saying who holds it (``holder_path``). The lock file itself stays.

    With ``take_over`` (called with what to say), a lock held longer than ``LONG_HELD_SECONDS`` (a run
    that hangs) is taken over: the write goes ahead without it. That is safe because every write is
    atomic (the last rename wins; no file is ever half one run's and half another's)."""
    from filelock import FileLock, Timeout  # only for runs that write a file

    lock = lock_path(out) if lock is None else lock
    held = FileLock(lock, timeout=max(wait_seconds, 0))
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        held.acquire()
    except Timeout:
        now, holding = time.time(), _holder(lock)
        note = _holder_note(lock, now)
        if take_over is None or holding is None or now - holding[2] <= LONG_HELD_SECONDS:
            raise OutputBusy(f"another acsxl run is writing {out} (lock {lock}{'; ' + note if note else ''}); "
                             "try again later or raise --wait") from None
        held = None
    except OSError as err:
        raise OutputError(f"{out}: cannot write ({write_failure(err)})") from None
    if held is None:
        take_over(f"{out}: the lock {lock} is {note}; taken over, written anyway (writes are atomic)")
        yield
        return
    holder = holder_path(lock)
    with suppress(OSError):  # who holds it is only for the message
        holder.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}), encoding="utf-8")
    try:
        yield
    finally:
        holder.unlink(missing_ok=True)  # while still held: never the next holder's note
        held.release()

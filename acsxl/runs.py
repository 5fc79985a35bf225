"""Running triage over many files: reading them in parallel processes, a progress line on terminals,
refreshing each workbook in place, the run summary for ``--json-log``, and the output lock that keeps
two runs from writing one file."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

import polars as pl

from acsxl.io.inputs import PARALLEL_FROM, Prefetch, UnreadableInput
from acsxl.io.portfolio import RunInfo, SourceFile, source_parts
from acsxl.io.reader import CaseList, read_cases
from acsxl.io.refresh import NotRefreshed, refresh_workbook


@dataclass
class FileResult:
    path: str
    label: str
    rows: int = 0
    sheet: str | None = None
    seconds: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def _read(task: tuple[Path, str, str | None], prefetch: Prefetch | None = None) -> tuple[FileResult, CaseList | None]:
    path, label, sheet = task
    started = time.perf_counter()
    try:
        cases = read_cases(path, sheet, label, prefetch.take if prefetch else None)
    except UnreadableInput as err:
        return FileResult(str(path), label, error=str(err), seconds=time.perf_counter() - started), None
    except Exception as err:  # a file must never stop the run
        return FileResult(str(path), label, error=f"{path}: cannot be read ({type(err).__name__}: {err})"), None
    result = FileResult(str(path), label, cases.rows, cases.sheet, time.perf_counter() - started, warnings=cases.warnings)
    return result, cases


class Progress:
    """'reading 37/200 files' rewritten in place on a terminal; silent otherwise."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, enabled: bool | None = None) -> None:
        self.total, self.stream, self.done = total, stream, 0
        self.enabled = stream.isatty() if enabled is None else enabled

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            self.stream.write(f"\racsxl: reading {self.done}/{self.total} files")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")


def read_all(inputs: list[tuple[Path, str]], sheet: str | None, progress: Progress,
             prefetch: Prefetch | None = None) -> list[tuple[FileResult, CaseList | None]]:
    """Read every input, in worker processes when there are many; results in input order. A few are
    read here, one after the other, taking what ``prefetch`` (see ``prefetch_for``) has loaded."""
    tasks = [(path, label, sheet) for path, label in inputs]
    results = []
    if len(tasks) < PARALLEL_FROM:
        for task in tasks:
            results.append(_read(task, prefetch))
            progress.step()
        return results
    # spawn, not fork: forking a process whose polars thread pool is running can deadlock.
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        for result in pool.map(_read, tasks, chunksize=4):
            results.append(result)
            progress.step()
    return results


@dataclass
class InPlace:
    """What became of one workbook in an in-place run (for the log and the Issues sheet)."""

    path: str
    status: str  # refreshed | beside | not_refreshed
    rows: int = 0
    message: str | None = None


@dataclass
class RunLog:
    as_of: str
    output: str
    started: float = field(default_factory=time.time)
    files: list[FileResult] = field(default_factory=list)
    in_place: list[InPlace] = field(default_factory=list)
    rows: int = 0
    rows_with_issues: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    exit_code: int = 0

    def write(self, path: Path) -> None:
        data = asdict(self)
        files = data.pop("files")
        data["files_read"] = [f for f in files if f["error"] is None]
        data["files_skipped"] = [{"path": f["path"], "reason": f["error"]} for f in files if f["error"]]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


class Busy(Exception):
    """Another run holds the output lock."""


@contextmanager
def output_lock(out: Path, wait_seconds: float) -> Iterator[None]:
    """Hold ``OUT.lock`` (created exclusively, with our PID) while writing ``out``. A second run waits
    up to ``wait_seconds`` for it, then gives up; a lock left by a process that no longer runs is taken over."""
    lock = out.with_name(out.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            if _stale(lock):
                lock.unlink(missing_ok=True)
                continue
            if time.monotonic() >= deadline:
                raise Busy(f"another acsxl run is writing {out} (lock file {lock}); try again later or raise --wait") from None
            time.sleep(0.2)
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)


def _stale(lock: Path) -> bool:
    try:
        pid = int(lock.read_text().strip() or "0")
    except (OSError, ValueError):
        return False  # being written right now, or unreadable: not ours to remove
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return True
    except PermissionError:
        return False
    return False


def refresh_all(result: pl.DataFrame, read: list[tuple[SourceFile, tuple[int, int] | None]], run: RunInfo) -> list[InPlace]:
    """Write each workbook's own rows (ranked within it) into that workbook; one failure never stops the rest."""
    prefix, _ = source_parts()
    by_file = result.with_columns(prefix).partition_by("prefix", as_dict=True, include_key=False)
    done = []
    for source, read_stamp in read:
        rows = by_file.get((source.prefix,), result.clear())
        rows = rows.with_columns(pl.int_range(1, pl.len() + 1, dtype=result.schema["rank"]).alias("rank"))
        try:
            outcome = refresh_workbook(source.path, rows, run, read_stamp)
        except NotRefreshed as err:
            done.append(InPlace(str(source.path), "not_refreshed", rows.height, str(err)))
            continue
        except Exception as err:  # one workbook must never stop the run
            done.append(InPlace(str(source.path), "not_refreshed", rows.height,
                                f"{source.path}: not refreshed ({type(err).__name__}: {err}); the workbook is as it was"))
            continue
        status = "beside" if outcome.beside else "refreshed"
        done.append(InPlace(str(source.path), status, rows.height, outcome.reason))
    return done

"""What the commands do, once the command line (``acsxl.cli``) has parsed them. Kept apart so the
command line can start reading the case lists before this module brings in polars and the engine."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import date
from pathlib import Path

import polars as pl

from acsxl.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from acsxl.cli.runs import Progress, RunLog
from acsxl.errors import OutputError
from acsxl.excel import WORKBOOK
from acsxl.io.reader import FileResult
from acsxl.io.writer import atomic_write, output_lock
from acsxl.portfolio import service
from acsxl.portfolio.sample import sample_cases
from acsxl.rules import calendar


def _say(args: argparse.Namespace, message: str) -> None:
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def cmd_triage(args: argparse.Namespace) -> int:
    """``args`` as ``acsxl.cli.main.start_reading`` leaves them: the case lists found, their reading begun."""
    as_of, stdout, out = args.as_of, args.to_stdout, args.out_path
    # Kept on ``args``: the command line writes it however the run ends (acsxl.cli.main._write_log).
    args.log = log = RunLog(as_of=as_of.isoformat(), output=str(out or ("-" if stdout else "")),
                            started=args.started.isoformat(timespec="seconds"))
    return _triage(args, as_of, stdout, out, log)


def _triage(args: argparse.Namespace, as_of: date, stdout: bool, out: Path | None, log: RunLog) -> int:
    started = time.perf_counter()
    inputs, prefetch = args.case_lists, args.prefetch
    if not inputs:
        print("acsxl: no case lists found in the given folders", file=sys.stderr)
        return EXIT_FAILED

    # The holiday calendar loads while the workbooks are read, and so does what was typed in the
    # portfolio the run replaces (acsxl.portfolio.working).
    threading.Thread(target=calendar.prepare, args=(as_of.year,), daemon=True).start()
    typed = service.previous(out) if out is not None and not stdout else None
    progress = Progress(len(inputs), enabled=False if args.quiet else None)
    try:
        read = service.read_files(inputs, args.sheet, progress.step, prefetch, args.config)
    finally:
        progress.close()  # ends the progress line, also when the run is stopped
    log.seconds["read"] = round(time.perf_counter() - started, 3)
    read += [(FileResult(str(path), label, passed_over=why), None) for path, label, why in args.links_passed_over]
    for result, cases in read:
        if result.passed_over:
            _say(args, f"acsxl: note: {result.passed_over}")
        elif cases is None:
            print(f"acsxl: skipped {result.error}", file=sys.stderr)
        else:
            for problem in cases.problems:
                print(f"acsxl: {problem}", file=sys.stderr)
            if cases.unrecognised and not cases.problems:
                _say(args, f"acsxl: note: {result.label}: kept as your own columns (not recognised): {', '.join(cases.unrecognised)}")
    log.files = [result for result, _ in read]
    triaged = service.triage_read(read, as_of, args.dates)
    if triaged is None:
        print("acsxl: nothing to triage: no input could be read", file=sys.stderr)
        return EXIT_FAILED
    for warning in triaged.warnings:
        _say(args, f"acsxl: warning: {warning}")
    result, run = triaged.result, triaged.run
    log.seconds["triage"] = round(time.perf_counter() - started - log.seconds["read"], 3)
    log.rows, log.rows_with_issues, log.caveats = result.height, triaged.rows_with_issues, list(run.caveats)
    log.rows_with_unverified = triaged.rows_with_unverified
    failed = 0
    if args.in_place:
        refresh_started = time.perf_counter()
        refreshing = Progress(len(run.sources.files), enabled=False if args.quiet else None, doing="refreshing")
        try:
            log.in_place = service.refresh_in_place(triaged, refreshing.step)
        finally:
            refreshing.close()
        log.seconds["refresh"] = round(time.perf_counter() - refresh_started, 3)
        for done in log.in_place:
            if done.status == "not_refreshed":
                print(f"acsxl: {done.message}", file=sys.stderr)
                failed += 1
            elif done.status == "beside":
                _say(args, f"acsxl: warning: {done.message}")
            for note in done.notes:
                _say(args, f"acsxl: note: {note}")
        run.not_refreshed = [(d.path, d.message or "") for d in log.in_place if d.status != "refreshed"]
    try:
        if stdout:
            service.write(triaged, "-", args.csv_raw)
        elif out is not None:
            with output_lock(out, args.wait, take_over=lambda said: print(f"acsxl: warning: {said}", file=sys.stderr)):
                for note in service.write(triaged, out, args.csv_raw, typed):
                    _say(args, f"acsxl: note: {note}")
    except OutputError as err:
        print(f"acsxl: {err}", file=sys.stderr)
        return EXIT_FAILED
    log.seconds["total"] = round(time.perf_counter() - started, 3)
    refreshed = sum(d.status == "refreshed" for d in log.in_place)
    skipped, problems = run.skipped, run.file_problems
    _say(args, f"acsxl: triaged {result.height} rows from {len(run.sources.files)} file(s) as of {as_of.isoformat()} "
               f"({log.rows_with_issues} with issues"
               f"{f', {log.rows_with_unverified} using an unverified amount' if log.rows_with_unverified else ''}"
               f"{f', {len(skipped)} file(s) skipped' if skipped else ''}"
               f"{f', {len(problems)} file problem(s)' if problems else ''}) "
               f"in {log.seconds['total']:.2f}s -> {out or ('standard output' if stdout else 'no combined output')}"
               + (f"; {refreshed} workbook(s) refreshed in place" if args.in_place else ""))
    return EXIT_PARTIAL if skipped or failed or problems else EXIT_OK


def cmd_sample(args: argparse.Namespace) -> int:
    if args.rows < 1:
        print("acsxl: --rows must be at least 1", file=sys.stderr)
        return EXIT_FAILED
    suffix = args.out.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        print(f"acsxl: {args.out}: sample output must be .xlsx or .csv", file=sys.stderr)
        return EXIT_FAILED
    frame = sample_cases(args.rows, seed=args.seed, anchor=args.anchor)
    if suffix == ".csv":
        atomic_write(args.out, frame.write_csv)
    else:
        atomic_write(args.out, lambda p: frame.write_excel(p, worksheet="Cases", autofit=True, freeze_panes=(1, 0),
                                                           dtype_formats={pl.Date: "yyyy-mm-dd"}))
    _say(args, f"acsxl: wrote {frame.height} sample cases to {args.out}")
    return EXIT_OK


def cmd_excel(args: argparse.Namespace) -> int:
    from acsxl.excel import workbook  # only here: the other commands need not load the workbook builder

    target = args.folder / WORKBOOK
    if target.exists() and not args.force:
        print(f"acsxl: {target} exists; it may hold your cases. Use --force to replace it, or choose another folder.", file=sys.stderr)
        return EXIT_FAILED
    try:
        path = workbook.build(args.folder)
    except ImportError:
        print("acsxl: the Excel workbook needs xlwings: pip install 'acsxl[excel]'", file=sys.stderr)
        return EXIT_FAILED
    except OSError as err:
        print(f"acsxl: cannot write to {args.folder}: {err.strerror or err}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        print(workbook.next_steps(path))
    return EXIT_OK

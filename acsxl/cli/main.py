"""The ``acsxl`` command line. The only place that reads the clock (``--as-of`` defaults to today).

It parses its arguments and starts reading the case lists with light modules only; the commands
(``acsxl.cli.commands``), and with them polars and the engine, are imported after that."""

from __future__ import annotations

import os

# polars allocates through jemalloc: freed pages kept for 30 s rather than handed back at once, and one
# arena for all threads, so pages one thread frees serve the next (bench/RESULTS.md). jemalloc reads
# this when polars loads; set here, at the command line's entry, before anything imports polars. A
# user's own setting wins; a notebook or the worksheet-function server importing acsxl is not touched.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:30000,muzzy_decay_ms:30000,narenas:1")

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from acsxl import __version__
from acsxl.cli.exits import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED
from acsxl.errors import AcsxlError, Terminated
from acsxl.excel import MODULE, WORKBOOK
from acsxl.io.config import load_config
from acsxl.io.inputs import expand_inputs, prefetch_for
from acsxl.io.writer import FORMATS
from acsxl.portfolio.dates import DATE_STYLES, date_style
from acsxl.rules.parameters import RULEBOOK


@contextmanager
def _terminate_as_exception() -> Iterator[None]:
    """While the command runs, SIGTERM raises Terminated; the previous handler is put back after."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acsxl",
        description="Triage IRS Automated Collection System cases: cause, notice stage, deadlines, risks and priority.",
        epilog="Exit codes: 0 success (rows with data problems still count as success; see the issues column), "
        "1 finished but some input files could not be read or lost a column (file problems), 2 usage error or nothing could be done.",
    )
    parser.add_argument("--version", action="version", version=f"acsxl {__version__} (parameters {RULEBOOK.version})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser(
        "triage",
        help="triage case lists into a prioritized portfolio",
        description="Read case lists (.xlsx, .xlsm, .xls, .xlsb, .ods: the sheet named Cases, else the first with case-list "
        "headers; or .csv; folders: every case list under them), triage every row as of a date, and write one portfolio, one row per input row in rank order. "
        "Rows with bad values are kept and their problems listed in the issues column. Unreadable, locked (open in "
        "Excel), encrypted or empty files are skipped and reported; the run goes on. An .xlsx output is the formatted "
        "portfolio workbook: Portfolio, Summary, Issues and Closed notes sheets.",
    )
    t.add_argument("inputs", nargs="+", metavar="INPUT", type=Path,
                   help="case list files (.xlsx, .xlsm, .xls, .xlsb, .ods, .csv), or folders: every case list under them (Excel lock files "
                   "~$* and acsxl's own portfolios passed over)")
    t.add_argument("--out", default=None, metavar="OUT",
                   help=f"output file; the format follows the extension ({', '.join(FORMATS)}); '-' or omitted: CSV on "
                   "standard output (omitted with --in-place: no combined output)")
    t.add_argument("--csv-raw", action="store_true",
                   help="CSV text exactly as triaged, for programs: by default a cell a spreadsheet would run as a formula "
                   "(starting with = + - @, a tab or a carriage return) gets a leading ' (OWASP CSV injection)")
    t.add_argument("--in-place", action="store_true",
                   help="also write each workbook's own Portfolio, Summary, Issues and Closed notes sheets into it (see 'acsxl refresh --help')")
    _common(t)
    t.set_defaults(run="triage")

    r = sub.add_parser(
        "refresh",
        help="rebuild the Portfolio, Summary, Issues and Closed notes sheets inside client workbooks",
        description="Triage each workbook's cases and write its Portfolio, Summary, Issues and Closed notes sheets into the workbook "
        "itself, adding them or replacing the ones acsxl wrote before. Nothing else in the file changes: other sheets, "
        "formulas, macros and buttons, charts, images, data validation, defined names and the file's own styles keep "
        "their exact bytes. The write is atomic and verified; the previous file is kept as .NAME.PID.acsxl-backup until "
        "the new one reads back; "
        "a save made meanwhile is kept and the workbook reported, never overwritten. Skipped and reported (exit code 1): "
        "workbooks open in Excel or LibreOffice (lock file beside them) and files changed during the run. Not changed, with their portfolio written beside them as "
        "NAME.acsxl-portfolio.xlsx: CSV case lists and workbooks that have their own sheet named Portfolio, Summary or Issues.",
    )
    r.add_argument("inputs", nargs="+", metavar="WORKBOOK", type=Path,
                   help="client workbooks (.xlsx, .xlsm), or folders: every workbook under them")
    _common(r)
    r.set_defaults(run="triage", in_place=True, out=None, csv_raw=False)

    e = sub.add_parser(
        "excel",
        help="write the Excel workbook with the Refresh portfolio button and the =ACS_... functions",
        description=f"Write {WORKBOOK} (a Start sheet with the Refresh portfolio button, a Cases sheet with the sample "
        f"cases and example =ACS_... formulas, the Portfolio, Summary, Issues and Closed notes sheets, xlwings.conf) and {MODULE} "
        "(the button's Python side, which must stay beside the workbook under the workbook's name) into FOLDER, then print "
        "the next steps. Needs xlwings: pip install 'acsxl[excel]'.",
    )
    e.add_argument("folder", type=Path, metavar="FOLDER", help="where to put the workbook (created if needed)")
    e.add_argument("--force", action="store_true", help=f"replace an existing {WORKBOOK} (its cases would be lost)")
    e.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors (not the next steps)")
    e.set_defaults(run="excel")

    s = sub.add_parser("sample", help="write a synthetic case list (no real taxpayer data)",
                       description="Write a seeded synthetic case list with every cause, notice and form, and a few deliberately bad rows.")
    s.add_argument("out", type=Path, metavar="OUT", help="output file (.xlsx or .csv)")
    s.add_argument("--rows", type=int, default=200, help="number of case rows (default 200)")
    s.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    s.add_argument("--anchor", type=_date, default=date(2026, 11, 21), metavar="YYYY-MM-DD",
                   help="notices are dated in the 150 days before this date (default 2026-11-21)")
    s.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    s.set_defaults(run="sample")
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=_date, default=None, metavar="YYYY-MM-DD", help="date to triage as of (default: today)")
    p.add_argument("--sheet", default=None, metavar="NAME", help="sheet to read in workbooks (default: Cases, else the first sheet)")
    p.add_argument("--config", dest="config_file", type=Path, default=None, metavar="FILE",
                   help="the firm's settings (header aliases); default: acsxl.toml in a folder given, else in your configuration folder")
    p.add_argument("--dates", choices=DATE_STYLES, default=None,
                   help="how dates read: us (mm/dd/yyyy, the workbook's default) or iso (yyyy-mm-dd, the default in CSV and Parquet "
                   "sentences); the workbook's default can be set as [display] dates in acsxl.toml")
    p.add_argument("--json-log", type=Path, default=None, metavar="FILE",
                   help="write a machine-readable run summary (start and end times, versions, files read, skipped and "
                   "passed over with reasons, file problems, rows, issues, workbooks refreshed, durations); '-' for standard output")
    p.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                   help="if another run is writing the same output, wait this long for it (default 60), then give up")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors (progress shows only on a terminal anyway)")


def start_reading(args: argparse.Namespace) -> None:
    """For triage and refresh: the firm's settings (``acsxl.io.config``), where the output goes, the
    case lists to read (never the output itself, in a swept folder) and, for a few files, their
    reading begun (``acsxl.io.inputs``)."""
    args.config = load_config(args.config_file, args.inputs)
    args.to_stdout = args.out == "-" or (args.out is None and not args.in_place)
    args.out_path = None if args.to_stdout or args.out is None else Path(args.out)
    workbook = args.in_place or (args.out_path is not None and args.out_path.suffix.lower() == ".xlsx")
    args.dates = date_style(args.config, args.dates, workbook)
    args.links_passed_over = []
    args.case_lists = [(path, label) for path, label in expand_inputs(args.inputs, args.links_passed_over)
                       if args.out_path is None or path.resolve() != args.out_path.resolve()]
    args.prefetch = prefetch_for(args.case_lists, args.sheet, args.config.header_aliases() if args.config.aliases else None)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.log = None  # the run's log (acsxl.cli.runs.RunLog), once the command has made it
    if args.run == "triage":
        args.started = datetime.now(UTC).astimezone()
        args.as_of = args.as_of or args.started.date()  # the clock, read here and nowhere else
    code, error = _run(args)
    log_to = getattr(args, "json_log", None)
    if log_to is not None and not (code == EXIT_BROKEN_PIPE and str(log_to) == "-"):
        code = _write_log(args, code, error)
    return code


def _run(args: argparse.Namespace) -> tuple[int, str | None]:
    """The command's exit code and, when it failed as a whole, the one line said about it. Every way a
    run can end comes back here, so the log is written on every one of them."""
    try:
        with _terminate_as_exception():
            if args.run == "triage":
                start_reading(args)
            # Only now the commands, and with them polars and the engine: fastexcel reads meanwhile, off
            # the interpreter lock (bench/RESULTS.md, session 13).
            from acsxl.cli import commands

            return getattr(commands, f"cmd_{args.run}")(args), None
    except KeyboardInterrupt:
        return _said(EXIT_INTERRUPTED, "interrupted")
    except Terminated:
        return _said(EXIT_TERMINATED, "terminated")
    except BrokenPipeError:  # the reader of our standard output stopped (| head): end quietly, as a Unix tool does
        _quiet_stdout()
        return EXIT_BROKEN_PIPE, "the reader of standard output closed it"
    except AcsxlError as err:  # said as it is: one line naming the file and the fix
        return _said(EXIT_FAILED, str(err))
    except Exception as err:  # the last guard: one line, never a traceback
        return _said(EXIT_FAILED, f"error: {type(err).__name__}: {_first_line(err)}")
    except BaseException as err:  # a panic inside a native library (pyo3's PanicException is no Exception)
        if type(err).__name__ != "PanicException":
            raise
        return _said(EXIT_FAILED, f"error: an internal error in a library ({_first_line(err) or 'panic'}); please report it")


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else ""


def _said(code: int, message: str) -> tuple[int, str]:
    print(f"acsxl: {message}", file=sys.stderr)
    return code, message


def _write_log(args: argparse.Namespace, code: int, error: str | None) -> int:
    """The JSON log (--json-log), written atomically whatever the run's end: a monitor never reads
    yesterday's log or half of today's. A log that cannot be written is said, and fails the run."""
    from acsxl.cli.runs import RunLog  # (here: brings in polars; a run that ended early may not have)
    from acsxl.io.writer import narrowest_mode, write_failure

    log = args.log
    if log is None:  # the run ended before the command made its log
        log = RunLog(as_of=args.as_of.isoformat(), output=str(args.out or ""), started=args.started.isoformat(timespec="seconds"))
    log.exit_code, log.error = code, error
    try:
        log.write(args.json_log, narrowest_mode(path for path, _ in getattr(args, "case_lists", ())))
    except OSError as err:
        print(f"acsxl: {args.json_log}: cannot write the log ({write_failure(err)}); check the folder and free space", file=sys.stderr)
        return EXIT_FAILED if code in (0, 1) else code
    return code


def _quiet_stdout() -> None:
    """Point standard output at nothing, so the interpreter's own flush at exit does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())

"""Nightly runs over a folder of client workbooks: bad files are reported, the rest land, nothing is touched."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from acsxl.cli import commands, main
from acsxl.cli.runs import Progress
from acsxl.errors import OutputBusy as Busy
from acsxl.io.writer import output_lock
from acsxl.portfolio.sample import sample_cases


def client_workbook(path, client: str, rows: int = 3) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Cases"
    ws.append(["Client", "Form", "Tax Year", "Balance", "Notice", "Notice Date", "Filed"])
    for i in range(rows):
        ws.append([client, "1040", 2020 + i, 1000 + i, "CP14", date(2026, 2, 16), "Y"])
    wb.save(path)


@pytest.fixture
def firm(tmp_path):
    root = tmp_path / "clients"
    (root / "alpha").mkdir(parents=True)
    (root / "beta").mkdir()
    client_workbook(root / "alpha" / "cases.xlsx", "ALPHA")
    client_workbook(root / "beta" / "cases.xlsx", "BETA", rows=2)
    (root / "beta" / "notes.csv").write_text("Client,Form,Year,Balance\nBETA,941,2025Q1,500\n")
    (root / "corrupt.xlsx").write_bytes(b"PK\x03\x04 truncated zip")
    client_workbook(root / "open-in-excel.xlsx", "GAMMA")
    (root / "~$open-in-excel.xlsx").write_bytes(b"owner")  # Excel's lock file
    wb = openpyxl.Workbook()
    wb.active.title = "Cases"
    wb.save(root / "empty.xlsx")
    # An encrypted package is an OLE container holding an EncryptedPackage stream; an old binary workbook is one without.
    (root / "protected.xlsx").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le"))
    (root / "old-format.xlsx").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504 + "Workbook".encode("utf-16-le"))
    (root / "older.xls").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504 + "Workbook".encode("utf-16-le"))
    return root


def digest(folder) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_good_files_land_bad_ones_are_reported_and_nothing_is_touched(firm, tmp_path, capsys) -> None:
    before = digest(firm)
    out = tmp_path / "firm-portfolio.xlsx"
    code = main(["triage", str(firm), "--as-of", "2026-03-02", "--out", str(out), "--json-log", str(tmp_path / "run.json")])
    assert code == 1
    err = capsys.readouterr().err
    for name, reason in (("corrupt.xlsx", "not a readable workbook"), ("open-in-excel.xlsx", "open in Excel"),
                         ("empty.xlsx", "no case-list headers"), ("protected.xlsx", "password-protected"),
                         ("old-format.xlsx", "Excel 97-2003 workbook saved under .xlsx"), ("older.xls", "not a readable workbook")):
        assert any(name in line and reason in line for line in err.splitlines()), (name, err)
    assert "Traceback" not in err
    portfolio = pl.read_excel(out, sheet_name="Portfolio")
    assert sorted(portfolio["Client ID"].unique()) == ["ALPHA", "BETA"]
    assert set(portfolio["Source"].str.extract(r"^(.*?),", 1)) == {"alpha/cases.xlsx", "beta/cases.xlsx", "beta/notes.csv"}
    issues = pl.read_excel(out, sheet_name="Issues")
    assert issues.filter(pl.col("Column") == "(file skipped)").height == 6
    log = json.loads((tmp_path / "run.json").read_text())
    assert len(log["files_read"]) == 3 and len(log["files_skipped"]) == 6 and log["rows"] == 6
    assert digest(firm) == before  # client files untouched, and no stray files left beside them


def test_many_files_are_read_in_worker_processes(tmp_path) -> None:
    for i in range(12):
        client_workbook(tmp_path / f"c{i:02d}.xlsx", f"C{i:02d}", rows=2)
    out = tmp_path / "out" / "p.csv"
    assert main(["triage", str(tmp_path), "--as-of", "2026-03-02", "--out", str(out), "-q"]) == 0
    assert pl.read_csv(out).height == 24


def test_nothing_readable_exits_2(tmp_path) -> None:
    (tmp_path / "bad.xlsx").write_bytes(b"garbage")
    assert main(["triage", str(tmp_path), "--out", str(tmp_path / "o.csv"), "-q"]) == 2
    assert main(["triage", str(tmp_path / "nothing-here"), "--out", str(tmp_path / "o.csv"), "-q"]) == 2


HOLD_THE_LOCK = """
import sys, time
from pathlib import Path
from acsxl.io.writer import output_lock
with output_lock(Path(sys.argv[1]), 0):
    Path(sys.argv[2]).touch()
    time.sleep(60)
"""


@contextmanager
def held_by_another_run(out: Path) -> Iterator[subprocess.Popen]:
    """Another process holding ``out``'s lock until the block ends (then killed, as a crash would)."""
    holding = out.with_name("holding")
    other = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(out), str(holding)])
    try:
        deadline = time.monotonic() + 30
        while not holding.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield other
    finally:
        other.kill()
        other.wait()


def test_a_second_run_on_the_same_output_waits_then_gives_up(tmp_path) -> None:
    out = tmp_path / "p.xlsx"
    with held_by_another_run(out):
        started = time.monotonic()
        with pytest.raises(Busy, match="another acsxl run"), output_lock(out, wait_seconds=0.3):
            pass
        assert time.monotonic() - started >= 0.3
    with output_lock(out, wait_seconds=5):  # the lock went with the process that held it, killed as it was
        pass


@pytest.mark.parametrize("left", [
    "999999999",  # the process id of a run long gone
    "1",  # a live process's id (init, or the run itself as PID 1 in a container)
    str(os.getpid()),  # this very process
    "",  # empty: a run killed before it wrote anything
    "\x00\xff garbled {",  # damaged
    '{"pid": 1, "host": "another-host", "since": 0}',  # another host on a network share, years ago
])
def test_a_lock_file_left_behind_is_no_lock_whatever_it_holds(tmp_path, left: str) -> None:
    """An operating-system lock: the file that remains after a run (or a crash) holds nobody up, and
    no process is signalled to find out (os.kill(pid, 0) ends a process on Windows)."""
    out = tmp_path / "p.xlsx"
    (tmp_path / ".p.xlsx.lock").write_text(left, encoding="utf-8", errors="surrogateescape")
    (tmp_path / ".p.xlsx.lock.holder").write_text(left, encoding="utf-8", errors="surrogateescape")
    with output_lock(out, wait_seconds=0):  # taken at once: no wait, no error
        pass
    assert not (tmp_path / ".p.xlsx.lock.holder").exists()


def test_a_busy_lock_says_who_holds_it_and_for_how_long(tmp_path) -> None:
    """The message names the holder's process, host and start; a lock held for hours says the run may hang."""
    import socket

    from acsxl.io import writer

    out = tmp_path / "p.xlsx"
    with held_by_another_run(out) as other:
        with pytest.raises(Busy) as busy, output_lock(out, wait_seconds=0):
            pass
        assert f"held by acsxl (pid {other.pid}) on {socket.gethostname()} since " in str(busy.value)
        assert "hours" not in str(busy.value)
        note = writer._holder_note(writer.lock_path(out), time.time() + 7 * 3600)
        assert "7 hours: if that run hangs, end it" in note


STOPPED_WHILE_WRITING = """
import sys, time
from pathlib import Path
from acsxl import cli
from acsxl.portfolio import service

def half_written(frame, path, run):
    path.write_bytes(b"PK half a workbook")
    Path(sys.argv[1]).touch()  # tell the test the write is under way
    time.sleep(60)

service.write_portfolio = half_written
sys.exit(cli.main(sys.argv[2:]))
"""


@pytest.mark.skipif(os.name != "posix", reason="a scheduler's SIGTERM")
def test_a_run_stopped_by_sigterm_leaves_the_old_output_and_no_temporary_file_or_lock(firm, tmp_path) -> None:
    """A scheduler's time limit sends SIGTERM mid-write: the half-written temporary file and the lock
    go, last night's portfolio stays as it was, and the run says so (stderr, run log) and exits 143."""
    reports = tmp_path / "reports"
    reports.mkdir()
    out = reports / "firm-portfolio.xlsx"
    out.write_bytes(b"last night's portfolio")
    writing, log = tmp_path / "writing", tmp_path / "run.json"
    run = subprocess.Popen([sys.executable, "-c", STOPPED_WHILE_WRITING, str(writing),
                            "triage", str(firm), "--as-of", "2026-11-23", "--out", str(out), "--json-log", str(log), "-q"],
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not writing.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writing.exists(), "the run never reached the write"
    assert {p.name for p in reports.iterdir()} > {"firm-portfolio.xlsx", ".firm-portfolio.xlsx.lock"}  # a temporary file too
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=30)
    assert run.returncode == 143
    assert err.strip().endswith("acsxl: terminated")
    assert sorted(p.name for p in reports.iterdir()) == [".firm-portfolio.xlsx.lock", "firm-portfolio.xlsx"]  # the lock file stays, unheld
    assert out.read_bytes() == b"last night's portfolio"
    assert json.loads(log.read_text())["exit_code"] == 143


def test_a_stopped_run_ends_its_progress_line_before_saying_so(firm, monkeypatch, capsys) -> None:
    def stopped_after_one_file(inputs, sheet, step, prefetch, config=None):
        step()
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "Progress", lambda total, enabled=None: Progress(total, sys.stderr, enabled=True))
    monkeypatch.setattr(commands.service, "read_files", stopped_after_one_file)
    assert main(["triage", str(firm), "--as-of", "2026-11-23", "--out", "-"]) == 130
    assert capsys.readouterr().err.endswith(" files\nacsxl: interrupted\n")


def test_a_closed_pipe_ends_quietly_and_the_log_can_go_to_standard_output(tmp_path) -> None:
    """`acsxl triage ... | head` ended with 'Broken pipe' and exit 2; `--json-log -` wrote a file named '-'."""
    cases = tmp_path / "c.csv"
    sample_cases(3000, seed=2).write_csv(cases)
    run = subprocess.run(f"{sys.executable} -m acsxl.cli triage {cases} --as-of 2026-11-23 | head -1", shell=True,
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.stdout.startswith("rank,client_name") and "Broken pipe" not in run.stderr and "Traceback" not in run.stderr
    log = subprocess.run([sys.executable, "-m", "acsxl.cli", "triage", str(cases), "--as-of", "2026-11-23", "--out",
                          str(tmp_path / "p.csv"), "--json-log", "-", "-q"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    data = json.loads(log.stdout)
    assert data["exit_code"] == 0 and data["rows"] == 3000 and not (tmp_path / "-").exists()
    assert data["acsxl_version"] and data["parameters_version"] and "T" in data["started"] and "T" in data["finished"]


def test_a_year_without_a_published_passport_amount_is_said_for_the_run_and_on_its_rows(tmp_path, capsys) -> None:
    """RR §5.3: no amount for 2027 in the parameters: the 2026 one is carried forward, and the run says so
    (standard error, the JSON log, the Summary sheet) besides the rows it can decide (their issues)."""
    cases = tmp_path / "cases.csv"
    cases.write_text("Client,Form,Tax Year,Balance,Notice,Notice Date,Filed,Lien\n"
                     "A1,1040,2019,70000,CP504,2027-01-04,Y,Y\nB1,1040,2020,900,CP14,2027-02-08,Y,\n", encoding="utf-8")
    out, log = tmp_path / "p.xlsx", tmp_path / "run.json"
    assert main(["triage", str(cases), "--as-of", "2027-03-01", "--out", str(out), "--json-log", str(log)]) == 0
    err = capsys.readouterr().err
    assert "acsxl: warning: no 2027 passport threshold in acsxl: the 2026 amount $66,000 is carried forward, unverified" in err
    logged = json.loads(log.read_text())
    assert any("carried forward" in c for c in logged["caveats"])
    assert (logged["rows_with_issues"], logged["rows_with_unverified"]) == (0, 1)  # a caveat is not a problem to fix
    assert "(0 with issues, 1 using an unverified amount)" in err
    summary = openpyxl.load_workbook(out, read_only=True)["Summary"]
    assert "carried forward" in next(summary.iter_rows(min_row=3, max_row=3, values_only=True))[0]
    shown = list(openpyxl.load_workbook(out, read_only=True)["Portfolio"].iter_rows(values_only=True))
    rows = {r[shown[0].index("Client ID")]: r for r in shown[1:]}
    assert any("carried forward" in str(v) for v in rows["A1"]) and not any("carried forward" in str(v) for v in rows["B1"])
    assert main(["triage", str(cases), "--as-of", "2026-03-02", "--out", str(tmp_path / "q.csv"), "--json-log", str(log), "-q"]) == 0
    assert json.loads(log.read_text())["caveats"] == []


def test_a_lock_held_for_hours_by_a_hung_run_is_taken_over_and_said(firm, tmp_path, capsys) -> None:
    """Issue #23 point 5: a run that hangs holds its lock for ever; past 6 hours the next nightly run
    writes anyway (atomically, so nothing is ever half written) and says whose lock it took over."""
    out = tmp_path / "reports" / "p.xlsx"
    out.parent.mkdir()
    with held_by_another_run(out) as other:
        holder = out.with_name(".p.xlsx.lock.holder")
        record = json.loads(holder.read_text())
        assert record["pid"] == other.pid
        holder.write_text(json.dumps({**record, "since": record["since"] - 7 * 3600}))  # it started 7 hours ago
        assert main(["triage", str(firm), "--as-of", "2026-11-23", "--out", str(out), "--wait", "0"]) == 1
        err = capsys.readouterr().err
        assert f"held by acsxl (pid {other.pid})" in err and "7 hours" in err and "taken over, written anyway" in err
        assert openpyxl.load_workbook(out, read_only=True).sheetnames[0] == "Portfolio"
        holder.write_text(json.dumps(record))  # a lock held for minutes is waited for, never taken over
        assert main(["triage", str(firm), "--as-of", "2026-11-23", "--out", str(out), "--wait", "0", "-q"]) == 2
        assert "another acsxl run is writing" in capsys.readouterr().err

"""The JSON log on every way a run can end (#23 point 10): a monitor reads today's log, whole, with the
exit code the shell saw and the one line the run said, whether the run finished, failed, was stopped or
could not write its output, and even when the log itself cannot be written, the run says so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from acsxl.cli import commands, main


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    path.write_text("Client,Form,Tax Year,Balance,Notice,Notice Date,Filed\nA1,1040,2022,5000,CP504,2026-11-02,Y\n", encoding="utf-8")
    return path


def run(cases: Path, log: Path, *extra: str) -> int:
    return main(["triage", str(cases), "--as-of", "2026-11-23", "--json-log", str(log), "-q", *extra])


class PanicException(BaseException):
    """What pyo3 raises for a panic inside polars: not an Exception."""


def test_an_unexpected_error_ends_with_one_line_exit_2_and_the_log(cases, tmp_path, monkeypatch, capsys) -> None:
    def broken(read, as_of, dates):
        raise RuntimeError("something nobody foresaw\nsecond line")

    monkeypatch.setattr(commands.service, "triage_read", broken)
    log = tmp_path / "run.json"
    assert run(cases, log, "--out", str(tmp_path / "p.csv")) == 2
    err = capsys.readouterr().err
    assert err == "acsxl: error: RuntimeError: something nobody foresaw\n"
    logged = json.loads(log.read_text())
    assert logged["exit_code"] == 2 and logged["error"] == "error: RuntimeError: something nobody foresaw"
    assert logged["as_of"] == "2026-11-23" and logged["files_read"]  # what was done before the failure is kept


def test_a_panic_in_a_library_ends_with_exit_2_and_the_log(cases, tmp_path, monkeypatch, capsys) -> None:
    def panics(read, as_of, dates):
        raise PanicException("called `Option::unwrap()` on a `None` value")

    monkeypatch.setattr(commands.service, "triage_read", panics)
    log = tmp_path / "run.json"
    assert run(cases, log) == 2
    assert "internal error in a library" in capsys.readouterr().err
    assert json.loads(log.read_text())["exit_code"] == 2


def test_an_unwritable_output_still_writes_the_log(cases, tmp_path, capsys) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    log = tmp_path / "run.json"
    assert run(cases, log, "--out", str(blocker / "p.xlsx")) == 2
    assert "cannot write" in capsys.readouterr().err
    logged = json.loads(log.read_text())
    assert logged["exit_code"] == 2 and logged["rows"] == 1


def test_a_bad_settings_file_before_anything_is_read_still_writes_the_log(cases, tmp_path, capsys) -> None:
    settings = tmp_path / "acsxl.toml"
    settings.write_text("[headers\nbroken = ", encoding="utf-8")
    log = tmp_path / "run.json"
    assert run(cases, log, "--config", str(settings)) == 2
    err = capsys.readouterr().err
    assert "acsxl.toml" in err and "Traceback" not in err
    logged = json.loads(log.read_text())
    assert logged["exit_code"] == 2 and "acsxl.toml" in logged["error"] and logged["as_of"] == "2026-11-23"


def test_an_interrupted_run_writes_the_log_with_exit_130(cases, tmp_path, monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands.service, "read_files", interrupted)
    log = tmp_path / "run.json"
    assert run(cases, log) == 130
    assert json.loads(log.read_text())["exit_code"] == 130


def test_a_log_that_cannot_be_written_is_said_and_fails_the_run(cases, tmp_path, capsys) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    assert run(cases, blocker / "run.json", "--out", str(tmp_path / "p.csv")) == 2
    err = capsys.readouterr().err
    assert "cannot write the log" in err and "Traceback" not in err
    assert (tmp_path / "p.csv").exists()  # the run's own work was done


def test_a_full_disk_leaves_yesterdays_log_whole_not_a_truncated_one(cases, tmp_path, monkeypatch, capsys) -> None:
    log = tmp_path / "run.json"
    log.write_text('{"exit_code": 0, "from": "yesterday"}\n')

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    assert run(cases, log, "--out", str(tmp_path / "p.parquet")) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert json.loads(log.read_text()) == {"exit_code": 0, "from": "yesterday"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".run.json")] == []


def test_no_case_list_found_writes_the_log(tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    log = tmp_path / "run.json"
    assert main(["triage", str(empty), "--as-of", "2026-11-23", "--json-log", str(log), "-q"]) == 2
    assert json.loads(log.read_text())["exit_code"] == 2

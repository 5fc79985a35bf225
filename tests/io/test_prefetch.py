"""The command line's head start: it starts reading the workbooks before it imports polars and the
engine, and the run then takes what was loaded, unless the file changed since or could not be loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import openpyxl
import pytest

from acsxl.cli import main
from acsxl.io import inputs, reader
from acsxl.io.inputs import PARALLEL_FROM, Prefetch, file_stamp, prefetch_for
from acsxl.io.reader import read_cases

HEADER = ["Client ID", "Form", "Tax period", "Balance", "Last notice", "Notice date"]


def cases_workbook(path: Path, balance: float) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Cases"
    ws.append(HEADER)
    ws.append(["C1", "1040", "2023", balance, "CP14", "2026-10-01"])
    wb.save(path)
    return path


def counted(monkeypatch) -> dict[str, int]:
    """Loads by the head start (inputs.load_sheet) and by the reader itself (its own name for it)."""
    calls = {"head start": 0, "reader": 0}
    load = inputs.load_sheet

    def by(who: str):
        def counting(path, sheet, aliases=None):
            calls[who] += 1
            return load(path, sheet, aliases)
        return counting

    monkeypatch.setattr(inputs, "load_sheet", by("head start"))
    monkeypatch.setattr(reader, "load_sheet", by("reader"))
    return calls


def test_the_command_line_does_not_import_polars_before_it_starts_reading() -> None:
    loaded = subprocess.run([sys.executable, "-c", "import sys, acsxl.cli; print(sorted({'polars', 'pyarrow', 'acsxl.engine'} & set(sys.modules)))"],
                            check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "[]"


def test_a_run_loads_its_workbook_once_on_the_head_start(tmp_path, monkeypatch) -> None:
    calls = counted(monkeypatch)
    book = cases_workbook(tmp_path / "c.xlsx", 1200.0)
    assert main(["triage", str(book), "--as-of", "2026-11-23", "--out", str(tmp_path / "p.csv"), "-q"]) == 0
    assert calls == {"head start": 1, "reader": 0}
    assert "1200.0" in (tmp_path / "p.csv").read_text()


def test_a_workbook_changed_after_its_head_start_is_read_again(tmp_path, monkeypatch) -> None:
    book = cases_workbook(tmp_path / "c.xlsx", 1200.0)
    load = inputs.load_sheet

    def loaded_then_changed(path, sheet, aliases=None):
        loaded = load(path, sheet, aliases)
        cases_workbook(path, 98765.0)  # saved again (in Excel, say) just after the head start read it
        later = file_stamp(path)[0] + 10**9  # a later time, even where the clock is coarse
        os.utime(path, ns=(later, later))
        changed.set()
        return loaded

    changed = threading.Event()
    monkeypatch.setattr(inputs, "load_sheet", loaded_then_changed)
    prefetch = Prefetch([book], None)
    assert changed.wait(30)
    cases = read_cases(book, prefetched=prefetch.take)
    assert cases.frame["balance"].to_list() == [98765.0]


def test_a_head_start_for_another_sheet_is_not_taken(tmp_path, monkeypatch) -> None:
    calls = counted(monkeypatch)
    book = cases_workbook(tmp_path / "c.xlsx", 1200.0)
    prefetch = Prefetch([book], None)  # loads the default sheet, which happens to be Cases
    assert read_cases(book, "Cases", prefetched=prefetch.take).frame.height == 1
    assert calls == {"head start": 1, "reader": 1}


def test_a_workbook_the_head_start_could_not_load_is_reported_by_the_reader_as_usual(tmp_path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    prefetch = Prefetch([bad], None)
    with pytest.raises(inputs.UnreadableInput, match=r"bad\.xlsx: not a readable workbook"):
        read_cases(bad, prefetched=prefetch.take)


def test_many_files_go_to_worker_processes_without_a_head_start(tmp_path) -> None:
    few = [(tmp_path / f"c{i}.xlsx", f"c{i}.xlsx") for i in range(PARALLEL_FROM - 1)]
    assert isinstance(prefetch_for(few, None), Prefetch)
    assert prefetch_for([*few, (tmp_path / "one-more.xlsx", "one-more.xlsx")], None) is None

"""Each file within a time limit in folder runs (#23 point 7): a file a library hangs on is given up and
reported, the worker processes are started again, and every other file is still done, in order."""

from __future__ import annotations

import time
from pathlib import Path

from acsxl.io.reader import _too_long as read_too_long
from acsxl.io.workers import bounded_map
from acsxl.portfolio.service import _too_long as refresh_too_long


def nap(seconds: float) -> str:
    time.sleep(seconds)
    return f"slept {seconds}"


def given_up(task: float, seconds: float) -> str:
    return f"gave up on {task} after {seconds}"


def test_a_task_over_the_limit_is_given_up_and_the_others_are_done_in_order() -> None:
    tasks = [0.0, 600.0, 0.1, 0.0, 600.0, 0.0, 0.2, 0.0]
    steps = []
    started = time.monotonic()
    results = bounded_map(nap, tasks, given_up, lambda: steps.append(1), seconds=2)
    assert time.monotonic() - started < 120  # not the 600 s of either hanging task
    assert results == [given_up(t, 2) if t == 600.0 else f"slept {t}" for t in tasks]
    assert len(steps) == len(tasks)


def test_a_file_given_up_is_said_as_skipped_or_not_refreshed() -> None:
    result, cases = read_too_long((Path("clients/slow.xlsx"), "slow.xlsx", None, None, None), 300)
    assert cases is None and result.error == ("clients/slow.xlsx: still being read after 300 s; skipped (a damaged file? "
                                              "open it in Excel and save it again)")
    import polars as pl

    done = refresh_too_long((Path("clients/slow.xlsx"), pl.DataFrame({"rank": [1, 2]}), None, None), 300)
    assert done.status == "not_refreshed" and "still being refreshed after 300 s" in done.message and done.rows == 2


def nap_until_stopped(seconds: float, stop=None) -> str:
    stop.wait(seconds)
    return "stopped" if stop.is_set() else f"slept {seconds}"


def test_a_few_files_are_done_here_each_within_the_limit_too() -> None:
    """A run of a few files works on them in this process (no workers to start): a file over the limit is
    given up all the same, and its work is told to stop before it changes anything."""
    from acsxl.io.workers import bounded_call

    seen = []

    def watched(seconds: float, stop=None) -> str:
        seen.append(stop)
        return nap_until_stopped(seconds, stop)

    assert bounded_call(watched, 0.0, given_up, seconds=5) == "slept 0.0"
    assert bounded_call(watched, 600.0, given_up, seconds=1) == given_up(600.0, 1)
    assert seen[-1].is_set()


def test_a_refresh_given_up_leaves_the_workbook_as_it_was(tmp_path) -> None:
    import threading
    from datetime import date

    import pytest

    from acsxl.engine import triage
    from acsxl.errors import NotRefreshed
    from acsxl.io.reader import read_cases
    from acsxl.portfolio.columns import Sources
    from acsxl.portfolio.inplace import refresh_workbook
    from acsxl.portfolio.layout import RunInfo
    from acsxl.portfolio.sample import sample_cases

    client = tmp_path / "client.xlsx"
    sample_cases(8, seed=2).write_excel(client, worksheet="Cases")
    cases = read_cases(client)
    before = client.read_bytes()
    stop = threading.Event()
    stop.set()  # the run gave up on it while it was being written
    with pytest.raises(NotRefreshed, match="given up"):
        refresh_workbook(client, triage(cases.frame.with_columns(source_file=0), date(2026, 11, 23)),
                         RunInfo(date(2026, 11, 23), Sources((cases.source,))), cases.stamp, stop)
    assert client.read_bytes() == before and not list(tmp_path.glob(".*.acsxl-tmp"))

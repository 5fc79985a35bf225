"""The D.C. holiday calendar saved in the user's cache folder, so that a run need not load the
holidays package: to give the US calendar it imports all of its ~250 country modules, which costs a
command-line run ~0.13 s of CPU, contends with the workbook reader for the interpreter lock, and
slows the exit (measured, 100k-row portfolio as a new process: median 1.79 -> 1.75 s).

The copy is named after the holidays package's version and holds the calendar's source and years,
so an upgrade of either works the calendar out afresh. The cache is only a shortcut: a missing,
unreadable or stale copy is worked out again and rewritten (atomically, temp file then rename), and
a folder that cannot be written leaves the run as it would be without it. ``ACSXL_CACHE_DIR`` names
another folder; set to the empty string, it turns the cache off."""

from __future__ import annotations

import json
import os
from contextlib import suppress
from datetime import date
from importlib import metadata
from pathlib import Path

from acsxl.io.writer import atomic_write
from acsxl.rules import calendar

CACHE_ENV = "ACSXL_CACHE_DIR"


def cache_folder() -> Path | None:
    """Where acsxl keeps its cache (None: turned off)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return Path(chosen) if chosen else None
    import platformdirs  # only when no folder is named

    return Path(platformdirs.user_cache_dir("acsxl", appauthor=False))


def cache_file() -> Path | None:
    folder = cache_folder()
    if folder is None:
        return None
    try:
        version = metadata.version("holidays")
    except metadata.PackageNotFoundError:
        return None
    return folder / f"dc-holidays-{version}.json"


def _contents() -> dict:
    return {"source": calendar.SOURCE, "years": [calendar.YEARS.start, calendar.YEARS.stop - 1]}


def load_calendar(year: int) -> None:
    """Hand the rules the saved calendar; when there is none (or it does not match), work it out and
    save it. With the cache turned off, only ``year`` is worked out ahead (the rest as needed)."""
    path = cache_file()
    if path is None:
        calendar.prepare(year)
        return
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if {k: saved[k] for k in ("source", "years")} != _contents():
            raise ValueError("another calendar")
        calendar.use({int(year): [date.fromisoformat(d) for d in days] for year, days in saved["holidays"].items()})
        return
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # no copy yet, or not one we can use: worked out below
    holidays = {str(year): sorted(d.isoformat() for d in days) for year, days in calendar.table().items()}
    with suppress(OSError):  # a folder we cannot write: the run goes on without the copy
        atomic_write(path, lambda temp: temp.write_text(json.dumps({**_contents(), "holidays": holidays}), encoding="utf-8"))

"""What reading back the typed values of yesterday's portfolio costs (issue #24 point 9), run by hand:

    .venv/bin/python bench/notes.py [--rows 100000] [--rounds 3]

`acsxl triage` of a 100k-row workbook to a portfolio, as a new process each time, written:

- fresh: no portfolio there yet;
- over an untouched one: yesterday's, as acsxl wrote it, nothing typed (its Portfolio sheet says so at the
  top: not read back);
- over one with notes, as acsxl wrote it: 1 row in 100 with a Status and a Note (read back);
- over the same saved by LibreOffice (as a user's spreadsheet application saves it; made once with
  soffice and kept in bench/data, skipped when soffice is not installed).

Target: the read-back adds at most 10% to the fresh run."""

from __future__ import annotations

import acsxl.cli.main

# isort: split
import argparse
import compileall
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from statistics import median

import fastexcel
from portfolio import AS_OF, DATA, cli, measured, workbook

from acsxl.io.reader import FileResult, read_cases
from acsxl.portfolio import service
from acsxl.portfolio.working import kept_from_values


def with_notes(cases: Path, base: Path, target: Path, every: int = 100) -> None:
    """``base`` written again with a Status and a Note on one row in ``every``."""
    keys = fastexcel.read_excel(str(base)).load_sheet("Portfolio", use_columns=["Client ID", "Name", "Form", "Period"],
                                                     dtypes="string").to_polars()
    rows = [["Client ID", "Name", "Form", "Period", "Status", "Note"]]
    rows += [[*key, "open", f"note {i}: 12153 faxed 11/24"] for i, key in enumerate(keys.gather_every(every).iter_rows())]
    triaged = service.triage_read([(FileResult(str(cases), cases.name), read_cases(cases))], AS_OF)
    triaged.run.kept = kept_from_values(rows, None, target.name)
    service.write(triaged, target)


def saved_by_libreoffice(source: Path, target: Path) -> bool:
    if target.exists():
        return True
    if shutil.which("soffice") is None:
        return False
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["soffice", "--headless", "--convert-to", "xlsx", "--outdir", folder, str(source)], check=True, capture_output=True)
        shutil.move(Path(folder) / source.name, target)
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    compileall.compile_dir(Path(acsxl.__file__).parent, quiet=1)
    cases = workbook(args.rows)
    untouched, noted, resaved = (DATA / f"notes-{args.rows}-{kind}.xlsx" for kind in ("untouched", "acsxl", "libreoffice"))
    subprocess.run(cli([cases], untouched), check=True)
    with_notes(cases, untouched, noted)
    starts = {"fresh": None, "over an untouched one": untouched, "over one with notes, as acsxl wrote it": noted}
    if saved_by_libreoffice(noted, resaved):
        starts["over one with notes, saved by LibreOffice"] = resaved
    out = DATA / "notes-out.xlsx"
    times: dict[str, list[float]] = {name: [] for name in starts}
    for _ in range(args.rounds):  # interleaved: the machine's drift hits every case alike
        for name, start in starts.items():
            out.unlink(missing_ok=True)
            if start is not None:
                shutil.copy(start, out)
            times[name].append(measured(cli([cases], out))[0])
    fresh = median(times["fresh"])
    for name, seconds in times.items():
        print(f"{args.rows:,} rows -> portfolio, {name}: median {median(seconds):.2f} s ({', '.join(f'{s:.2f}' for s in seconds)}), "
              f"{median(seconds) / fresh - 1:+.0%} against fresh  target <= +10%")


if __name__ == "__main__":
    main()

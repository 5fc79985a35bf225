"""Bounded work (#23 point 7): a zip bomb is refused from its zip directory, before anything is inflated, by
the nightly read and by the in-place refresh alike; the run's memory stays far below what it claims."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import xlsxwriter

from acsxl.portfolio.sample import sample_cases
from acsxl.xlsx.package import MAX_PACKAGE_BYTES, MAX_PART_BYTES

# The command, then its own peak memory (bytes) on the last line of standard output.
RUN = """
import resource, sys
from acsxl.cli import main
code = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024))
sys.exit(code)
"""


def bomb(path: Path, inflated: int) -> Path:
    """A real client workbook plus one part of ``inflated`` zero bytes (deflate shrinks it ~1000 times)."""
    plain = path.with_name("plain.xlsx")
    book = xlsxwriter.Workbook(str(plain))
    sample_cases(5, seed=1, anchor=date(2026, 11, 21)).write_excel(book, worksheet="Cases")
    book.close()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info.filename))
        with out.open("xl/media/padding.bin", "w", force_zip64=True) as part:
            chunk = b"\0" * (16 << 20)
            for _ in range(-(-inflated // len(chunk))):
                part.write(chunk)
    return path


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path) -> None:
    assert MAX_PART_BYTES < MAX_PACKAGE_BYTES
    client = bomb(tmp_path / "client.xlsx", MAX_PART_BYTES + (256 << 20))
    assert client.stat().st_size < 16 << 20  # megabytes on disk, over a gigabyte inflated
    before = client.read_bytes()
    for command in (["triage", str(client), "--out", str(tmp_path / "p.csv")], ["refresh", str(client)]):
        run = subprocess.run([sys.executable, "-c", RUN, *command, "--as-of", "2026-11-23"], capture_output=True, text=True, timeout=300)
        assert run.returncode == 2, run.stderr
        assert "inflates to" in run.stderr and "more than acsxl reads" in run.stderr and "Traceback" not in run.stderr
        peak = int(run.stdout.split()[-1])
        assert peak < MAX_PART_BYTES // 2, f"{command[0]} reached {peak:,} bytes"
    assert client.read_bytes() == before


def test_a_refresh_copies_a_large_part_as_a_stream_never_whole_in_memory(tmp_path) -> None:
    """A workbook with a 600 MB part (a picture, say; within the limits) is refreshed with its parts copied
    as streams: the run's memory stays well under the part's size, and the part keeps its bytes."""
    client = bomb(tmp_path / "client.xlsx", 600 << 20)
    with zipfile.ZipFile(client) as archive:
        before = archive.getinfo("xl/media/padding.bin")
    run = subprocess.run([sys.executable, "-c", RUN, "refresh", str(client), "--as-of", "2026-11-23", "-q"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    peak = int(run.stdout.split()[-1])
    assert peak < 400 << 20, f"the refresh reached {peak:,} bytes"
    with zipfile.ZipFile(client) as archive:
        info = archive.getinfo("xl/media/padding.bin")
        assert (info.file_size, info.CRC) == (before.file_size, before.CRC)
        with archive.open(info) as part:  # read through: its checksum holds
            while part.read(16 << 20):
                pass
        assert any("acsxl_portfolio" in name for name in archive.namelist())

"""Ownership, permissions and links (#23 point 9): a refreshed workbook keeps its owner, group and mode, or
is left as it is; what acsxl writes beside or about client files is never more readable than they are; a
read-only workbook is not refreshed; a linked workbook is refreshed where the link leads; a folder run does
not follow links out of the folder, nor read a file twice through a link."""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from acsxl.cli import main
from acsxl.portfolio.sample import sample_cases

AS_OF = "2026-11-23"


def workbook(path: Path, rows: int = 6) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sample_cases(rows, seed=9, anchor=date(2026, 11, 21)).write_excel(book, worksheet="Cases")
    book.close()
    return path


def sheets(path: Path) -> list[str]:
    return openpyxl.load_workbook(path, read_only=True).sheetnames


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to own a file as another account")
def test_a_refresh_run_as_root_keeps_the_client_owner_group_and_mode(tmp_path) -> None:
    client = workbook(tmp_path / "client.xlsx")
    os.chown(client, 4321, 8765)
    os.chmod(client, 0o600)
    assert main(["refresh", str(client), "--as-of", AS_OF, "-q"]) == 0
    info = client.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 8765, 0o600)
    assert "Portfolio" in sheets(client)


def test_a_workbook_whose_owner_cannot_be_kept_is_left_as_it_is(tmp_path, monkeypatch, capsys) -> None:
    client = workbook(tmp_path / "client.xlsx")
    before = client.read_bytes()
    real_stat = Path.stat

    def owned_by_another(self, *args, **kwargs):  # the client's file belongs to another account
        info = real_stat(self, *args, **kwargs)
        if self == client:
            return os.stat_result((info.st_mode, info.st_ino, info.st_dev, info.st_nlink, info.st_uid + 1, info.st_gid,
                                   info.st_size, info.st_atime, info.st_mtime, info.st_ctime))
        return info

    def refused(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "stat", owned_by_another)
    monkeypatch.setattr(os, "chown", refused)
    assert main(["refresh", str(client), "--as-of", AS_OF]) == 1
    assert "owner" in capsys.readouterr().err
    monkeypatch.undo()
    assert client.read_bytes() == before
    assert not list(tmp_path.glob(".*.acsxl-*"))


def test_what_is_written_about_a_private_workbook_is_as_private(tmp_path) -> None:
    """A 0600 client file: the portfolio beside it, --out and --json-log are 0600 too, under a 022 umask."""
    private = tmp_path / "private.csv"
    sample_cases(5, seed=2).write_csv(private)
    os.chmod(private, 0o600)
    out, log = tmp_path / "reports" / "p.xlsx", tmp_path / "reports" / "run.json"
    assert main(["triage", str(private), "--as-of", AS_OF, "--out", str(out), "--json-log", str(log), "--in-place", "-q"]) == 0
    beside = tmp_path / "private.acsxl-portfolio.xlsx"
    assert {p.name: mode(p) for p in (beside, out, log)} == {"private.acsxl-portfolio.xlsx": 0o600, "p.xlsx": 0o600, "run.json": 0o600}
    open_file = tmp_path / "open.csv"  # a world-readable input alone: the umask decides
    sample_cases(5, seed=3).write_csv(open_file)
    os.chmod(open_file, 0o644)
    assert main(["triage", str(open_file), "--as-of", AS_OF, "--out", str(tmp_path / "q.csv"), "-q"]) == 0
    assert mode(tmp_path / "q.csv") == 0o644


def test_a_read_only_workbook_is_not_refreshed_and_said(tmp_path, capsys) -> None:
    client = workbook(tmp_path / "client.xlsx")
    os.chmod(client, 0o444)
    before = client.read_bytes()
    assert main(["refresh", str(client), "--as-of", AS_OF]) == 1
    assert "marked read-only" in capsys.readouterr().err
    assert client.read_bytes() == before and mode(client) == 0o444


def test_a_linked_workbook_is_refreshed_where_the_link_leads(tmp_path) -> None:
    (tmp_path / "shared").mkdir()
    real = workbook(tmp_path / "shared" / "client.xlsx")
    link = tmp_path / "desk" / "client.xlsx"
    link.parent.mkdir()
    link.symlink_to(real)
    assert main(["refresh", str(link), "--as-of", AS_OF, "-q"]) == 0
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert "Portfolio" in sheets(real)
    assert not list(link.parent.iterdir())[1:]  # nothing but the link on the desk


def test_a_folder_run_does_not_follow_links_out_of_the_folder_nor_read_a_file_twice(tmp_path, capsys) -> None:
    firm, elsewhere = tmp_path / "clients", tmp_path / "home"
    firm.mkdir()
    elsewhere.mkdir()
    sample_cases(4, seed=4).write_csv(firm / "a.csv")
    sample_cases(3, seed=5).write_csv(elsewhere / "secret.csv")
    (firm / "out.csv").symlink_to(elsewhere / "secret.csv")
    (firm / "again.csv").symlink_to(firm / "a.csv")
    log = tmp_path / "run.json"
    assert main(["triage", str(firm), "--as-of", AS_OF, "--out", str(tmp_path / "p.csv"), "--json-log", str(log)]) == 0
    err = capsys.readouterr().err
    assert "out.csv: a link to" in err and "not followed" in err and "again.csv: a link to a.csv, which is read itself" in err
    logged = json.loads(log.read_text())
    assert logged["rows"] == 4 and {f["path"].rsplit("/", 1)[-1] for f in logged["files_passed_over"]} == {"out.csv", "again.csv"}
    # Given by name, the linked file is read.
    assert main(["triage", str(firm / "out.csv"), "--as-of", AS_OF, "--out", str(tmp_path / "q.csv"), "-q"]) == 0

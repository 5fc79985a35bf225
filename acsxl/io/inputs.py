"""Finding case lists and loading their sheets, with nothing heavier than fastexcel: no polars, no
engine. So a command-line run can start reading its workbooks at once (``Prefetch``) and import the
engine while fastexcel works, which spends its time off the interpreter lock; ``acsxl.io.reader``
turns what is loaded here into the engine's input frame."""

from __future__ import annotations

import io
import logging
import re
import threading
import zipfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastexcel

from acsxl.errors import UnreadableInput
from acsxl.rules.schema import HEADER_ALIASES, header_key
from acsxl.rules.values import text
from acsxl.xlsx.package import Package, PackageError, package_sizes
from acsxl.xlsx.scan import first_value_cell

# fastexcel logs a warning for every column of mixed cell types it reads as text; such columns are
# normal in case lists (a bad row among dates) and parsed value by value, so the warning is noise.
logging.getLogger("fastexcel").setLevel(logging.ERROR)



@dataclass(frozen=True)
class InputFormat:
    """A kind of file a case list may come in: ``workbook`` (loaded with fastexcel, which reads Excel's
    formats and OpenDocument) or ``csv``; whether it is an Office Open XML package (``ooxml``: its
    rows can be located in its XML, and acsxl may write its sheets into it, ``refreshable``; the
    others get their portfolio written beside them); ``refused``: why it is not read."""

    suffix: str
    kind: str
    ooxml: bool = False
    refused: str | None = None

    @property
    def refreshable(self) -> bool:
        return self.ooxml


# The one table of input formats: what a folder run picks up, how each is read, which can be refreshed in place.
INPUT_FORMATS: dict[str, InputFormat] = {f.suffix: f for f in (
    InputFormat(".xlsx", "workbook", ooxml=True),
    InputFormat(".xlsm", "workbook", ooxml=True),
    InputFormat(".csv", "csv"),
    InputFormat(".xls", "workbook"),  # Excel 97-2003
    InputFormat(".xlsb", "workbook"),  # Excel binary workbook
    InputFormat(".ods", "workbook"),  # OpenDocument (LibreOffice, Google Sheets' download)
)}
SUFFIXES = frozenset(INPUT_FORMATS)
READABLE = ", ".join(s for s, f in INPUT_FORMATS.items() if f.refused is None)
BESIDE_SUFFIX = ".acsxl-portfolio.xlsx"  # a portfolio acsxl wrote beside a client workbook: output, never input
DEFAULT_SHEET = "Cases"
OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")  # an OLE container: an encrypted .xlsx, or an old binary workbook
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")  # the OLE stream an encrypted .xlsx keeps its package in
PARALLEL_FROM = 8  # files; below this, a run reads them here (starting worker processes costs more than it saves)
ERROR_COLUMN = re.compile(r"could not determine dtype for column (.+?)\s*$", re.MULTILINE)


def input_format(path: Path) -> InputFormat | None:
    return INPUT_FORMATS.get(path.suffix.lower())


def is_csv(path: Path) -> bool:
    found = input_format(path)
    return found is not None and found.kind == "csv"


def refreshable(path: Path) -> bool:
    """Whether acsxl may write its sheets into this file (a workbook package), rather than beside it."""
    found = input_format(path)
    return found is not None and found.refreshable


def expand_inputs(paths: list[Path], passed_over: list[tuple[Path, str, str]] | None = None) -> list[tuple[Path, str]]:
    """(path, label) for each case list: files as given (labelled by name); folders replaced by the
    case lists under them (labelled by their path inside the folder), skipping Excel lock files
    (~$...), hidden and temporary files, and portfolios acsxl wrote beside client workbooks.

    Links found in a folder are not followed out of it (a file outside is read only when given by
    name), nor read twice (a link to a case list read as itself); each is added to ``passed_over``
    as (path, label, why)."""
    out: list[tuple[Path, str]] = []
    for path in paths:
        if not path.is_dir():
            out.append((path, path.name))
            continue
        root = path.resolve()
        found = [p for p in sorted(path.rglob("*"))
                 if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(("~$", ".")) and not p.name.endswith((".tmp", BESIDE_SUFFIX))]
        themselves = {p.resolve() for p in found if not p.is_symlink()}
        for p in found:
            label = p.relative_to(path).as_posix()
            if p.is_symlink():  # (rglob does not go down linked folders)
                target = p.resolve()
                why = (f"{label}: a link to {target}, outside {path}; not followed (give the file itself to read it)"
                       if not target.is_relative_to(root) else
                       f"{label}: a link to {target.relative_to(root).as_posix()}, which is read itself" if target in themselves else None)
                if why is not None:
                    if passed_over is not None:
                        passed_over.append((p, label, why))
                    continue
            out.append((p, label))
    return out


def file_stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_mtime_ns, info.st_size


def excel_lock(path: Path) -> Path | None:
    """The lock file Excel keeps beside a workbook it has open (~$ plus the name, first two letters
    dropped for long names), or LibreOffice's (.~lock.NAME#)."""
    for name in (f"~${path.name}", f"~${path.name[2:]}", f".~lock.{path.name}#"):
        lock = path.with_name(name)
        if lock.exists():
            return lock
    return None


def checked(path: Path) -> tuple[int, int]:
    """The file's stamp (modification time, size), once it is known to be a case list that can be
    read: the right kind, there, not open in Excel, not empty, not encrypted."""
    found = input_format(path)
    if found is None:
        raise UnreadableInput(f"{path}: not a case list (expected {READABLE})")
    if not path.is_file():
        raise UnreadableInput(f"{path}: no such file")
    if found.refused:
        raise UnreadableInput(f"{path}: {found.refused}")
    lock = excel_lock(path) if found.kind == "workbook" else None
    if lock is not None:
        raise UnreadableInput(f"{path}: open in Excel (lock file {lock.name}); save and close it, then run again")
    stamp = file_stamp(path)
    if stamp[1] == 0:
        raise UnreadableInput(f"{path}: empty file")
    if found.ooxml and _head(path) == OLE_SIGNATURE:
        if ENCRYPTED_STREAM in path.read_bytes():
            raise UnreadableInput(f"{path}: password-protected (encrypted) workbook; save a copy without a password")
        raise UnreadableInput(f"{path}: an Excel 97-2003 workbook saved under {path.suffix}; open it in Excel and save it as .xlsx")
    if found.kind == "workbook":  # every kind but .xls is a zip package (and .xls is passed over there)
        try:
            package_sizes(path)
        except PackageError as err:
            raise UnreadableInput(f"{path}: {err}") from None
    return stamp


@dataclass(frozen=True)
class LoadedSheet:
    """A workbook's case sheet as fastexcel loads it: one Arrow record batch, typed columns; the sheet
    row (1-based) its first data row came from."""

    batch: Any  # pyarrow.RecordBatch
    sheet: str
    first_row: int = 2
    warning: str | None = None  # said with the file's warnings: where the rows' numbers could not be checked
    # The sheet column (0-based) of the batch's first column, where it is known for sure: 0 when the
    # sheet's first value is in column A (the range fastexcel reads then starts there); else None.
    first_column: int | None = None


TOP_ROWS = 30  # rows looked at for the header row when the first one does not look like it


def header_score(cells: Sequence[Any], aliases: Mapping[str, str] | None = None) -> int:
    """How many canonical columns a row of cells names (by the aliases; default the built-in ones)."""
    aliases = HEADER_ALIASES if aliases is None else aliases
    return len({aliases.get(header_key(text(c) or "")) for c in cells} - {None})


def load_sheet(path: Path, sheet: str | None, aliases: Mapping[str, str] | None = None) -> LoadedSheet:
    """The case list in the sheet named ``sheet``; else in the one named Cases; else in the first sheet
    with case-list headers (said in a note when it is not the first). The header row is the first row
    with a value, unless that names fewer than two columns: then the row among the first ``TOP_ROWS``
    that names the most (title rows, notes and blank rows above it are not cases; said in a note).

    A column of only error cells (#NAME?, #N/A: a formula that did not calculate) has no type; it is
    read as text, where the errors are blanks. Eager loading (the whole sheet, then one Arrow batch)
    is faster than fastexcel's default, with the same frames (bench/RESULTS.md). Column types are
    guessed from every row, not fastexcel's default of the first 1,000: otherwise a date typed as
    text in row 1,500 of a date column is read as a blank."""
    notes = []
    reader, left_out = open_workbook(path)
    if left_out:
        notes.append(f"{path.name}: its macro sheet{'s' if len(left_out) > 1 else ''} {', '.join(map(repr, left_out))} "
                     "(Excel 4 macros) not read")
    names = reader.sheet_names
    if not names:
        raise UnreadableInput(f"{path}: the workbook has no sheets")
    if sheet is not None:
        if sheet not in names:
            raise UnreadableInput(f"{path}: no sheet named {sheet!r} (sheets: {', '.join(names)})")
        candidates = [sheet]
    else:
        cases = next((n for n in names if n.strip().lower() == DEFAULT_SHEET.lower()), None)
        candidates = [cases] if cases else names
    for chosen in candidates:
        batch, above, score = _table(reader, path, chosen, aliases)
        if score or chosen == candidates[-1]:
            break
    if score == 0:
        batch, above, score = _table(reader, path, candidates[0], aliases)
        chosen = candidates[0]
    elif chosen != candidates[0]:
        notes.append(f"{path.name}: read sheet {chosen!r} (the first sheet, {candidates[0]!r}, has no case-list headers)")
    found = header_cell(path, chosen) if INPUT_FORMATS[path.suffix.lower()].ooxml else None
    first, first_column = (found[0], 0 if found[1] == "A" else None) if found else (None, None)
    if first is None and not INPUT_FORMATS[path.suffix.lower()].ooxml:
        first = 1
    if first is None:
        notes.append(f"{path.name}: sheet {chosen!r}: could not find the header row in the file's XML; rows are numbered as if the "
                     "headers were on row 1")
        first = 1
    if above:
        notes.append(f"{path.name}: sheet {chosen!r}: the headers are on row {first + above}; the rows above them are not cases")
    return LoadedSheet(batch, chosen, first + above + 1, "; ".join(notes) or None, first_column)


MACRO_SHEETS = ("xlMacrosheet", "xlIntlMacrosheet")  # Excel 4 macro sheets: the reader (calamine) cannot open a workbook with one


def open_workbook(path: Path) -> tuple[Any, list[str]]:
    """fastexcel's reader for the workbook, and the names of the sheets it had to leave out: a workbook
    with an Excel 4 macro sheet is opened without it (calamine cannot open one that has it)."""
    try:
        return fastexcel.read_excel(str(path)), []
    except Exception as err:  # fastexcel raises its own types for corrupt, encrypted or odd files
        unreadable = UnreadableInput(f"{path}: not a readable workbook ({first_line(err)})")
    try:
        if not Package.read(path, largest=1 << 20).without_sheets(MACRO_SHEETS)[1]:  # the sheet list alone says
            raise unreadable
        copy, left_out = Package.read(path).without_sheets(MACRO_SHEETS)
    except Exception:
        raise unreadable from None
    data = io.BytesIO()
    copy.write(data)
    try:
        return fastexcel.read_excel(data.getvalue()), left_out
    except Exception:
        raise unreadable from None


def _table(reader: Any, path: Path, chosen: str, aliases: Mapping[str, str] | None) -> tuple[Any, int, int]:
    """The sheet's table (an Arrow batch), the number of rows above its header row (counted from the
    first row with a value), and how many canonical columns its headers name."""
    batch = _load(reader, path, chosen, 0)
    score = header_score(batch.schema.names, aliases)
    if score >= 2:
        return batch, 0, score
    rows = [list(row.values()) for row in batch.slice(0, TOP_ROWS).to_pylist()]
    scores = [header_score(row, aliases) for row in rows]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i), default=None)
    if best is None or scores[best] <= score:
        return batch, 0, score
    return _load(reader, path, chosen, best + 1), best + 1, scores[best]


def _load(reader: Any, path: Path, chosen: str, header: int) -> Any:
    return _typed_load(reader, path, chosen, {}, header_row=header)


def _typed_load(reader: Any, path: Path, sheet: str, as_text: dict[str, str], **options: Any) -> Any:
    """A sheet as one Arrow batch, each column typed as its cells are (``as_text``: header -> "string"
    for those read as text whatever they hold). A column of mixed cells is read as text, parsed value
    by value downstream: fastexcel types a column of numbers with one text cell ("n/a", "$1,200") as
    numbers with that cell blank, and what was typed there would be lost (it reports the cells it
    could not convert: they decide). A column of only error cells (#NAME?) is read as text, the errors
    blank."""
    while True:
        try:
            loaded = reader.load_sheet(sheet, dtypes=as_text or None, schema_sample_rows=None, **options)
            batch, errors = loaded.to_arrow_with_errors()
        except fastexcel.CalamineCellError as err:
            found = ERROR_COLUMN.search(str(err))
            if found is None or found.group(1) in as_text:
                raise UnreadableInput(f"{path}: sheet {sheet!r} cannot be read ({first_line(err)})") from None
            as_text[found.group(1)] = "string"
            continue
        except Exception as err:
            raise UnreadableInput(f"{path}: sheet {sheet!r} cannot be read ({first_line(err)})") from None
        names = {column.absolute_index: column.name for column in loaded.selected_columns}
        mixed = {names[e.position[1]] for e in (errors.errors if errors is not None else ()) if e.position[1] in names} - set(as_text)
        if not mixed:
            return batch
        as_text.update(dict.fromkeys(mixed, "string"))


def load_columns(path: Path, sheets: Sequence[str], wanted: Callable[[str], bool], as_text: Collection[str] = ()) -> dict[str, Any]:
    """The columns of each sheet in ``sheets`` the workbook has (headers on the sheet's first row) whose
    header ``wanted`` accepts, each sheet as one Arrow batch; the headers in ``as_text`` read as text
    (a number as written, 1002 not 1002.0), the rest typed as their cells. Raises UnreadableInput."""
    reader, _ = open_workbook(path)
    return {sheet: _typed_load(reader, path, sheet, dict.fromkeys(as_text, "string"), header_row=0,
                               use_columns=lambda column: wanted(column.name))
            for sheet in sheets if sheet in reader.sheet_names}


def header_row(path: Path, sheet: str) -> int | None:
    """The sheet row (1-based) fastexcel takes the headers from: the first row with a value in it.
    Blank rows above a table (a title left out, a table moved down) are skipped by fastexcel, so the
    rows it returns are numbered from here, not from row 1. None when the sheet cannot be scanned
    (a package fastexcel reads but this does not): the caller says so."""
    found = header_cell(path, sheet)
    return None if found is None else found[0]


def header_cell(path: Path, sheet: str) -> tuple[int, str | None] | None:
    """The sheet row (1-based) fastexcel takes the headers from, and the column letters of its first
    value (``header_row``)."""
    try:
        part = Package.read(path, largest=1 << 20).sheet_parts().get(sheet)
        if part is None:
            return None
        with zipfile.ZipFile(path) as archive, archive.open(part) as xml:
            return first_value_cell(xml) or (1, None)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, PackageError):
        return None


class Prefetch:
    """Workbooks loaded one after the other on a thread, from now on, for a run that reads them in
    that order (``take``). Only a head start: a file whose load failed, or that changed since, is
    simply read again, so every message comes from the reader as usual."""

    def __init__(self, paths: Sequence[Path], sheet: str | None, aliases: Mapping[str, str] | None = None) -> None:
        self._sheet, self._aliases = sheet, aliases
        self._done = {path: threading.Event() for path in paths}
        self._loaded: dict[Path, tuple[tuple[int, int], LoadedSheet]] = {}
        threading.Thread(target=self._run, daemon=True).start()  # daemon: a stopped run does not wait for it

    def _run(self) -> None:
        for path, done in self._done.items():
            try:
                if (found := input_format(path)) is not None and found.kind == "workbook":
                    stamp = checked(path)  # before the load: a change during it shows in take()
                    self._loaded[path] = stamp, load_sheet(path, self._sheet, self._aliases)
            except Exception:
                pass
            finally:
                done.set()

    def take(self, path: Path, sheet: str | None, stamp: tuple[int, int]) -> LoadedSheet | None:
        """``path``'s sheet, once loaded, if it was asked for the same ``sheet`` and the file still has
        ``stamp``; None otherwise."""
        done = self._done.get(path)
        if done is None or sheet != self._sheet:
            return None
        done.wait()
        loaded = self._loaded.pop(path, None)
        return loaded[1] if loaded is not None and loaded[0] == stamp else None


def prefetch_for(inputs: Sequence[tuple[Path, str]], sheet: str | None, aliases: Mapping[str, str] | None = None) -> Prefetch | None:
    """A head start for a run that reads ``inputs`` here (fewer than PARALLEL_FROM); None for a run
    that hands them to worker processes."""
    return Prefetch([path for path, _ in inputs], sheet, aliases) if len(inputs) < PARALLEL_FROM else None


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(len(OLE_SIGNATURE))


def first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__

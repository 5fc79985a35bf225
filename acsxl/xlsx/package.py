"""A workbook file as an Open Packaging (zip) package: parts by name, their relationships and content
types. Edits are string-level and local, so every part nobody edits keeps its exact bytes."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CONTENT_TYPES = "[Content_Types].xml"
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
RELATIONSHIPS_TYPE = "application/vnd.openxmlformats-package.relationships+xml"
_RELATIONSHIP = re.compile(r"<Relationship\b[^>]*?/>")
# An attribute in either quote style (XML 1.0 §3.1): name="value" or name='value'.
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


class PackageError(Exception):
    """The file is not a workbook package we can edit safely; the message says why."""


# What a package may inflate to before acsxl reads it: far beyond a real workbook (a million-row sheet is
# a few hundred MB of XML), far below what would exhaust a machine's memory. A zip file states each
# part's size, and zipfile stops at it, so this is checked before anything is inflated.
MAX_PART_BYTES = 1 << 30  # 1 GiB for one part
MAX_PACKAGE_BYTES = 2 << 30  # 2 GiB for all of them


def check_sizes(infos: list[zipfile.ZipInfo]) -> None:
    """Raise PackageError when a part, or all of them, would inflate past the limits (a zip bomb)."""
    largest = max(infos, key=lambda info: info.file_size, default=None)
    total = sum(info.file_size for info in infos)
    if largest is not None and largest.file_size > MAX_PART_BYTES:
        raise PackageError(f"its part {largest.filename} inflates to {largest.file_size:,} bytes, more than acsxl reads "
                           f"({MAX_PART_BYTES:,}); not read")
    if total > MAX_PACKAGE_BYTES:
        raise PackageError(f"its parts inflate to {total:,} bytes, more than acsxl reads ({MAX_PACKAGE_BYTES:,}); not read")


def package_sizes(path: Path) -> None:
    """``check_sizes`` for a file, from its zip directory alone; not a zip file: nothing to check here."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile):
        return
    check_sizes(infos)


def attributes(tag: str) -> dict[str, str]:
    """A start tag's attributes by name, as written (entities not expanded)."""
    return {name: double if double or not single else single for name, double, single in _ATTRIBUTE.findall(tag)}


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    target: str  # absolute part name without the leading '/', or the raw target when external
    external: bool
    tag: str  # the element exactly as written in the file

    @property
    def kind(self) -> str:
        return self.type.rsplit("/", 1)[-1]


def escaped_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoted(value: str) -> str:
    """An XML attribute value with its quotes (as xml.sax.saxutils.quoteattr, which pulls in urllib and ssl)."""
    value = escaped_text(value)
    for char, entity in (('"', "&quot;"), ("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;")):
        value = value.replace(char, entity)
    return f'"{value}"'


def rels_name(part: str) -> str:
    """The relationships part of ``part``: xl/workbook.xml -> xl/_rels/workbook.xml.rels ('' is the package)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def relative(source: str, target: str) -> str:
    """The Target to write in ``source``'s relationships for the part ``target``."""
    return posixpath.relpath(target, posixpath.dirname(source) or ".")


class Parts(MutableMapping[str, bytes]):
    """Part name -> contents, in file order, where the large parts stay in the file until asked for (and
    are then inflated, not kept): a package edited in a few small parts, and copied on as a stream for
    the rest (``Package.opened``), never holds the whole file in memory."""

    def __init__(self, source: Path, parts: Sequence[tuple[str, bytes | zipfile.ZipInfo]]) -> None:
        self._source = source
        self._order = dict.fromkeys(name for name, _ in parts)
        self._loaded = {name: data for name, data in parts if isinstance(data, bytes)}
        self._left = {name: info for name, info in parts if isinstance(info, zipfile.ZipInfo)}

    def __getitem__(self, name: str) -> bytes:
        if name in self._loaded:
            return self._loaded[name]
        if name in self._left:
            with zipfile.ZipFile(self._source) as archive:
                return archive.read(self._left[name])
        raise KeyError(name)

    def __setitem__(self, name: str, data: bytes) -> None:
        self._loaded[name] = data
        self._left.pop(name, None)
        self._order.setdefault(name)

    def __delitem__(self, name: str) -> None:
        if name not in self._order:
            raise KeyError(name)
        del self._order[name]
        self._loaded.pop(name, None)
        self._left.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._order

    @contextmanager
    def stream(self, name: str) -> Iterator[BinaryIO | None]:
        """The part as a stream from the file when it was left there; None when it is in memory."""
        if name not in self._left:
            yield None
            return
        with zipfile.ZipFile(self._source) as archive, archive.open(self._left[name]) as stream:
            yield stream


@dataclass
class Package:
    """The parts of a zip package, in file order, with each part's zip entry (dates, compression)."""

    parts: MutableMapping[str, bytes]
    entries: dict[str, zipfile.ZipInfo] = field(default_factory=dict)

    @classmethod
    def read(cls, source: Path | bytes, largest: int | None = None, stream_larger: int | None = None) -> Package:
        """The package's parts; with ``largest`` (bytes), only the parts no larger: enough to find the
        sheets of a big workbook without reading them. With ``stream_larger`` (bytes; a file only), the
        larger parts are listed but left in the file until asked for (``Parts``)."""
        try:
            with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
                infos = [info for info in archive.infolist() if not info.is_dir() and (largest is None or info.file_size <= largest)]
                check_sizes(infos)
                left = isinstance(source, Path) and stream_larger is not None
                listed = [(info.filename, info if left and info.file_size > stream_larger else archive.read(info)) for info in infos]
                entries = {info.filename: info for info in infos}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, EOFError) as err:
            raise PackageError(f"not a valid workbook package ({err})") from None
        if CONTENT_TYPES not in entries:
            raise PackageError("not a workbook package (no [Content_Types].xml)")
        return cls(Parts(source, listed) if isinstance(source, Path) and left else dict(listed), entries)

    @contextmanager
    def opened(self, name: str) -> Iterator[BinaryIO | None]:
        """A part left in the file (``read(stream_larger=...)``) as a stream to copy from; None for a part
        held in memory."""
        if not isinstance(self.parts, Parts):
            yield None
            return
        with self.parts.stream(name) as stream:
            yield stream

    def write(self, path: Path | BinaryIO) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in self.parts.items():
                entry = self.entries.get(name)
                if entry is None:
                    entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, data)

    def text(self, name: str) -> str:
        return self.parts[name].decode("utf-8")

    def put(self, name: str, text: str | bytes) -> None:
        self.parts[name] = text.encode("utf-8") if isinstance(text, str) else text

    def remove(self, name: str) -> None:
        self.parts.pop(name, None)
        self.entries.pop(name, None)

    # Relationships
    def relationships(self, source: str) -> list[Relationship]:
        name = rels_name(source)
        if name not in self.parts:
            return []
        found = []
        for tag in _RELATIONSHIP.findall(self.text(name)):
            a = attributes(tag)
            external = a.get("TargetMode") == "External"
            target = a.get("Target", "")
            if not external:
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(posixpath.dirname(source), target))
            found.append(Relationship(a.get("Id", ""), a.get("Type", ""), target, external, tag))
        return found

    def main_part(self) -> str:
        for rel in self.relationships(""):
            if rel.kind == "officeDocument":
                return rel.target
        raise PackageError("no workbook part in the package")

    def sheet_parts(self) -> dict[str, str]:
        """Sheet name -> its part, in workbook order."""
        book = self.main_part()
        book_xml = self.text(book)
        rid = rid_attribute(book_xml)
        rels = {rel.id: rel.target for rel in self.relationships(book)}
        tags = [attributes(tag) for tag in re.findall(r"<sheet\b[^>]*/>", book_xml)]
        return {a["name"]: rels[a[rid]] for a in tags if rid and a.get(rid) in rels}

    def date1904(self) -> bool:
        """Whether the workbook counts dates in the 1904 date system (ECMA-376 18.2.28, workbookPr date1904)."""
        found = re.search(r"<(?:\w+:)?workbookPr\b[^>]*>", self.text(self.main_part()))
        return found is not None and attributes(found.group(0)).get("date1904", "").strip().lower() in ("1", "true")

    def without_sheets(self, kinds: Sequence[str]) -> tuple[Package, list[str]]:
        """A copy whose sheet list leaves out the sheets of relationship ``kinds`` (``xlMacrosheet``...),
        for a reader that cannot open them; and their names. The parts themselves stay."""
        book = self.main_part()
        book_xml = self.text(book)
        rid = rid_attribute(book_xml)
        kinds_of = {rel.id: rel.kind for rel in self.relationships(book)}
        dropped = []
        for tag in re.findall(r"<sheet\b[^>]*/>", book_xml):
            a = attributes(tag)
            if rid and kinds_of.get(a.get(rid, "")) in kinds:
                book_xml = book_xml.replace(tag, "", 1)
                dropped.append(a.get("name", ""))
        copy = Package(dict(self.parts), dict(self.entries))
        copy.put(book, book_xml)
        return copy, dropped

    def add_relationship(self, source: str, rel_id: str, rel_type: str, target: str) -> None:
        name = rels_name(source)
        tag = f"<Relationship Id={quoted(rel_id)} Type={quoted(rel_type)} Target={quoted(relative(source, target))}/>"
        self.put(name, insert_before(self.text(name), "</Relationships>", tag))

    def remove_relationship(self, source: str, rel: Relationship) -> None:
        name = rels_name(source)
        self.put(name, self.text(name).replace(rel.tag, "", 1))

    # Content types
    def content_type(self, part: str) -> str | None:
        types = self.text(CONTENT_TYPES)
        match = re.search(rf"""<Override\b[^>]*PartName=["']/{re.escape(part)}["'][^>]*/>""", types, re.IGNORECASE)
        return attributes(match.group(0)).get("ContentType") if match else None

    def default_type(self, extension: str) -> str | None:
        """The content type the package gives every part ending ``.extension`` (a ``Default``), if any."""
        for tag in re.findall(r"<Default\b[^>]*/>", self.text(CONTENT_TYPES)):
            a = attributes(tag)
            if a.get("Extension", "").lower() == extension.lower():
                return a.get("ContentType")
        return None

    def untyped_parts(self) -> list[str]:
        """Parts with no content type, neither their own (``Override``) nor their extension's (``Default``):
        every part of a package needs one (ECMA-376 part 2, 10.1.2.4); Excel offers to repair the file."""
        return [part for part in self.parts if part != CONTENT_TYPES and self.content_type(part) is None
                and self.default_type(posixpath.basename(part).rpartition(".")[2]) is None]

    def set_relationships(self, source: str, tags: str) -> None:
        """``source``'s relationships part, new, holding ``tags``; its content type declared if the package lacks it."""
        self.put(rels_name(source), '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 f'<Relationships xmlns="{PACKAGE_RELATIONSHIPS_NS}">{tags}</Relationships>')
        if self.default_type("rels") is None and self.content_type(rels_name(source)) is None:
            tag = f'<Default Extension="rels" ContentType="{RELATIONSHIPS_TYPE}"/>'
            self.put(CONTENT_TYPES, insert_before(self.text(CONTENT_TYPES), "</Types>", tag))

    def set_content_type(self, part: str, content_type: str) -> None:
        if self.content_type(part) == content_type:
            return
        self.drop_content_type(part)
        tag = f"<Override PartName={quoted('/' + part)} ContentType={quoted(content_type)}/>"
        self.put(CONTENT_TYPES, insert_before(self.text(CONTENT_TYPES), "</Types>", tag))

    def drop_content_type(self, part: str) -> None:
        types = self.text(CONTENT_TYPES)
        self.put(CONTENT_TYPES, re.sub(rf"""<Override\b[^>]*PartName=["']/{re.escape(part)}["'][^>]*/>""", "", types,
                                       flags=re.IGNORECASE))


LARGE_PART = 1 << 20  # bytes: parts above this are checked as a stream, never held in memory


def read_through(path: Path, sheet: str) -> int:
    """Read every part of the package at ``path`` through its checksum (zipfile checks each part's CRC as
    its end is read), large parts as a stream; return the number of rows written in ``sheet``. Raises
    PackageError or zipfile/OSError errors when the file does not read back."""
    small = Package.read(path, largest=LARGE_PART)
    part = small.sheet_parts().get(sheet)
    if part is None:
        raise PackageError(f"no sheet named {sheet!r}")
    rows = small.parts[part].count(b"<row ") if part in small.parts else 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir() or info.file_size <= LARGE_PART:
                continue
            with archive.open(info) as stream:
                tail = b""
                while block := stream.read(1 << 20):
                    if info.filename == part:  # a tag cut between blocks is counted once: the tail is shorter than it
                        rows += (tail + block).count(b"<row ")
                        tail = block[-4:]
    return rows


def part_head(path: Path, sheet: str, size: int = 4096) -> bytes | None:
    """The first ``size`` bytes of the part of the sheet named ``sheet`` (only they are inflated); None
    when the package has no such sheet or cannot be read."""
    try:
        part = Package.read(path, largest=LARGE_PART).sheet_parts().get(sheet)
        if part is None:
            return None
        with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
            return stream.read(size)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, PackageError):
        return None


def custom_properties(path: Path) -> dict[str, str]:
    """A workbook file's custom document properties (docProps/custom.xml), name -> text; empty when it
    has none or is not a package."""
    try:
        with zipfile.ZipFile(path) as archive:
            xml = archive.read("docProps/custom.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return {}
    found = re.findall(r"""<property\b[^>]*\bname=(?:"([^"]*)"|'([^']*)')[^>]*>\s*<vt:\w+>([^<]*)</vt:\w+>""", xml)
    return {double or single: text for double, single, text in found}


def rid_attribute(book_xml: str) -> str | None:
    """The relationship-id attribute as this workbook part spells it (usually r:id)."""
    found = re.search(rf"""xmlns:(\w+)=["']{re.escape(RELATIONSHIPS_NS)}["']""", book_xml)
    return f"{found.group(1)}:id" if found else None


def insert_before(text: str, closing: str, addition: str) -> str:
    at = text.rfind(closing)
    if at < 0:
        raise PackageError(f"unexpected XML: no {closing}")
    return text[:at] + addition + text[at:]

"""Put sheets from one workbook package into another (a client's own workbook).

Only the merged sheets change: those sheets and the parts they use (tables, charts), plus the entries
that register them (the sheet list in workbook.xml, the workbook's relationships, content types) and
cell formats appended to styles.xml. Every other part of the file (other sheets, macros and their
buttons, images, charts, data validation, defined names, the file's own styles) keeps its exact bytes.

A sheet of the same name is replaced only when the caller's ``replaceable`` says so (it is one the
caller wrote); otherwise the merge is refused."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence

from acsxl.xlsx.package import (
    RELATIONSHIPS_NS,
    Package,
    PackageError,
    Relationship,
    attributes,
    insert_before,
    quoted,
    relative,
    rels_name,
    rid_attribute,
)
from acsxl.xlsx.stylesheet import merge_styles

_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CELL = re.compile(r"<c\b([^>]*?)(/>|>(.*?)</c>)", re.S)


class Refused(PackageError):
    """The sheets will not be merged into this workbook; the message says why."""


def page_header_marked(mark: str) -> Callable[[str], bool]:
    """Whether a sheet's page header carries ``mark`` (a mark that survives Excel re-saving the file)."""
    pattern = re.compile(rf"<oddHeader>[^<]*\b{re.escape(mark)}\b")
    return lambda sheet_xml: pattern.search(sheet_xml) is not None


def merge_sheets(client: Package, ours: Package, names: Sequence[str], replaceable: Callable[[str], bool]) -> Package:
    """``client`` with the sheets ``names`` of ``ours`` added after its own, or put in place of its sheets
    of the same names where ``replaceable(sheet XML)`` holds."""
    book = client.main_part()
    book_xml = client.text(book)
    rid_attr = rid_attribute(book_xml)
    if rid_attr is None or "<sheets>" not in book_xml:
        raise Refused("its workbook part uses a layout acsxl does not edit")
    protection = re.search(r"<workbookProtection\b[^>]*>", book_xml)
    if protection is not None and attributes(protection.group(0)).get("lockStructure", "").strip().lower() in ("1", "true"):
        raise Refused("its structure is protected (Protect Workbook), so acsxl adds no sheets to it")
    book_rels = {rel.id: rel for rel in client.relationships(book)}
    sheets = [attributes(tag) for tag in re.findall(r"<sheet\b[^>]*/>", book_xml)]
    by_name = {s.get("name", "").casefold(): s for s in sheets}

    styles_rel = next((r for r in book_rels.values() if r.kind == "styles"), None)
    if styles_rel is None or styles_rel.target not in client.parts:
        raise Refused("it has no styles part")
    our_book = ours.main_part()
    our_rels = {rel.id: rel for rel in ours.relationships(our_book)}
    our_styles = next(r for r in our_rels.values() if r.kind == "styles").target
    try:
        merged = merge_styles(client.text(styles_rel.target), ours.text(our_styles))
    except PackageError as err:
        raise Refused(str(err)) from None
    strings = _shared_strings(ours, our_rels.values())

    # Sheets being replaced: drop the parts they used, remember their ids for the calculation chain.
    targets: dict[str, str] = {}
    replaced_ids: set[str] = set()
    removed: set[str] = set()
    for name in names:
        entry = by_name.get(name.casefold())
        if entry is None:
            continue
        rel = book_rels.get(entry.get(rid_attr, ""))
        if rel is None or rel.target not in client.parts:
            raise Refused(f"its sheet {entry.get('name')!r} points to a missing part")
        if not replaceable(client.text(rel.target)):
            raise Refused(f"it has its own sheet named {entry.get('name')!r}, which acsxl will not replace")
        removed |= _drop_related(client, rel.target)
        targets[name] = rel.target
        replaced_ids.add(entry.get("sheetId", ""))

    table_ids, table_names = _tables(client)
    next_table = max(table_ids, default=0) + 1
    next_sheet_id = max((int(s.get("sheetId", 0)) for s in sheets), default=0) + 1
    folder = posixpath.dirname(book)
    our_sheets = ours.sheet_parts()
    for name in names:
        source = our_sheets[name]
        token = re.sub(r"[^0-9A-Za-z]", "", name)  # part names and relationship ids hold no spaces (an id is an XML name)
        slug = f"acsxl_{token.lower()}"
        target = targets.get(name)
        if target is None:
            target = _free(client, posixpath.join(folder, "worksheets", f"{slug}.xml"))
            rel_id = _free_id({r.id for r in client.relationships(book)}, f"rIdAcsxl{token}")
            client.add_relationship(book, rel_id, f"{RELATIONSHIPS_NS}/worksheet", target)
            tag = f"<sheet name={quoted(name)} sheetId=\"{next_sheet_id}\" {rid_attr}={quoted(rel_id)}/>"
            book_xml = insert_before(book_xml, "</sheets>", tag)
            next_sheet_id += 1
        client.put(target, _sheet_xml(ours.text(source), merged.xf, merged.dxf, strings))
        client.set_content_type(target, _WORKSHEET_TYPE)

        def transform(rel: Relationship, text: str) -> str:
            nonlocal next_table
            if rel.kind != "table":
                return text
            table = attributes(re.search(r"<table\b[^>]*>", text).group(0))
            if table.get("name", "").casefold() in table_names:
                raise Refused(f"it already has a table named {table.get('name')!r}")
            text = re.sub(r'(<table\b[^>]*?\bid=")\d+"', rf'\g<1>{next_table}"', text, count=1)
            next_table += 1
            return _remap_dxf(text, merged.dxf)

        _copy_related(ours, source, client, target, slug, transform)

    for part in removed - set(client.parts):
        client.drop_content_type(part)
    client.put(book, with_print_names(book_xml, ours.text(our_book), names))
    client.put(styles_rel.target, merged.styles)
    calc = next((r for r in book_rels.values() if r.kind == "calcChain"), None)
    if calc is not None and calc.target in client.parts and replaced_ids:
        chain = _drop_from_calc_chain(client.text(calc.target), replaced_ids)
        if chain:
            client.put(calc.target, chain)
        else:  # a calculation chain may not be empty; Excel rebuilds it
            client.remove(calc.target)
            client.drop_content_type(calc.target)
            client.remove_relationship(book, calc)
    return client


PRINT_NAMES = ("_xlnm.Print_Area", "_xlnm.Print_Titles")  # a sheet's print area and the rows repeated on every page
_DEFINED = re.compile(r"<definedName\b([^>]*)>([^<]*)</definedName>")


def _sheet_positions(book_xml: str) -> dict[str, int]:
    """Each sheet's place in the workbook's sheet list (what a defined name's localSheetId counts), by name, folded."""
    return {attributes(tag).get("name", "").casefold(): i for i, tag in enumerate(re.findall(r"<sheet\b[^>]*/>", book_xml))}


def with_print_names(book_xml: str, our_book_xml: str, names: Sequence[str]) -> str:
    """The client's workbook part with the print areas and print titles of ``names`` as ``our_book_xml``
    defines them, for those sheets where they now are; the ones a previous run put there replaced, the
    client's own names (of its own sheets, or any other) left as they were."""
    ours, client = _sheet_positions(our_book_xml), _sheet_positions(book_xml)
    moved = {ours[n.casefold()]: client[n.casefold()] for n in names if n.casefold() in ours and n.casefold() in client}
    wanted = []
    for found in _DEFINED.finditer(our_book_xml):
        attrs = attributes(f"<definedName{found.group(1)}>")
        local = attrs.get("localSheetId", "")
        if attrs.get("name") in PRINT_NAMES and local.isdigit() and int(local) in moved:
            wanted.append(f'<definedName name="{attrs["name"]}" localSheetId="{moved[int(local)]}">{found.group(2)}</definedName>')
    targets = {str(i) for i in moved.values()}

    def stale(found: re.Match[str]) -> str:
        attrs = attributes(f"<definedName{found.group(1)}>")
        return "" if attrs.get("name") in PRINT_NAMES and attrs.get("localSheetId") in targets else found.group(0)

    book_xml = _DEFINED.sub(stale, book_xml)
    if not wanted:
        return book_xml.replace("<definedNames></definedNames>", "")  # emptied of ours: a defined-names element may not be empty
    if "<definedNames>" in book_xml:
        return insert_before(book_xml, "</definedNames>", "".join(wanted))
    if "<definedNames/>" in book_xml:
        return book_xml.replace("<definedNames/>", "<definedNames>" + "".join(wanted) + "</definedNames>", 1)
    # After the sheets and what the schema puts between them and the defined names (CT_Workbook's order).
    after = max((book_xml.find(end) + len(end) for end in ("</sheets>", "</functionGroups>", "<functionGroups/>", "</externalReferences>")
                 if end in book_xml), default=-1)
    return book_xml[:after] + "<definedNames>" + "".join(wanted) + "</definedNames>" + book_xml[after:]


def _free(package: Package, part: str) -> str:
    stem, ext = posixpath.splitext(part)
    n, candidate = 1, part
    while candidate in package.parts:
        n += 1
        candidate = f"{stem}{n}{ext}"
    return candidate


def _free_id(taken: set[str], wanted: str) -> str:
    n, candidate = 1, wanted
    while candidate in taken:
        n += 1
        candidate = f"{wanted}{n}"
    return candidate


def _shared_strings(ours: Package, rels) -> list[str]:
    rel = next((r for r in rels if r.kind == "sharedStrings"), None)
    if rel is None:
        return []
    return re.findall(r"<si>(.*?)</si>", ours.text(rel.target), re.S)


def _sheet_xml(text: str, xf: dict[int, int], dxf: dict[int, int], strings: list[str]) -> str:
    """Our sheet with its cell formats renumbered into the client's stylesheet, shared strings written
    inline (the client's shared-string table stays untouched) and not selected (no grouped tabs)."""

    def cell(m: re.Match[str]) -> str:
        attrs = re.sub(r'\bs="(\d+)"', lambda s: f's="{xf[int(s.group(1))]}"', m.group(1))
        body = m.group(3)
        if body is not None and ' t="s"' in attrs:
            index = int(re.search(r"<v>(\d+)</v>", body).group(1))
            attrs = attrs.replace(' t="s"', ' t="inlineStr"')
            return f"<c{attrs}><is>{strings[index]}</is></c>"
        return f"<c{attrs}{m.group(2)}" if body is None else f"<c{attrs}>{body}</c>"

    head, data, tail = _split(text, "sheetData")
    head = re.sub(r'(<col\b[^>]*?\bstyle=")(\d+)"', lambda m: f'{m.group(1)}{xf[int(m.group(2))]}"', head)
    head = head.replace(' tabSelected="1"', "")
    data = re.sub(r'(<row\b[^>]*?\bs=")(\d+)"', lambda m: f'{m.group(1)}{xf[int(m.group(2))]}"', data)
    data = _CELL.sub(cell, data)
    return head + data + _remap_dxf(tail, dxf)


def _split(text: str, element: str) -> tuple[str, str, str]:
    start = text.find(f"<{element}")
    end = text.find(f"</{element}>")
    if start < 0:
        return text, "", ""
    if end < 0:  # <sheetData/>
        end = text.find(">", start) + 1
        return text[:start], text[start:end], text[end:]
    end += len(f"</{element}>")
    return text[:start], text[start:end], text[end:]


def _remap_dxf(text: str, dxf: dict[int, int]) -> str:
    return re.sub(r'\b(\w*[dD]xfId)="(\d+)"', lambda m: f'{m.group(1)}="{dxf[int(m.group(2))]}"', text)


def _tables(package: Package) -> tuple[set[int], set[str]]:
    ids, names = set(), set()
    for part in package.parts:
        if part.endswith(".xml") and "/tables/" in part:
            found = re.search(rb"<table\b[^>]*>", package.parts[part])
            if found:
                a = attributes(found.group(0).decode("utf-8"))
                ids.add(int(a.get("id", 0)))
                names.update(a.get(k, "").casefold() for k in ("name", "displayName"))
    return ids, names


def _drop_related(package: Package, part: str) -> set[str]:
    """Remove ``part``'s relationships and the parts only it uses (tables, drawings, their charts);
    return the names removed (their content types go at the end, if no new part took the name)."""
    removed = set()
    for rel in package.relationships(part):
        if rel.external or rel.target not in package.parts:
            continue
        if _used_elsewhere(package, rel.target, part):
            continue
        removed |= _drop_related(package, rel.target)
        package.remove(rel.target)
        removed.add(rel.target)
    package.remove(rels_name(part))
    return removed


def _used_elsewhere(package: Package, target: str, besides: str) -> bool:
    for name in package.parts:
        if name.endswith(".rels") and name != rels_name(besides):
            source = _source_of(name)
            if any(r.target == target for r in package.relationships(source)):
                return True
    return False


def _source_of(rels: str) -> str:
    folder, name = posixpath.split(rels)
    return posixpath.join(posixpath.dirname(folder), name[: -len(".rels")])


def _copy_related(ours: Package, source: str, client: Package, target: str, slug: str,
                  transform: Callable[[Relationship, str], str]) -> None:
    """Copy the parts ``source`` uses in our package into the client's under acsxl names, with the
    relationships of ``target`` pointing at them."""
    tags = []
    for rel in ours.relationships(source):
        if rel.external:
            tags.append(rel.tag)
            continue
        folder, name = posixpath.split(rel.target)
        new = _free(client, posixpath.join(folder, f"{slug}_{name}"))
        client.put(new, transform(rel, ours.text(rel.target)))
        client.set_content_type(new, ours.content_type(rel.target) or "application/xml")
        _copy_related(ours, rel.target, client, new, slug, transform)
        tags.append(_relationship_tag(rel, relative(target, new)))
    if tags:
        client.set_relationships(target, "".join(tags))


def _relationship_tag(rel: Relationship, target: str) -> str:
    return f"<Relationship Id={quoted(rel.id)} Type={quoted(rel.type)} Target={quoted(target)}/>"


def _drop_from_calc_chain(text: str, sheet_ids: set[str]) -> str:
    """The calculation chain lists formula cells by sheet id; entries of a replaced sheet would point at
    cells that may no longer hold formulas (Excel then reports the file as damaged). ``i`` carries over
    from the previous entry when omitted (18.6.1)."""
    current, kept, dropped = None, [], False
    for tag in re.findall(r"<c\b[^>]*/>", text):
        a = attributes(tag)
        current = a.get("i", current)
        if current in sheet_ids:
            dropped = True
            continue
        kept.append(tag if "i" in a else tag.replace("<c ", f'<c i="{current}" ', 1))
    if not dropped:
        return text
    if not kept:
        return ""
    return text[: text.find("<c ")] + "".join(kept) + "</calcChain>"

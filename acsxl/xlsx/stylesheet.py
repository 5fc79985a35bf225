"""Append our cell formats to a client's ``styles.xml`` without changing any of theirs.

Every existing entry keeps its bytes and its index (so every existing cell looks the same); ours are
appended, or reused when an identical entry is already there. The second refresh therefore finds all of
ours in place and leaves the stylesheet byte-identical to the first refresh."""

from __future__ import annotations

import re
from dataclasses import dataclass

from acsxl.xlsx.package import PackageError, attributes

# Child elements of <styleSheet> in schema order (ECMA-376 Part 1, 18.8.39 CT_Stylesheet).
ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs", "tableStyles", "colors", "extLst")
ITEM = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border", "cellXfs": "xf", "dxfs": "dxf"}
FIRST_CUSTOM_FORMAT = 164  # ids below are Excel's built-in number formats (18.8.30)
_REFERENCE = {"numFmtId": "numFmts", "fontId": "fonts", "fillId": "fills", "borderId": "borders"}


def _collection(styles: str, name: str) -> re.Match[str] | None:
    return re.search(rf"<{name}\b[^>]*?(?:/>|>(.*?)</{name}>)", styles, re.S)


def _items(styles: str, name: str) -> list[str]:
    found = _collection(styles, name)
    if found is None or found.group(1) is None:
        return []
    item = ITEM[name]
    return re.findall(rf"<{item}\b[^>]*?/>|<{item}\b[^>]*>.*?</{item}>", found.group(1), re.S)


@dataclass
class Merged:
    styles: str
    xf: dict[int, int]  # our cell format index -> index in the merged stylesheet
    dxf: dict[int, int]  # our differential (conditional/table) format index -> merged index


def merge_styles(client: str, ours: str) -> Merged:
    if _collection(client, "cellXfs") is None:
        raise PackageError("its styles part uses a layout acsxl does not edit (no plain <cellXfs>)")
    maps: dict[str, dict[int, int]] = {}
    added: dict[str, list[str]] = {}
    existing = {name: _items(client, name) for name in ITEM}

    # Number formats match on their format code; a new one takes the next free custom id.
    codes = {attributes(tag).get("formatCode"): int(attributes(tag)["numFmtId"]) for tag in existing["numFmts"]}
    next_id = max([FIRST_CUSTOM_FORMAT - 1, *codes.values()]) + 1
    maps["numFmts"], added["numFmts"] = {}, []
    for tag in _items(ours, "numFmts"):
        a = attributes(tag)
        code, old = a.get("formatCode"), int(a["numFmtId"])
        if code not in codes:
            codes[code] = next_id
            added["numFmts"].append(tag.replace(f'numFmtId="{old}"', f'numFmtId="{next_id}"', 1))
            next_id += 1
        maps["numFmts"][old] = codes[code]

    def remap(tag: str) -> str:
        def one(m: re.Match[str]) -> str:
            value = int(m.group(2))
            if m.group(1) == "numFmtId" and value < FIRST_CUSTOM_FORMAT:
                return m.group(0)
            return f'{m.group(1)}="{maps[_REFERENCE[m.group(1)]][value]}"'
        return re.sub(r'\b(numFmtId|fontId|fillId|borderId)="(\d+)"', one, tag)

    for name in ("fonts", "fills", "borders", "cellXfs", "dxfs"):
        pool = existing[name] + []
        maps[name], added[name] = {}, []
        for index, tag in enumerate(_items(ours, name)):
            tag = remap(tag) if name in ("cellXfs", "dxfs") else tag
            if tag not in pool:
                pool.append(tag)
                added[name].append(tag)
            maps[name][index] = pool.index(tag)

    styles = client
    for name in ORDER:
        if added.get(name):
            styles = _append(styles, name, added[name], len(existing[name]) + len(added[name]))
    return Merged(styles, maps["cellXfs"], maps["dxfs"])


def _append(styles: str, name: str, items: list[str], count: int) -> str:
    found = _collection(styles, name)
    if found is not None:
        head = re.sub(r"""\bcount\s*=\s*["']\d*["']""", f'count="{count}"', re.match(rf"<{name}\b[^>]*?(?=/?>)", found.group(0)).group(0))
        if not re.search(r"\bcount\s*=", head):
            head += f' count="{count}"'
        body = found.group(1) or ""
        return styles[: found.start()] + f"{head}>{body}{''.join(items)}</{name}>" + styles[found.end():]
    # Absent: insert before the first collection that follows it in schema order.
    block = f'<{name} count="{count}">{"".join(items)}</{name}>'
    for later in ORDER[ORDER.index(name) + 1:]:
        at = re.search(rf"<{later}\b", styles)
        if at:
            return styles[: at.start()] + block + styles[at.start():]
    at = styles.rfind("</styleSheet>")
    if at < 0:
        raise PackageError("its styles part has no </styleSheet>")
    return styles[:at] + block + styles[at:]

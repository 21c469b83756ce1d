"""The ICD-10-CM tabular list of one fiscal year (CMS XML, ``icd10cm-tabular-<date>.xml``), kept beside the
bundled one so that each encounter is checked against the code set of its date.

Codes that take a 7th character are expanded as the tabular says (X placeholders to six characters, then
the character of each ``sevenChrDef`` that applies to them). Checked on the April-2026 file: the CMS code
list plus 76 head-injury codes (S06, death 7th characters D/S) that a prose note of the tabular rules out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from medcoder_desktop.core.dictionary.importers.cm_index import load
from medcoder_desktop.core.dictionary.importers.common import FileData, fail

SYSTEM = "ICD-10-CM"


def _text(el: ET.Element, tag: str) -> str:
    child = el.find(tag)
    return " ".join((child.text or "").split()) if child is not None else ""


def _seventh(el: ET.Element) -> dict[str, str] | None:
    d = el.find("sevenChrDef")
    if d is None:
        return None
    return {(e.get("char") or "").strip(): " ".join((e.text or "").split()) for e in d.findall("extension")}


def _with_seventh(code: str, ch: str) -> str:
    head, _, tail = code.partition(".")
    return f"{head}.{tail.ljust(3, 'X')}{ch}"


def parse(data: FileData) -> tuple[str, list[tuple[str, str, int]]]:
    """(the file's <version>, [(code, title, billable)]) in tabular order.

    Raises:
        ImportFileError: not a CMS tabular file, malformed, or holding no codes.
    """
    root, lines = load(data)
    if root.tag != "ICD10CM.tabular":
        raise fail(data.path, "line 1", f"this is not an ICD-10-CM tabular file (its root is <{root.tag}>, "
                   "not <ICD10CM.tabular>). Use the tabular XML of the CMS ICD-10-CM release.")
    version = _text(root, "version")
    rows: list[tuple[str, str, int]] = []

    def walk(diag: ET.Element, inherited: dict[str, str] | None) -> None:
        name, title = _text(diag, "name"), _text(diag, "desc")
        if not name or not title:
            raise fail(data.path, f"line {lines.get(diag, '?')}", "a <diag> without its <name> or <desc>.")
        seventh = _seventh(diag) or inherited
        children = diag.findall("diag")
        if children:
            rows.append((name, title, 0))
            for c in children:
                walk(c, seventh)
        elif seventh:
            rows.append((name, title, 0))
            rows.extend((_with_seventh(name, ch), f"{title}, {meaning}", 1) for ch, meaning in seventh.items() if ch)
        else:
            rows.append((name, title, 1))

    for chapter in root.findall("chapter"):
        for section in chapter.findall("section"):
            for diag in section.findall("diag"):
                walk(diag, None)
    if sum(b for _, _, b in rows) < 1000:
        raise fail(data.path, "<chapter>", f"only {sum(b for _, _, b in rows)} billable codes were found; "
                   "a CMS tabular list holds over 70,000.")
    return version, rows

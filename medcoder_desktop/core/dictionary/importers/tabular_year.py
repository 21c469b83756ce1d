"""Import the ICD-10-CM tabular list of one fiscal year beside the bundled one (``icd10cm-tabular``)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from medcoder_desktop.core.dictionary.importers import cm_tabular
from medcoder_desktop.core.clock import now
from medcoder_desktop.core.dictionary.importers.common import Counts, fail, read_file
from medcoder_desktop.core.dictionary.schema import MIGRATIONS
from medcoder_desktop.core.dictionary.store import connect
from medcoder_desktop.core.migrations import migrate
from medcoder_desktop.core.progress import Progress
from medcoder_desktop.errors import DatabaseLockedError


def import_tabular(db_path: Path, file: Path, version: str | None, progress: Progress) -> tuple[Counts, str, str]:
    """Read and check the whole file, then replace that year's codes in one transaction.

    The search index is left alone: search runs on the bundled year; the imported year decides which codes
    are valid for an encounter of its dates.
    """
    data = read_file(file, encodings=("utf-8",))
    progress("Checking the tabular list", 0.2)
    file_version, rows = cm_tabular.parse(data)
    year_text = (version or file_version or "").strip()
    if not (year_text.isdigit() and len(year_text) == 4 and 2015 < int(year_text) < 2100):
        raise fail(file, "<version>", f"the fiscal year {year_text!r} is not a year such as 2027. "
                   "Give it with --year YYYY.")
    year = int(year_text)
    db = connect(db_path)
    try:
        migrate(db, MIGRATIONS)  # a dictionary made before years could be imported
        progress("Writing the codes", 0.6)
        with db.conn:
            db.conn.execute("begin immediate")
            old = db.conn.execute("select count(*) from icd10cm_year_codes where year = ?", [year]).fetchone()[0]
            db.conn.execute("delete from icd10cm_year_codes where year = ?", [year])
            db.conn.executemany("insert or replace into icd10cm_year_codes (year, code, title, billable) "
                                "values (?, ?, ?, ?)", [(year, c, t, b) for c, t, b in rows])
            billable = sum(b for *_, b in rows)
            db.conn.execute("insert or replace into icd10cm_years (year, version, source, loaded_at, codes) "
                            "values (?, ?, ?, ?, ?)",
                            [year, file_version, f"CMS ICD-10-CM tabular XML {file.name}", now(), billable])
            record = {"file": data.path.name, "sha256": data.sha256, "imported_at": now(), "year": year,
                      "version": file_version, "codes": billable, "replaced": old}
            db.conn.execute("insert or replace into meta (key, value) values (?, ?)",
                            [f"import.icd10cm-tabular.{year}", json.dumps(record, sort_keys=True)])
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            raise DatabaseLockedError(f"The code dictionary {db_path} is in use by another program. Try again "
                                      "when it has finished. Nothing was changed.") from exc
        raise
    finally:
        db.conn.close()
    return Counts(added=billable, updated=0, skipped=0), cm_tabular.SYSTEM, str(year)

"""Open the dictionary's SQLite file and read codes from it."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import sqlite_utils

from medcoder_desktop.core.dictionary.schema import (MIGRATIONS, bundled_index_digest, load_bundled_index,
                                                   load_pcs_sections, pcs_sections_digest)
from medcoder_desktop.core.migrations import applied, migrate
from medcoder_desktop.core.codes import typed_code, undotted
from medcoder_desktop.core.models import CodeDetail, CodeSetStats
from medcoder_desktop.errors import CodeNotFoundError, DatabaseLockedError, DictionaryMissingError

# Words of the Neoplasm Table's site entries that name no site.
_NOT_SITE_WORDS = frozenset("nec nos other unspecified specified part parts site sites and or of the with without "
                            "to by in on overlapping lesion ill defined see also type left right upper lower "
                            "anterior posterior middle superior inferior lateral medial cell cells malignant benign "
                            "primary secondary basal squamous carcinoma melanoma associated book".split())

NOTE_KINDS = ("inclusion_term", "excludes1", "excludes2", "code_first", "use_additional", "code_also")


def connect(path: Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """A connection that waits briefly for a writer instead of failing at once."""
    if not path.is_file():
        raise DictionaryMissingError(
            f"The code dictionary has not been built yet ({path}). Run: medcoder codes build"
        )
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    wait = busy_wait_seconds()
    conn = sqlite3.connect(uri, uri=True, timeout=wait, check_same_thread=False)
    conn.execute(f"pragma busy_timeout = {int(wait * 1000)}")
    return sqlite_utils.Database(conn)


def busy_wait_seconds() -> float:
    """How long a reader waits for an import's commit (MEDCODER_BUSY_WAIT, default 30 s) before it reports the
    dictionary busy (``failures.user_error``: exit code 7) instead of failing at once."""
    try:
        return max(0.1, float(os.environ.get("MEDCODER_BUSY_WAIT", "30")))
    except ValueError:
        return 30.0


class DictionaryStore:
    """Read access to one dictionary file."""

    def __init__(self, path: Path):
        self.path = path
        self.db = connect(path)
        self._localized: dict[str, dict[str, tuple[str, str]]] = {}
        self._sites: dict[str, frozenset[str]] = {}
        names = [m.__name__ for m in MIGRATIONS]
        done = applied(self.db)
        if done[: len(names)] != names[: len(done)]:
            raise DictionaryMissingError(
                f"The dictionary at {path} was made by another version. Run: medcoder codes build --force"
            )
        meta = self.meta()
        if (len(done) < len(names) or meta.get("bundled_index.sha256") != bundled_index_digest()
                or meta.get("pcs_sections.sha256") != pcs_sections_digest()):
            self._upgrade()

    def _upgrade(self) -> None:
        """Apply the dictionary migrations an older file lacks, and reload the bundled Index when the product
        ships another one (the search index then rebuilds: see ``Dictionary.engine``); a file that cannot be
        written (read-only media) is read as it is."""
        try:
            migrate(self.db, MIGRATIONS)
            if self.meta().get("bundled_index.sha256") != bundled_index_digest():
                with self.db.conn:
                    load_bundled_index(self.db)
                    self.db.execute("delete from search_index")
            if self.meta().get("pcs_sections.sha256") != pcs_sections_digest():
                with self.db.conn:
                    load_pcs_sections(self.db)
                    self.db.execute("delete from search_index")
        except sqlite3.OperationalError:
            pass

    def close(self) -> None:
        self.db.conn.close()

    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.db.query("select key, value from meta")}

    def code_sets(self) -> dict[str, str]:
        return {r["system"]: r["version"] for r in self.db.query("select system, version from code_sets order by system")}

    def stats(self) -> dict[str, CodeSetStats]:
        out: dict[str, CodeSetStats] = {}
        rows = self.db.query(
            "select s.system, s.version, s.source, s.loaded_at, "
            "(select count(*) from codes c where c.system = s.system and c.level not in ('chapter','block')) as n, "
            "(select count(*) from codes c where c.system = s.system and c.billable = 1) as b, "
            "(select count(*) from index_terms t where t.system = s.system) as t "
            "from code_sets s order by s.system"
        )
        for r in rows:
            out[r["system"]] = CodeSetStats(
                version=r["version"], codes=r["n"], billable=r["b"], source=r["source"],
                loaded_at=r["loaded_at"], index_terms=r["t"],
            )
        return out

    def resolve(self, code: str, system: str | None = None) -> tuple[str, str]:
        """Find (system, code) for a code as typed: with or without the dot, any case."""
        c = typed_code(code)
        tries = [c]
        if "." not in c and len(c) > 3 and c[0].isalpha():
            tries.append(c[:3] + "." + c[3:])
        for t in tries:
            q = "select system, code from codes where code = ?" + (" and system = ?" if system else "")
            row = self.db.execute(q, [t, system] if system else [t]).fetchone()
            if row:
                return row[0], row[1]
        raise CodeNotFoundError(f"{code.strip()!r} is not a code in the dictionary's code sets.")

    def exists(self, code: str, system: str | None = None) -> bool:
        try:
            self.resolve(code, system)
            return True
        except CodeNotFoundError:
            return False

    def show(self, code: str, system: str | None = None) -> CodeDetail:
        system, code = self.resolve(code, system)
        row = next(self.db.query("select * from codes where system = ? and code = ?", [system, code]))
        notes: dict[str, list[str]] = {k: [] for k in NOTE_KINDS}
        extra: dict[str, list[str]] = {}
        for n in self.db.query(
            "select kind, text from notes where system = ? and code = ? order by kind, seq", [system, code]
        ):
            (notes if n["kind"] in notes else extra).setdefault(n["kind"], []).append(n["text"])
        seventh = {
            r["character"]: r["meaning"]
            for r in self.db.query(
                "select character, meaning from seventh_characters where system = ? and code = ? order by character",
                [system, code],
            )
        }
        children = [r["code"] for r in self.db.query(
            "select code from codes where system = ? and parent = ? order by seq", [system, code])]
        return CodeDetail(
            code=code, system=system, title=row["title"], billable=bool(row["billable"]),
            version=row["version"], parent=row["parent"] or None, level=row["level"],
            inclusion_terms=notes["inclusion_term"], excludes1=notes["excludes1"],
            excludes2=notes["excludes2"], code_first=notes["code_first"],
            use_additional=notes["use_additional"], code_also=notes["code_also"],
            includes=extra.get("includes", []), notes=extra.get("notes", []),
            seven_chr_note=" ".join(extra.get("seven_chr_note", [])) or None,
            seventh_characters=seventh, children=children, ancestors=self.ancestors(system, code),
        )

    def ancestors(self, system: str, code: str) -> list[str]:
        out = []
        parent = self.db.execute("select parent from codes where system = ? and code = ?", [system, code]).fetchone()
        while parent and parent[0]:
            out.append(parent[0])
            parent = self.db.execute(
                "select parent from codes where system = ? and code = ?", [system, parent[0]]
            ).fetchone()
        return out

    def titles(self, system: str, codes) -> dict[str, str]:
        """Titles of codes of one system (codes not in the dictionary are left out)."""
        wanted = sorted({c for c in codes if c})
        out: dict[str, str] = {}
        for i in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            part = wanted[i:i + 500]
            marks = ",".join("?" * len(part))
            for code, title in self.db.execute(f"select code, title from codes where system = ? and code in ({marks})",
                                               [system, *part]):
                out[code] = title
        return out

    def note_texts(self, system: str, codes, kinds) -> list[str]:
        """The texts of the tabular notes of these kinds (``use_additional``, ``inclusion_term`` ...) on these codes."""
        codes, kinds = sorted(set(codes)), sorted(set(kinds))
        rows = self.db.execute(
            f"select text from notes where system = ? and kind in ({','.join('?' * len(kinds))}) "
            f"and code in ({','.join('?' * len(codes))})", [system, *kinds, *codes]).fetchall()
        return [text for (text,) in rows]

    def index_terms_of(self, system: str, code: str, limit: int = 200) -> list[str]:
        """Alphabetic Index terms that lead to ``code`` (or to its category, written ``code-``)."""
        rows = self.db.execute("select term from index_terms where system = ? and code in (?, ?) limit ?",
                               [system, code, code + "-", limit]).fetchall()
        return [term for (term,) in rows]

    def localized_codes(self, system: str = "ICD-10-CM") -> dict[str, tuple[str, str]]:
        """A main term's code -> (code, title) of its Index subterm "localized", for the signs and symptoms
        whose Index entry has one: "Lymphadenopathy (generalized)" R59.1 -> "Lymphadenopathy, localized" R59.0."""
        if (cached := self._localized.get(system)) is not None:
            return cached
        terms = {term: code for term, code in self.db.execute(
            "select term, code from index_terms where system = ? and code like 'R%' order by term", [system])}
        out: dict[str, tuple[str, str]] = {}
        for term, code in terms.items():
            main, sep, rest = term.rpartition(", localized")
            if not sep or rest.strip(" ()abcdefghijklmnopqrstuvwxyz") or "," in rest:
                continue
            for parent, parent_code in terms.items():
                if parent_code != code and (parent == main or parent.startswith(main + " (")):
                    out.setdefault(parent_code, (code, ""))
        titles = self.titles(system, [c for c, _ in out.values()])
        out = {k: (c, titles[c]) for k, (c, _) in out.items() if c in titles}
        self._localized[system] = out
        return out

    def neoplasm_site_words(self, system: str = "ICD-10-CM") -> frozenset[str]:
        """The words the Neoplasm Table names sites with ("skin", "thyroid", "bronchus"), less the words
        that say nothing of a site ("NEC", "other", "part")."""
        if (cached := self._sites.get(system)) is not None:
            return cached
        found: set[str] = set()
        for (term,) in self.db.execute("select term from index_terms where system = ? and term like "
                                       "'Neoplasm, neoplastic, %'", [system]):
            parts = term.split(", ")
            if len(parts) > 3:
                found.update(re.findall(r"[a-z]+", re.sub(r"\([^()]*\)", " ", parts[2]).lower()))
        out = frozenset(found - _NOT_SITE_WORDS)
        self._sites[system] = out
        return out

    def codes_by_undotted(self) -> dict[str, str]:
        """Every code of the dictionary's code sets by its form without dot (one query, for matching many)."""
        return {undotted(code): code for (code,) in self.db.execute("select code from codes")}

"""Dictionary: the store and the search engine of one dictionary file, behind one object."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from rapidfuzz import fuzz

from medcoder_desktop.core.dictionary.build import build_dictionary
from medcoder_desktop.core.dictionary.build_lock import dictionary_writer
from medcoder_desktop.core.dictionary.search import SearchEngine
from medcoder_desktop.core.dictionary.search_index import read_search_index, write_search_index
from medcoder_desktop.core.dictionary.store import DictionaryStore
from medcoder_desktop.core.models import SearchHit
from medcoder_desktop.core.private_files import place_private
from medcoder_desktop.core.progress import Progress, quiet
from medcoder_desktop.errors import InvalidInputError
from medcoder_desktop.paths import bundled_dictionary

MAX_QUERY_CHARS = 2000


def _word_order_breaks_ties(query: str, hits: list[SearchHit]) -> list[SearchHit]:
    """Hits of equal score, in the order of how closely their title follows the query's word order: the same
    words make "Laceration without foreign body ... with damage to nail" and "Laceration with foreign body ...
    without damage to nail", and only their order tells them apart."""
    q = query.lower()
    order = {id(h): i for i, h in enumerate(hits)}
    return sorted(hits, key=lambda h: (-round(h.score, 3), not h.billable,
                                       -fuzz.ratio(q, h.title.lower()) if h.score >= 0.999 else 0, order[id(h)]))


class Dictionary(DictionaryStore):
    """A built dictionary file, opened for lookups and search."""

    def __init__(self, path: Path):
        super().__init__(path)
        self._engine: SearchEngine | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, *, build_if_missing: bool = True, progress: Progress = quiet) -> "Dictionary":
        """Open the dictionary at ``path``, building it first when it does not exist yet."""
        if not path.is_file() and build_if_missing:
            with dictionary_writer(path, progress, "the dictionary build"):
                if path.is_file():  # another process may have built it while this one waited
                    progress("using the dictionary another medcoder just built", 1.0)
                elif not _seed_from_bundle(path, progress):
                    build_dictionary(path, progress=progress)
        return cls(path)

    @property
    def engine(self) -> SearchEngine:
        with self._lock:
            if self._engine is None:
                ix = read_search_index(self.db)
                if ix is None:  # made by an older version: rebuild the index in place
                    with self.db.conn:
                        write_search_index(self.db)
                    ix = read_search_index(self.db)
                self._engine = SearchEngine(ix)
            return self._engine

    def invalidate(self) -> None:
        """Forget the loaded search index (after an import changed the file)."""
        with self._lock:
            self._engine = None

    def search(self, query: str, limit: int = 10, systems: set[str] | None = None) -> list[SearchHit]:
        """Ranked codes for free text: a phrase, a problem-list line or a sentence."""
        query = (query or "").strip()
        if not query:
            raise InvalidInputError("The search text is empty.")
        if len(query) > MAX_QUERY_CHARS:
            raise InvalidInputError(
                f"The search text is {len(query)} characters; search takes at most {MAX_QUERY_CHARS}. "
                "Search for one condition or procedure at a time."
            )
        if limit < 1:
            raise InvalidInputError("--limit must be at least 1.")
        ranked = self.engine.rank(query, limit=limit, systems=systems)
        if not ranked:
            return []
        rowids = [r.code_rowid for r in ranked]
        marks = ",".join("?" * len(rowids))
        rows = {
            r[0]: r for r in self.db.execute(
                f"select rowid, system, code, title, billable from codes where rowid in ({marks})", rowids)
        }
        hits: list[SearchHit] = []
        seen: set[tuple[str, str]] = set()
        for r in ranked:
            _, system, code, title, billable = rows[r.code_rowid]
            hit = SearchHit(code=code, system=system, title=title, billable=bool(billable),
                            score=round(min(1.0, r.score), 4))
            if not billable and (default := self.default_billable(system, code)) and (system, default[0]) not in seen:
                # The header's own default ("E11" -> E11.9 without complications) comes first.
                seen.add((system, default[0]))
                hits.append(SearchHit(code=default[0], system=system, title=default[1], billable=True,
                                      score=hit.score))
            if (system, code) not in seen:
                seen.add((system, code))
                hits.append(hit)
        return _word_order_breaks_ties(query, hits)[:limit]

    def rows_by_rowid(self, rowids: list[int]) -> dict[int, tuple[str, str, str, int]]:
        """(system, code, title, billable) of codes by their row id."""
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        return {
            r[0]: tuple(r[1:]) for r in self.db.execute(
                f"select rowid, system, code, title, billable from codes where rowid in ({marks})", rowids)
        }

    def default_billable(self, system: str, code: str, _depth: int = 0) -> tuple[str, str] | None:
        """The billable code a header defaults to when nothing more is said: its own "unspecified" /
        "without complications" / "uncomplicated" child, followed down through headers as the Index's
        default is ("Nicotine dependence" F17 -> F17.2 -> F17.20 -> F17.200). None where a 7th character
        or a further choice is needed."""
        if system != "ICD-10-CM" or _depth > 3:
            return None
        like = code + ("." if "." not in code else "") + "_"
        rows = self.db.execute(
            "select code, title, billable from codes where system = ? and parent = ? "
            "and level != 'extension' and code like ? order by seq",
            [system, code, like + "%"],
        ).fetchall()
        own = (self.db.execute("select title from codes where system = ? and code = ?", [system, code]).fetchone()
               or ("",))[0].lower()
        if found := _default_child([(c, t) for c, t, b in rows if b], own):
            return found
        # Else the header's only child, or its "unspecified" header child, followed down (never a child only
        # worded as the header: N39.4 "Other specified urinary incontinence" is a choice, not a default).
        heads = [(c, t) for c, t, b in rows if not b]
        found = heads[0] if len(rows) == 1 and heads else _default_child(heads, own, worded_alike=False)
        return self.default_billable(system, found[0], _depth + 1) if found else None


def _seed_from_bundle(path: Path, progress: Progress) -> bool:
    """Copy the dictionary shipped inside a frozen bundle to ``path``; False when there is none."""
    bundled = bundled_dictionary()
    if bundled is None:
        return False
    progress("copying the bundled code dictionary", 0.0)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(bundled, tmp)
        place_private(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    progress("code dictionary ready", 1.0)
    return True


def _default_child(kids: list[tuple[str, str]], own: str, worded_alike: bool = True) -> tuple[str, str] | None:
    """Of a header's children, the one it defaults to: worded as the header (J18 "Pneumonia, unspecified
    organism" is J18.9), else the first that adds "without complication", "uncomplicated" or "unspecified"."""
    for child, title in kids if worded_alike else ():
        if title.lower() == own:
            return child, title
    for wanted in ("without complication", "uncomplicated", ", unspecified", "unspecified"):
        for child, title in kids:
            # the child's own "unspecified", not one it repeats from the header ("Neoplasm of unspecified
            # behavior of digestive system" is not what "Neoplasms of unspecified behavior" defaults to)
            if title.lower().count(wanted) > own.count(wanted):
                return child, title
    return None

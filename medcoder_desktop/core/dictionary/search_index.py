"""The search index: every dictionary wording as a set of stems, with postings, stored in the
dictionary file itself as one numpy archive (no pickle).

Documents are code titles, ICD-10-CM inclusion terms and imported Index / Drug / Neoplasm terms.
FTS5 with OR-queries was measured at 40-75 ms a query on this data, too slow for the budget, so the
ranking runs over these in-memory postings (the same BM25 idea), loaded in a few milliseconds.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from medcoder_desktop.core.dictionary.textnorm import stem, words

KIND_TITLE, KIND_INCLUSION, KIND_INDEX = 0, 1, 2
SYSTEMS = ("ICD-10-CM", "ICD-10-PCS", "HCPCS", "CPT")
INDEX_VERSION = "11"  # 6: the bundled Alphabetic Index; 7: word frequencies of the tabular; 8: main terms;
# 9: "-itis" words keep their own stem; 10: code families and "unspecified" wordings; 11: ICD-10-PCS sections
# beyond Medical and Surgical
# An inclusion term is read under its code's title ("Polyneuropathy" under "Other neurologic
# disorders in Lyme disease"): the title's words join the document at this weight.
CONTEXT_WEIGHT = 0.25
# Words in parentheses are nonessential modifiers (ICD-10-CM convention): they may be present or
# absent without changing the code, so a query that omits them loses little.
PAREN_WEIGHT = 0.1
_PARENS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
# Words that say nothing was specified ("Pneumonia, unspecified organism", "Urinary tract infection, site not
# specified", "Hemorrhage, not elsewhere classified", "... without complications"): a note that names the
# condition and nothing more is exactly what such a code is for, so these words weigh as little as
# nonessential modifiers and are left out of the exact-wording key.
UNSPECIFIED_WEIGHT = 0.1
_UNSPECIFIED = re.compile(
    r"\bunspecified(?:\s+(?:organism|site|type|part|cause|kind|side|laterality|region|location|episode))?\b|"
    r"\b(?:site\s+)?not\s+(?:otherwise\s+)?specified\b|\bnot\s+elsewhere\s+classified\b|"
    r"\bwithout\s+complications?\b|\bnos\b", re.I)


# Of those, the ones that leave an axis open that a sibling code fills ("unspecified side", "site not specified");
# "not elsewhere classified" and "without complications" do not.
_SAYS_UNSPECIFIED = re.compile(r"\bunspecified\b|\bnot\s+(?:otherwise\s+)?specified\b|\bnos\b", re.I)


def _unspecified_stems() -> re.Pattern:
    """``_UNSPECIFIED`` over stems, for queries (read as stems, typos corrected)."""
    def st(text: str) -> str:
        return " ".join(re.escape(stem(w)) for w in text.split())

    follow = "|".join(st(w) for w in "organism site type part cause kind side laterality region location "
                                      "episode".split())
    return re.compile(
        rf"(?:^| ){st('unspecified')}(?: (?:{follow}))?(?= |$)|(?:^| )(?:{st('site')} )?{st('not')} "
        rf"(?:{st('otherwise')} )?{st('specified')}(?= |$)|(?:^| ){st('not elsewhere classified')}(?= |$)|"
        rf"(?:^| ){st('without')} (?:{st('complication')}|{st('complications')})(?= |$)|(?:^| ){st('nos')}(?= |$)")


_UNSPECIFIED_STEMS = _unspecified_stems()


def unspecified_mask(stems: list[str]) -> list[bool]:
    """Which of a query's stems belong to an "unspecified" phrase (left out of titles' exact-wording keys)."""
    text = " ".join(stems)
    starts, pos = [], 0
    for s in stems:
        starts.append(pos)
        pos += len(s) + 1
    mask = [False] * len(stems)
    for m in _UNSPECIFIED_STEMS.finditer(text):
        a, b = m.start() + (1 if text[m.start():m.start() + 1] == " " else 0), m.end()
        for i, st in enumerate(starts):
            if a <= st < b:
                mask[i] = True
    return mask


def doc_key(stem_ids: list[int] | np.ndarray) -> int:
    """A stable 63-bit key of a set of stems: equal for the same words in any order."""
    data = np.asarray(sorted(set(int(s) for s in stem_ids)), dtype="<i4").tobytes()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") >> 1


def _documents(db: sqlite_utils.Database):
    """(code rowid, wording, kind) for everything a search may match."""
    yield from (
        (r[0], r[1], KIND_TITLE, "")
        for r in db.execute("select rowid, title from codes where level not in ('chapter', 'block')")
    )
    yield from (
        (r[0], r[1], KIND_INCLUSION, r[2])
        for r in db.execute(
            "select c.rowid, n.text, c.title from notes n join codes c on c.system = n.system and c.code = n.code "
            "where n.kind in ('inclusion_term', 'includes')"
        )
    )
    # Index terms point at a code, or at a category with "-" (more characters needed): both resolve
    # to the code as printed without the dash.
    yield from (
        (r[0], r[1], KIND_INDEX, "")
        for r in db.execute(
            "select c.rowid, t.term from index_terms t join codes c "
            "on c.system = t.system and c.code = rtrim(t.code, '-.')"
        )
    )


def build_arrays(db: sqlite_utils.Database) -> dict[str, np.ndarray]:
    stem_ids: dict[str, int] = {}
    word_ids: dict[str, int] = {}
    word_stem: list[int] = []
    doc_code, doc_kind, doc_ptr, doc_tok, doc_w, keys = [], [], [0], [], [], []
    doc_main: list[int] = []  # an Index path's main term (its first word's stem); -1 for the tabular's wordings
    doc_unspec: list[int] = []  # 1 where the wording says nothing was specified ("..., unspecified side")

    def stem_ids_of(text: str) -> set[int]:
        out = set()
        for w in words(text):
            if w not in word_ids:
                word_ids[w] = len(word_ids)
                word_stem.append(stem_ids.setdefault(stem(w), len(stem_ids)))
            out.add(word_stem[word_ids[w]])
        return out

    for rowid, text, kind, context in _documents(db):
        bare = _PARENS.sub(" ", text)
        own = stem_ids_of(_UNSPECIFIED.sub(" ", bare))
        unspecified = stem_ids_of(" ".join(_UNSPECIFIED.findall(bare))) - own
        modifiers = stem_ids_of(" ".join(a or b for a, b in _PARENS.findall(text))) - own - unspecified
        if not own:
            own, unspecified = own | unspecified, set()
        if not own:
            own, modifiers = modifiers, set()
        if not own:
            continue
        ctx = stem_ids_of(context) - own - modifiers - unspecified
        toks = sorted(own | modifiers | unspecified | ctx)
        weight = {**{t: CONTEXT_WEIGHT for t in ctx}, **{t: PAREN_WEIGHT for t in modifiers},
                  **{t: UNSPECIFIED_WEIGHT for t in unspecified}}
        doc_code.append(rowid)
        doc_kind.append(kind)
        doc_tok.extend(toks)
        doc_w.extend(weight.get(t, 1.0) for t in toks)
        doc_ptr.append(len(doc_tok))
        keys.append(doc_key(sorted(own)))
        doc_unspec.append(1 if _SAYS_UNSPECIFIED.search(bare) else 0)
        head = _PARENS.sub(" ", text).split(",")[0].split() if kind == KIND_INDEX else []
        doc_main.append(min(stem_ids_of(head[0])) if head and stem_ids_of(head[0]) else -1)
    doc_tok_a = np.asarray(doc_tok, dtype=np.int32)
    doc_ptr_a = np.asarray(doc_ptr, dtype=np.int64)
    n_docs = len(doc_code)
    doc_of_tok = np.repeat(np.arange(n_docs, dtype=np.int32), np.diff(doc_ptr_a))
    order = np.argsort(doc_tok_a, kind="stable")
    post_doc = doc_of_tok[order]
    doc_w_a = np.asarray(doc_w, dtype=np.float32)
    post_w = doc_w_a[order]
    df = np.bincount(doc_tok_a, minlength=len(stem_ids))
    post_ptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    # Word frequencies (documents containing a word) guide spelling correction toward common words; counted
    # over the tabular's wordings only, so that a word of the Index alone never outweighs one of the tabular.
    tabular_tok = np.repeat(np.asarray(doc_kind) != KIND_INDEX, np.diff(doc_ptr_a))
    df_tab = np.bincount(doc_tok_a[tabular_tok], minlength=len(stem_ids))
    word_df = np.zeros(len(word_ids), dtype=np.int32)
    for w, i in word_ids.items():
        word_df[i] = df_tab[word_stem[i]]
    rows = db.execute("select rowid, system, billable, code, title from codes").fetchall()
    max_row = max(r[0] for r in rows) + 1
    billable = np.zeros(max_row, dtype=np.int8)
    system = np.zeros(max_row, dtype=np.int8)
    family = np.zeros(max_row, dtype=np.int64)
    code_text = [""] * max_row
    code_unspec = np.zeros(max_row, dtype=np.int8)
    for rowid, sys_name, bill, code, title in rows:
        code_unspec[rowid] = bool(_SAYS_UNSPECIFIED.search(title or ""))
        code_text[rowid] = code.replace(".", "").upper()
        billable[rowid] = bill
        system[rowid] = SYSTEMS.index(sys_name) if sys_name in SYSTEMS else 0
        family[rowid] = code_family(sys_name, code)
    return {
        "version": np.frombuffer(INDEX_VERSION.encode(), dtype=np.uint8),
        "stems": _pack(sorted(stem_ids, key=stem_ids.get)),
        "words": _pack(sorted(word_ids, key=word_ids.get)),
        "word_stem": np.asarray(word_stem, dtype=np.int32),
        "word_df": word_df,
        "doc_code": np.asarray(doc_code, dtype=np.int32),
        "doc_kind": np.asarray(doc_kind, dtype=np.int8),
        "doc_ptr": doc_ptr_a,
        "doc_tok": doc_tok_a,
        "doc_w": doc_w_a,
        "doc_key": np.asarray(keys, dtype=np.int64),
        "doc_main": np.asarray(doc_main, dtype=np.int32),
        "doc_unspec": np.asarray(doc_unspec, dtype=np.int8),
        "post_ptr": post_ptr,
        "post_doc": post_doc.astype(np.int32),
        "post_w": post_w,
        "code_billable": billable,
        "code_system": system,
        "code_family": family,
        "code_unspec": code_unspec,
        "code_text": _pack(code_text),
    }


def code_family(system: str, code: str) -> int:
    """A key shared by the codes of one subcategory (its first four characters), which differ in the axes a
    title can leave unspecified (side, site, cause, type, severity) and in the 7th character: S02.30XK and
    S02.32XK (orbital floor, unspecified / left side) share one; so do M71.50 and M71.58, H61.301 and H61.321; a
    four-character code shares its category's (C18.7 and C18.9). 0 for a category itself."""
    bare = code.replace(".", "").upper()
    if system != "ICD-10-CM" or len(bare) < 4:
        return 0
    key = f"{system}:{bare[:4] if len(bare) > 4 else bare[:3]}"  # C18.7 and C18.9 are siblings too
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") >> 1


def _pack(strings: list[str]) -> np.ndarray:
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def unpack(arr: np.ndarray) -> list[str]:
    return arr.tobytes().decode("utf-8").split("\n") if arr.size else []


def write_search_index(db: sqlite_utils.Database) -> None:
    """(Re)build the index from the dictionary's tables and store it in ``search_index``."""
    buf = io.BytesIO()
    np.savez(buf, **build_arrays(db))
    db.execute("create table if not exists search_index (name text primary key, data blob not null)")
    db.execute("insert or replace into search_index (name, data) values ('main', ?)", [buf.getvalue()])


@dataclass
class IndexArrays:
    stems: list[str]
    words: list[str]
    word_stem: np.ndarray
    word_df: np.ndarray
    doc_code: np.ndarray
    doc_kind: np.ndarray
    doc_ptr: np.ndarray
    doc_tok: np.ndarray
    doc_w: np.ndarray
    doc_key: np.ndarray
    doc_main: np.ndarray
    doc_unspec: np.ndarray
    post_ptr: np.ndarray
    post_doc: np.ndarray
    post_w: np.ndarray
    code_billable: np.ndarray
    code_system: np.ndarray
    code_family: np.ndarray
    code_unspec: np.ndarray  # 1 where the code's own title says "unspecified" (C18.9 "... of colon, unspecified")
    code_text: list[str]  # each code rowid's code, undotted ("" where no code has that rowid)


def read_search_index(db: sqlite_utils.Database) -> IndexArrays | None:
    try:
        row = db.execute("select data from search_index where name = 'main'").fetchone()
    except Exception:
        return None
    if not row:
        return None
    with np.load(io.BytesIO(row[0]), allow_pickle=False) as z:
        if bytes(z["version"]).decode() != INDEX_VERSION:
            return None
        arrays = {k: z[k] for k in z.files if k != "version"}
    arrays["stems"] = unpack(arrays["stems"])
    arrays["words"] = unpack(arrays["words"])
    arrays["code_text"] = unpack(arrays["code_text"])
    return IndexArrays(**arrays)

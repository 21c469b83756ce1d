"""Candidates for each mention: dictionary codes, with the words of the note that support them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary.textnorm import GENERIC_MAIN_TERMS, stem, words
from medcoder_desktop.core.models import Encounter, Evidence, Mention

# A candidate must hold at least this share of its own wording in the mention.
MIN_DOC_COVERAGE = 0.5
PER_MENTION = 8  # hits read per mention
DIAGNOSES = {"ICD-10-CM"}
PROCEDURES = {"inpatient": {"ICD-10-PCS"}, "outpatient": {"HCPCS", "CPT"}}


@dataclass
class Candidate:
    """One code found for one mention."""

    code: str
    system: str
    title: str
    billable: bool
    score: float  # retrieval score, sqrt(q) * d
    q: float
    d: float
    mention: Mention
    evidence: Evidence
    matched_words: int
    rank: int  # 0 = the mention's best
    margin: float  # score minus the mention's next best score
    alternatives: list[str] = field(default_factory=list)  # other codes of the same mention
    why: str = ""  # how a finder other than the search read the words (the procedure index), for the reasoning


def systems_for(encounter: Encounter, available: set[str]) -> set[str]:
    """ICD-10-CM always; ICD-10-PCS for inpatient stays, HCPCS/CPT for outpatient ones when imported."""
    return (DIAGNOSES | PROCEDURES[encounter.setting]) & available


def _forms(text: str) -> set[str]:
    """Words of a wording, singular ("gouts" = "gout"), lower-cased."""
    return {_singular(w) for w in re.findall(r"[a-z0-9]+", text.lower())}


def _written(text: str) -> set[str]:
    """Words of a wording as written, lower-cased."""
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _singular(w: str) -> str:
    """The same cut on both sides: "seizures" = "seizure", "arteries" = "artery"; "abscess", "herpes simplex
    virus" and "metastasis" stay as written."""
    if len(w) <= 3 or w.endswith(("ss", "us", "is")):
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    return w[:-1] if w.endswith("s") else w


_PARENS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")  # nonessential modifiers
_SAYS_NOTHING = re.compile(r"\b(?:unspecified|nos|nec|not elsewhere classified|not otherwise specified|"
                           r"site not specified|without complications?)\b", re.I)


_LINKING = frozenset("of in on at to by for from and or as into".split())


def _essential(wording: str) -> str:
    """A wording without its nonessential modifiers and the words that say nothing was specified."""
    return _SAYS_NOTHING.sub(" ", _PARENS.sub(" ", wording))


def _index_path_readings(path: str) -> list[set[str]]:
    """The words of an Index path, once for each spelling of its main term: the Index prints a main term's
    forms together ("Hypertension, hypertensive", "Defect, defective"), its subterms after them."""
    parts = [p.strip() for p in _essential(path).split(",") if p.strip()]
    if not parts:
        return []
    head, rest = parts[0], parts[1:]
    stem4 = head.split()[0][:4].lower()
    variants = [p for p in rest if " " not in p and p[:4].lower() == stem4]
    sub = set().union(*(_written(p) for p in rest if p not in variants)) if rest else set()
    return [_written(h) | sub for h in [head, *variants]]


@lru_cache(maxsize=4)
def note_stems(note: str) -> frozenset[str]:
    """The stems of every word of a note: what decides an abbreviation's meaning there."""
    return frozenset(stem(w) for w in words(note))


# An Index path that spells out an acronym ("TAC (trigeminal autonomic cephalgia)", "FFA (frontal fibrosing
# alopecia)"): the acronym alone means that only in a note that also says one of the words it stands for.
_ACRONYM_PATH = re.compile(r"^([A-Z][A-Z0-9]{1,5})\s*\(([^()]+)\)\s*$")


def _acronym_agrees(path: str, note: str, written: str = "") -> bool:
    """An acronym is written in capitals ("PINs", not the surgical "pins") in a note that says one of its words."""
    m = _ACRONYM_PATH.match(path.strip())
    if m is None:
        return True
    if written and not _in_capitals(written):
        return False
    return bool({stem(w) for w in words(m.group(2)) if len(w) > 3} & note_stems(note))


_DURATION = re.compile(r"\b(?:for|since|during|over|last|past|lasting|of|within|after|before)\s+(?:the\s+)?"
                       r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                       r"fifteen|twenty|thirty|several|few|many)[\s-]+(?:days?|weeks?|months?|years?|hours?|hrs?|"
                       r"minutes?|mins?)\b(?!\s+(?:of\s+)?(?:gestation|pregnan|amenorrh))", re.I)


def _in_capitals(written: str) -> bool:
    """Written as an acronym is: in capitals, a plural's "s" aside ("PINs")."""
    return bool(re.fullmatch(r"[A-Z0-9]{2,}s?", written.strip()))


def _capitals_agree(wording: str, written: str) -> bool:
    """A wording that is an acronym ("PIN") is said only in capitals: "two pins" fixed a fracture."""
    return not re.fullmatch(r"[A-Z0-9]{2,}", _essential(wording).strip()) or _in_capitals(written)


def _word_said(dictionary: Dictionary, row: tuple, word: str, note: str = "") -> bool:
    """A mention of one word supports a code only when that word (its plural, or what a curated abbreviation
    stands for) is by itself a whole wording of the code: its title, an inclusion term or an Index path, less
    nonessential modifiers and "unspecified"/NOS/NEC. Stemming and spelling tolerance must not turn "personal"
    into "personality" or "h" into "Hartnup", and a site alone ("thyroid" in "Capsulitis, thyroid", "height" in
    "Loss, height") names no condition."""
    system, code, title = row[:3]
    key = " ".join(words(word))
    said = _forms(word) | _written(word)  # the note's plural meets a singular wording, not the reverse ("Nerves")
    readings = [said] + [_forms(e) | _written(e) for e in dictionary.engine.abbrev.get(key, ())]
    if not said or len(key) < 2 or key.isdigit() or {key, _singular(key)} & GENERIC_MAIN_TERMS:
        return False  # a letter, a number ("24 h") or a generic word ("activity", "stress", "mass") names nothing

    def whole(wording: set[str]) -> bool:
        return bool(wording) and any(wording <= r for r in readings)

    if whole(_written(_essential(title))):
        return True
    if system != "ICD-10-CM":
        return False
    terms = dictionary.index_terms_of(system, code)
    notes = dictionary.note_texts(system, [code], ["inclusion_term", "includes"])
    return (any(whole(_written(_essential(t))) and _capitals_agree(t, word) for t in notes)
            or any(whole(r) and _acronym_agrees(t, note, word) for t in terms for r in _index_path_readings(t)))


# Codes of why an encounter happens ("Encounter for general adult medical examination", "... for blood typing",
# "... for screening mammogram"): a note's "physical examination", "blood tests" or "chest X-ray" is something done
# during a visit, not the reason for it. Such a code needs words that state the encounter, or care given as its
# object ("palliative care", "radiation therapy session").
_ENCOUNTER_CODE = re.compile(r"encounter for\b", re.I)
_ENCOUNTER_SAID = re.compile(
    r"\b(?:encounter|visit|here for|presents? for|presented for|comes? for|came for|seen for|referred for|"
    r"admitted for|admission for|check-?up|screening|annual|routine|follow[- ]?up|pre-?operative|pre-?op|"
    r"clearance|aftercare|care|session|counsel(?:l)?ing|vaccination|immuni[sz]ation)\b", re.I)


def _states_encounter(note: str, mention: Mention, c: "Candidate") -> bool:
    return bool(_ENCOUNTER_SAID.search(note[max(0, mention.start - 40):mention.end])) or mention.section == "chief_complaint"


# Codes of an abnormal result ("Elevated C-reactive protein (CRP)", "Abnormal results of liver function studies"):
# a test named with its value or alone is not one; the note must call it abnormal (guidelines III.B, IV.K: a
# finding is coded when the provider says it is abnormal).
_FINDING_TITLE = re.compile(r"^(?:elevated|abnormal|increased|decreased|raised|low|high|positive|nonspecific "
                            r"(?:abnormal|elevation|low)|other abnormal)\b", re.I)


def _is_result_code(c: "Candidate") -> bool:
    """A code of an abnormal test result (R70-R94: blood, urine, body fluids, imaging, function studies) whose
    title says so; "weight loss" or "leukopenia" are conditions in their own words."""
    return (c.system == "ICD-10-CM" and c.code[:1] == "R" and "70" <= c.code[1:3] <= "94"
            and bool(_FINDING_TITLE.match(c.title)))
_ABNORMAL_SAID = re.compile(r"\b(?:elevat\w*|abnormal\w*|increas\w*|decreas\w*|raised|rais|rising|high|higher|"
                            r"low|lower|reduced|positive|altered|deranged|above|below|hyper\w+|hypo\w+|"
                            r"out of range)\b|↑|↓", re.I)
# Names of a test, a measure or of a procedure's anesthesia whose words also name a condition: "blood gas", "gas
# exchange" or "gas bubbles" on imaging are not flatulence, "rheumatoid factor" is no rheumatoid arthritis,
# "intraocular pressure" no ocular hypertension, "visual field" no field defect, and "general anesthesia" or
# "examination under anesthesia" is no numbness of the skin (R20.0).
_TEST_NAME = re.compile(r"\b(?:(?:arterial|venous|capillary|blood)\s+(?:blood\s+)?gas(?:es)?|gas(?:es)?\s+analys[ie]s|"
                        r"gasometr\w*|gas(?:eous)?\s+(?:exchange|bubbles?|chamber|collection)|"
                        r"rheumatoid\s+factors?|(?:intraocular|ocular)\s+pressures?|visual\s+fields?|"
                        r"(?:general|local|locoregional|regional|spinal|epidural|intradural|subarachnoid|"
                        r"intravenous|topical|inhalation(?:al)?|peribulbar|retrobulbar|subtenon|caudal|plexus|"
                        r"block|dissociative|balanced|intratracheal|sedation\s+and|under)\s+an(?:a)?esthesia|"
                        r"an(?:a)?esthesia\s+(?:was|were)\s+(?:induced|given|administered|performed)|"
                        r"an(?:a)?esthe(?:tic|sia)\s+(?:induction|technique|team|department|service|risk))\b", re.I)


def results_called_abnormal(per_mention: list[list["Candidate"]]) -> list[list["Candidate"]]:
    """The candidates, less the codes of an abnormal result that no mention of theirs calls abnormal: "alkaline
    phosphatase was elevated" supports R74.8, and then so does "alkaline phosphatase" elsewhere; a "C-reactive
    protein 12 mg/dl" alone supports no "Elevated C-reactive protein"."""
    called = {c.code for cands in per_mention for c in cands if _is_result_code(c) and _ABNORMAL_SAID.search(c.mention.text)}
    kept = [[c for c in cands if not _is_result_code(c) or c.code in called] for cands in per_mention]
    return [c for c in kept if c]


def _in_test_name(note: str, span: Evidence) -> bool:
    lo = max(0, span.start - 30)
    return any(m.start() + lo <= span.start and span.end <= m.end() + lo
               for m in _TEST_NAME.finditer(note[lo:span.end + 20]))


# Pain NOS (R52) is pain at no named site: "pain in the right testicle", "lumbosacral pain" or "pain at palpation
# of the flexor tendon" is coded by its site (Index: Pain, by site), never R52, even where the site's code is
# not found. And a pain scale is a measure, not a pain. So is hemorrhage NOS (R58; Index: Hemorrhage, by site):
# "rectal bleeding", "retinal hemorrhages", "bleeding of the tumor" are coded by their site or their cause.
_NOS_BY_SITE = {"R52", "R58"}
_BODY_SITE = re.compile(
    r"\b(?:abdom\w*|hemiabdom\w*|back|chest|thora\w*|midthoracic|lumb\w*|sacr\w*|neck|cervical|head|testi\w*|"
    r"scrot\w*|knees?|hips?|shoulders?|arms?|legs?|limbs?|feet|foot|hands?|fingers?|toes?|ankles?|wrists?|elbows?|"
    r"joints?|muscles?|muscular|tendons?|mandib\w*|jaw|teeth|tooth|dental|mouth|oral|throat|ears?|eyes?|ocular|"
    r"orbit\w*|pelvi\w*|flanks?|renal|kidneys?|loin|dorsal|interscapular|mediastin\w*|epigastr\w*|hypochondri\w*|"
    r"iliac|inguinal|groin|perine\w*|rectal|anal|penile|penis|breasts?|bones?|spin\w*|facial|face|retro\w*|"
    r"pleur\w*|precordial|retrosternal|calf|calves|thighs?|buttocks?|gluteal|heel|plantar|vulv\w*|vagin\w*|"
    r"uter\w*|ovar\w*|bladder|urethr\w*|gastric|stomach|hepatic|liver|biliary|cranial|skull|sinus\w*|nasal|"
    r"tongue|gingiv\w*|periodont\w*|periapical|radicular|sciatic|neuropathic|trigemin\w*|scale|retin\w*|vitre\w*|"
    r"conjunctiv\w*|tumou?r\w*|lesions?|vessels?|wounds?|ulcers?|mucos\w*|digestive|gastrointestinal|intestin\w*|"
    r"colon\w*|cerebr\w*|intracran\w*|subarachnoid|subdural|intraparenchym\w*|pulmonary|lungs?|airways?|"
    r"transvaginal|vesical|prostat\w*|surgical|operative|postoperative)\b", re.I)


def _nos_at_a_named_site(note: str, mention: Mention, c: "Candidate") -> bool:
    if c.system != "ICD-10-CM" or c.code not in _NOS_BY_SITE:
        return False
    before = note[mention.start:c.evidence.start].split()[-4:]
    after = note[c.evidence.end:mention.end].split()[:6]
    return bool(_BODY_SITE.search(" ".join(before + after)))


# A sign named at a body site is localized: the Index's subterm "localized" of its main term is the code
# ("cervical lymphadenopathy" is Lymphadenopathy, localized R59.0, not the main term's generalized R59.1), unless
# the note says it is generalized.
_NODE_SITE = re.compile(r"\b(?:axillar\w*|supraclavicular|subclavian|hilar|submandibular|submaxillary|"
                        r"parotid|occipital|preauricular|retroauricular|paratracheal|para-?aortic|aortocaval|"
                        r"mesenter\w*|peripancrea\w*|celiac|portal|pulmonary|lungs?|limbs?|extremit\w*|legs?|"
                        r"ankles?|regional|local)\b", re.I)
_GENERALIZED = re.compile(r"\b(?:generali[sz]\w*|diffuse|widespread|dissemin\w*|systemic)\b", re.I)


def _localized(dictionary: Dictionary, note: str, mention: Mention, system: str, code: str,
               evidence: Evidence) -> tuple[str, str, str] | None:
    if system != "ICD-10-CM" or (found := dictionary.localized_codes(system).get(code)) is None:
        return None
    around = " ".join(note[mention.start:evidence.start].split()[-4:] + note[evidence.end:mention.end].split()[:6])
    if _GENERALIZED.search(around) or not (site := _BODY_SITE.search(around) or _NODE_SITE.search(around)):
        return None
    return found[0], found[1], f"Index: a sign at a named site (“{site.group(0)}”) is localized."


def strict_search(dictionary: Dictionary, text: str, limit: int, systems: set[str],
                  must: str = "") -> list[tuple[str, str, bool, float]]:
    """(code, title, billable, score) for ``text`` read as a note's words are (close misspellings only: no
    "appendectomy" read as "splenectomy"), best first; with ``must``, only wordings that hold one of its words
    ("history of appendectomy" must find "appendectomy", not only "history of")."""
    engine = dictionary.engine
    ranked = engine.rank_slots(engine.read_query(text[:2000], strict=True), limit, systems)
    if must:
        wanted = engine.read_query(must[:2000], strict=True)
        ranked = [r for r in ranked if engine.matched(wanted, r.doc)]
    rows = dictionary.rows_by_rowid([r.code_rowid for r in ranked])
    return [(rows[r.code_rowid][1], rows[r.code_rowid][2], bool(rows[r.code_rowid][3]), r.score) for r in ranked]


def candidates_for(dictionary: Dictionary, note: str, mention: Mention, systems: set[str],
                   fits: Callable[[str, str, str], bool] | None = None) -> list[Candidate]:
    """The codes a mention supports: the best hit, and further hits that cover other words of it.

    ``fits(system, code, title)``: False for codes that cannot fit the encounter (``fit.Fit.allows``)."""
    engine = dictionary.engine
    slots = engine.read_query(mention.text, strict=True, note=note_stems(note))
    # a duration says how long, never what: "fever for three days" is no "Fever, three-day" (sandfly fever)
    spans = [(m.start(), m.end()) for m in _DURATION.finditer(mention.text)]
    slots = [s for s in slots if not any(a <= s.start and s.end <= b for a, b in spans)]
    if not slots:
        return []
    ranked = engine.rank_slots(slots, PER_MENTION * (3 if fits is not None else 1), systems)
    if not ranked:
        return []
    rows = dictionary.rows_by_rowid([r.code_rowid for r in ranked])
    if fits is not None:  # read further, so that codes that cannot fit leave room for those that can
        ranked = [r for r in ranked if fits(*rows[r.code_rowid][:3])][:PER_MENTION]
    out: list[Candidate] = []
    covered: list[set[int]] = []
    for i, r in enumerate(ranked):
        if r.d < MIN_DOC_COVERAGE:
            continue
        hit_slots = engine.matched(slots, r.doc)
        # An Index path is read from its main term: "three days" is no "Fever, three-day", "personal history" no
        # "History, personal, fall": without its main term a path supports nothing.
        main = int(engine.ix.doc_main[r.doc])
        if main >= 0 and not any(main in s.alts for s in hit_slots):
            continue
        # One word of the note (with at most linking words: "height of"), even one that an abbreviation or
        # synonym spreads over several slots.
        said = {(s.start, s.end) for s in hit_slots if s.word not in _LINKING} or {(s.start, s.end) for s in hit_slots}
        if len(said) == 1 and not _word_said(dictionary, rows[r.code_rowid], note[
                mention.start + min(said)[0]:mention.start + min(said)[1]], note):
            continue
        system, code, title, billable = rows[r.code_rowid]
        ids = {id(s) for s in hit_slots}
        # A later hit must bring words of its own: else it is a rival reading of the same words.
        rival = any(ids <= c for c in covered)
        start = mention.start + min(s.start for s in hit_slots)
        end = mention.start + max(s.end for s in hit_slots)
        if not billable and (default := dictionary.default_billable(system, code)):
            code, title, billable = default[0], default[1], 1  # "type 2 diabetes" -> E11.9
        evidence = Evidence(start=start, end=end, text=note[start:end])
        why = ""
        if local := _localized(dictionary, note, mention, system, code, evidence):
            code, title, why = local  # "cervical lymphadenopathy" -> R59.0
        nxt = ranked[i + 1].score if i + 1 < len(ranked) else 0.0
        out.append(Candidate(
            code=code, system=system, title=title, billable=bool(billable), score=r.score, q=r.q, d=r.d,
            mention=mention, evidence=evidence,
            matched_words=len(hit_slots), rank=len(covered) if not rival else 99, margin=r.score - nxt, why=why,
        ))
        if not rival:
            covered.append(ids)
    out = [c for c in out if not _ENCOUNTER_CODE.match(c.title) or _states_encounter(note, mention, c)]
    out = [c for c in out if not _in_test_name(note, c.evidence) and not _nos_at_a_named_site(note, mention, c)]
    best = [c for c in out if c.rank != 99]
    for c in best:
        c.alternatives = [o.code for o in out if o is not c][:4]
    return best

"""PreferencesManager: what ``CodingService`` delegates to for organization preferences."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from medcoder_desktop import __version__
from medcoder_desktop.core.clock import now
from medcoder_desktop.core.codes import undotted
from medcoder_desktop.core.engine.pipeline import suggest_events
from medcoder_desktop.core.gold import read_gold
from medcoder_desktop.core.models import (
    CodePreference, Encounter, ExportReport, GoldItem, ImportRecord, LearnedReplacement, LearnReport, PackImportReport,
    PreferencesSummary, Rule, SourceSummary, Suggestion,
)
from medcoder_desktop.core.preferences import learning
from medcoder_desktop.core.preferences.merge import merge_pack
from medcoder_desktop.core.preferences.records import PreferencesData, SignerMark, Tally
from medcoder_desktop.core.preferences.privacy import sanitized, vocabulary
from medcoder_desktop.core.preferences.pack import (
    PackMetadata, PackPayload, build_pack, check_not_replayed, read_pack,
)
from medcoder_desktop.core.preferences.ranking import DEAD_ZONE, PreferenceRanker, smoothed_shift
from medcoder_desktop.core.preferences.rules import check_consistent, check_rule_count, make_rule
from medcoder_desktop.core.preferences.signing import KeyRing, save_preferences_file
from medcoder_desktop.core.progress import Progress, quiet
from medcoder_desktop.core.settings import resolve_user
from medcoder_desktop.core.preferences.store import PreferenceStore, file_digest
from medcoder_desktop.errors import CodeNotFoundError, InvalidInputError, PreferencesError
from medcoder_desktop.paths import AppPaths

SHOWN = 20


class PreferencesManager:
    """Organization preferences of one data folder: rules, learning, packs, and the ranker built from them.

    ``dictionary`` is a callable returning the (opened) dictionary: it is only opened when needed.
    """

    def __init__(self, paths: AppPaths, dictionary: Callable[[], object]):
        self.paths = paths
        self.store = PreferenceStore(paths)
        self.keys = KeyRing(paths)
        self._dictionary = dictionary
        self._ranker: PreferenceRanker | None = None
        self._ranker_version: tuple | None = None

    # -- ranking -------------------------------------------------------------------------------
    def ranker(self) -> PreferenceRanker | None:
        """The compiled preferences for ``suggest_events``; None when there are none. Rebuilt whenever the
        file changes (another window or the CLI may have imported a pack)."""
        version = self.store.version()
        if version is None:
            return None
        if version != self._ranker_version:
            self._ranker = PreferenceRanker.compile(self.store.load(), self._dictionary())
            self._ranker_version = version
        return self._ranker

    # -- reading -------------------------------------------------------------------------------
    def summary(self) -> PreferencesSummary:
        data = self.store.load()
        title = self._titles()
        totals: dict[str, Tally] = {}
        for src in data.sources.values():
            for c, t in src.codes.items():
                totals.setdefault(c, Tally()).add(t)
        prefs = []
        for c, t in totals.items():
            shift = smoothed_shift(t.n, t.kept, t.expected / t.n) if t.n else 0.0
            if abs(shift) >= DEAD_ZONE:
                prefs.append(CodePreference(code=c, title=title(c), found=t.n, coded=t.kept,
                                            expected=round(t.expected, 1), shift=round(shift, 3)))
        prefs.sort(key=lambda p: (-abs(p.coded - p.expected), p.code))  # most notes of difference first
        repl: dict[tuple[str, str], int] = {}
        for src in data.sources.values():
            for y, xs in src.replacements.items():
                for x, n in xs.items():
                    repl[(y, x)] = repl.get((y, x), 0) + n
        replacements = sorted(
            (LearnedReplacement(code=x, instead_of=y, notes=n, suggested=totals.get(y, Tally()).shown)
             for (y, x), n in repl.items() if n >= 2), key=lambda r: (-r.notes, r.instead_of))
        return PreferencesSummary(
            path=str(self.store.path), stored=self.store.exists(), workstation=data.workstation,
            rules=sorted(data.rules, key=lambda r: r.id),
            sources=[SourceSummary(id=s.id, kind=s.kind, label=s.label, origin=s.origin, learned_at=s.learned_at,
                                   items=s.items, codes=len(s.codes),
                                   wordings=sum(len(v) for v in s.wordings.values()))
                     for s in data.sources.values()],
            raised=[p for p in prefs if p.shift > 0][:SHOWN], lowered=[p for p in prefs if p.shift < 0][:SHOWN],
            replacements=replacements[:SHOWN], imports=data.imports, counts=_counts(data),
        )

    def _titles(self) -> Callable[[str], str]:
        if not self.paths.dictionary_db.is_file():  # `prefs show` never builds the dictionary
            return lambda code: ""
        d = self._dictionary()

        @lru_cache(maxsize=None)
        def title(code: str) -> str:
            try:
                return d.show(code).title
            except CodeNotFoundError:
                return ""
        return title

    # -- rules ---------------------------------------------------------------------------------
    def add_rule(self, kind: str, code: str, *, over: str | None = None, add: str | None = None,
                 setting: str | None = None, payer: str | None = None) -> Rule:
        rule = make_rule(self._dictionary(), kind, code, over=over, add=add, setting=setting, payer=payer)
        with self.store.transaction() as data:
            same = next((r for r in data.rules if r.identity() == rule.identity()), None)
            if same is not None:
                return same
            rule = rule.model_copy(update={"id": data.next_rule_id, "created": now()})
            data.next_rule_id += 1
            data.rules.append(rule)
            check_rule_count(data.rules)
        return rule

    def remove_rule(self, rule_id: int) -> Rule:
        with self.store.transaction() as data:
            rule = next((r for r in data.rules if r.id == rule_id), None)
            if rule is None:
                raise PreferencesError(f"There is no rule {rule_id}; see `medcoder prefs rule list`.")
            data.rules.remove(rule)
        return rule

    # -- learning ------------------------------------------------------------------------------
    def learn_gold(self, path: Path, progress: Progress = quiet) -> LearnReport:
        """Learn from coded notes (gold JSONL), retrieval only; learning the same file again replaces it."""
        start = time.monotonic()
        items = read_gold(Path(path))
        d = self._dictionary()
        d.engine  # load before the first note

        def suggest(item: GoldItem) -> list[Suggestion]:
            try:
                events = list(suggest_events(d, item.text, Encounter(setting=item.setting or "outpatient")))
            except InvalidInputError:  # a note the pipeline refuses (too long): nothing to learn from
                return []
            return events[-1].suggestions

        index = d.codes_by_undotted()  # one query: looking codes up one by one scans the table each time
        learner = learning.learn_gold(items, suggest, lambda code: index.get(undotted(code)), len(items), progress,
                                      known=vocabulary(d))
        source_id = "gold:" + file_digest(Path(path))[:16]
        return self._keep(learner, source_id, "gold", Path(path).name, start)

    def learn_workspace(self, workspace) -> LearnReport:
        """Learn from the coders' decisions in ``workspace``; this workstation's earlier learning is replaced."""
        start = time.monotonic()
        learner = learning.learn_workspace(workspace, known=vocabulary(self._dictionary()))
        return self._keep(learner, "workspace:", "workspace", "workspace", start)

    def _keep(self, learner: learning.Learner, source_id: str, kind: str, label: str, start: float) -> LearnReport:
        code_sets = self._dictionary().code_sets()
        src = learner.source(source_id, kind, label, now(), code_sets)
        with self.store.transaction() as data:
            if kind == "workspace":  # named after this workstation (its id is made with the first save)
                src = src.model_copy(update={"id": f"workspace:{data.workstation}",
                                             "label": f"workspace of workstation {data.workstation}"})
            replaced = src.id in data.sources
            data.sources[src.id] = src
        return LearnReport(source=src.id, label=src.label, items=learner.items, skipped=learner.skipped,
                           codes=len(src.codes), wordings=sum(len(v) for v in src.wordings.values()),
                           replacements=sum(len(v) for v in src.replacements.values()),
                           replaced_previous=replaced, seconds=round(time.monotonic() - start, 1))

    # -- packs ---------------------------------------------------------------------------------
    def export(self, path: Path, *, organization: str | None = None, author: str | None = None) -> ExportReport:
        """Sign and write a pack of everything this workstation has (rules and learned sources).

        Raises:
            PreferencesError: no signing key here, no organization name, or the file cannot be written.
        """
        self.keys.signing_key()  # fail before any work when this workstation cannot sign
        signer_fp = self.keys.own().fingerprint
        with self.store.transaction() as data:
            organization = (organization or data.organization).strip()
            if not organization:
                raise PreferencesError("Name the organization the pack is for: --organization NAME "
                                       "(remembered for the next export).")
            check_consistent(data.rules, "The pack was not written: a rule contradicts itself")
            data.organization = organization
            sequence = data.issued.get(signer_fp, 0) + 1  # counted before writing: a failed write leaves a gap
            data.issued[signer_fp] = sequence
        issued_at = now("microseconds")
        meta = PackMetadata(organization=organization, author=author or resolve_user(None), created=now(),
                            issued_at=issued_at, sequence=sequence,
                            app_version=__version__, code_sets=self._dictionary().code_sets(), counts=_counts(data))
        rules = [r.model_copy(update={"id": 0}) for r in sorted(data.rules, key=lambda r: r.id)]
        known = vocabulary(self._dictionary())  # sources learned before wordings were vocabulary-only, too
        payload = PackPayload(metadata=meta, rules=rules, sources=[sanitized(s, known) for s in data.sources.values()])
        blob, signer = build_pack(payload, self.keys)
        target = Path(path).expanduser().resolve()
        save_preferences_file(target, blob)
        return ExportReport(path=str(target), organization=organization, author=meta.author,
                            signer=signer.fingerprint, bytes=len(blob), counts=meta.counts)

    def import_pack(self, path: Path, *, trust_signer: bool = False) -> PackImportReport:
        """Verify a pack and merge it; all or nothing.

        Raises:
            PreferencesError: the pack is refused (see ``pack.read_pack``); the preferences are unchanged.
        """
        path = Path(path)
        payload, signer, raw = read_pack(path, self.keys, trust_signer=trust_signer)
        newly_trusted = not self.keys.is_trusted(signer.fingerprint)
        d = self._dictionary()

        index = d.codes_by_undotted()  # one query: looking codes up one by one scans the table each time

        def exists(code: str) -> bool:
            return index.get(undotted(code)) == code

        meta = payload.metadata
        report = PackImportReport(file=str(path), organization=meta.organization, author=meta.author,
                                  created=meta.created, signer=signer.fingerprint, signer_newly_trusted=newly_trusted)
        record = ImportRecord(organization=meta.organization, author=meta.author, created=meta.created,
                              signer=signer.fingerprint, file=path.name, sha256=hashlib.sha256(raw).hexdigest(),
                              imported_at=now())
        with self.store.transaction() as data:
            check_not_replayed(path, meta, signer.fingerprint, data.signers.get(signer.fingerprint), record.sha256)
            merge_pack(data, payload, exists, d.code_sets(), report, record)
            data.signers[signer.fingerprint] = SignerMark(sequence=meta.sequence, issued_at=meta.issued_at,
                                                          organization=meta.organization, sha256=record.sha256)
        if newly_trusted:
            self.keys.trust_raw(base64.b64decode(signer.public_key),
                                f"signer of {meta.organization}'s pack ({path.name})")
        return report


def _counts(data: PreferencesData) -> dict[str, int]:
    codes: set[str] = set()
    wordings = replacements = 0
    for s in data.sources.values():
        codes.update(s.codes)
        wordings += sum(len(v) for v in s.wordings.values())
        replacements += sum(len(v) for v in s.replacements.values())
    return {"rules": len(data.rules), "sources": len(data.sources),
            "notes": sum(s.items for s in data.sources.values()), "codes": len(codes), "wordings": wordings,
            "replacements": replacements}

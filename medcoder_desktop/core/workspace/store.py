"""The coder's workspace: encounters, suggestion runs, decisions and the audit log in one SQLite file."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from medcoder_desktop.core.clock import now
from medcoder_desktop.core.codes import typed_code
from medcoder_desktop.core.models import Encounter, Suggestion
from medcoder_desktop.core.notefile import validate_note
from medcoder_desktop.core.settings import load_settings, resolve_user
from medcoder_desktop.core.workspace import exporting, importing
from medcoder_desktop.core.workspace.claims import ClaimStore
from medcoder_desktop.core.workspace.database import DEFAULT_BUSY_TIMEOUT_MS, open_database, translate_error
from medcoder_desktop.core.workspace.history import code_states
from medcoder_desktop.core.workspace.importing import NewEncounter
from medcoder_desktop.core.models import (
    ACTIONS,
    IN_EFFECT,
    STATUSES,
    AuditEntry,
    CodeState,
    Decision,
    EncounterDetails,
    EncounterRecord,
    EncounterSummary,
    ExportResult,
    ImportIssue,
    ImportResult,
    SuggestionRun,
)
from medcoder_desktop.errors import InvalidInputError, WorkspaceError
from medcoder_desktop.paths import AppPaths

PREVIEW_CHARS = 80
IMPORT_BATCH = 500
MAX_CODE_CHARS = 20
MAX_REASON_CHARS = 2000
DETAIL_FIELDS = ("age", "sex", "payer", "setting", "date_of_service")


def preview(note: str) -> str:
    """The first non-blank line of a note, shortened for a list."""
    first = next((ln.strip() for ln in note.splitlines() if ln.strip()), "")
    return first if len(first) <= PREVIEW_CHARS else first[: PREVIEW_CHARS - 1].rstrip() + "…"


def _validated(model: type[BaseModel], data: dict[str, Any], what: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or what}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise InvalidInputError(f"Unusable {what}: {fields}.") from None


def _checked_code(code: str, what: str = "code") -> str:
    if not isinstance(code, str) or not code.strip():
        raise InvalidInputError(f"No {what} given.")
    c = typed_code(code)
    if len(c) > MAX_CODE_CHARS or not all(ch.isalnum() or ch in ".-" for ch in c):
        raise InvalidInputError(f"{code!r} is not a code: use letters, digits and a dot, at most {MAX_CODE_CHARS}.")
    return c


class Workspace(ClaimStore):
    """The coder's workspace database (``AppPaths.default().workspace_db`` unless ``path`` is given).

    Thread safety: one SQLite connection opened with ``check_same_thread=False`` and guarded by a
    re-entrant lock; every public method holds the lock for its whole body, so the GUI thread and a
    worker thread may call the same Workspace and their calls are serialized. Each write (a decision,
    an undo, an update, one import batch) is its own ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction,
    committed durably (WAL, ``synchronous = full``) before the method returns. Other programs (a second
    window) use their own Workspace; a write they hold past ``busy_timeout_ms`` raises
    ``DatabaseLockedError``.

    ``user`` is the configured user name (settings ``user_name``); without it the OS user is recorded.
    """

    def __init__(self, path: Path | None = None, *, user: str | None = None,
                 busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS):
        self.path = Path(path) if path is not None else AppPaths.default().workspace_db
        self.user = resolve_user(user)
        self.busy_timeout_ms = busy_timeout_ms
        self._lock = threading.RLock()
        self.db = open_database(self.path, busy_timeout_ms)
        self._closed = False

    @classmethod
    def open_default(cls, paths: AppPaths | None = None) -> "Workspace":
        """The workspace of these folders, recording the user name from the settings when set."""
        paths = paths or AppPaths.default()
        return cls(paths.workspace_db, user=load_settings(paths).user_name)

    # -- plumbing ------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self.db.conn.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise WorkspaceError("The workspace is closed.")
        return self.db.conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding the write lock; committed on success, rolled back on any error."""
        with self._lock:
            conn = self._conn()
            try:
                conn.execute("begin immediate")
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path, self.busy_timeout_ms) from exc
            try:
                yield conn
                conn.commit()
            except sqlite3.Error as exc:
                conn.rollback()
                raise translate_error(exc, self.path, self.busy_timeout_ms) from exc
            except BaseException:
                conn.rollback()
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path, self.busy_timeout_ms) from exc

    def _rows(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = conn.execute(sql, list(params))
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def _audit(self, conn: sqlite3.Connection, action: str, *, encounter_id: str | None = None,
               run_id: int | None = None, detail: dict[str, Any] | None = None) -> None:
        """Append one audit row (inside the caller's transaction). Never pass note text in ``detail``."""
        conn.execute(
            "insert into audit (at, user, action, encounter_id, run_id, detail) values (?, ?, ?, ?, ?, ?)",
            [now("milliseconds"), self.user, action, encounter_id, run_id, json.dumps(detail or {}, sort_keys=True)],
        )

    def _encounter_row(self, conn: sqlite3.Connection, encounter_id: str) -> dict[str, Any]:
        rows = self._rows(conn, "select * from encounters where id = ?", [encounter_id])
        if not rows:
            raise WorkspaceError(f"There is no encounter {encounter_id!r} in the workspace.")
        return rows[0]

    @staticmethod
    def _record(row: dict[str, Any]) -> EncounterRecord:
        row = dict(row)
        row["gold_codes"] = json.loads(row["gold_codes"]) if row.get("gold_codes") else None
        return EncounterRecord.model_validate(row)

    @staticmethod
    def _decision(row: dict[str, Any]) -> Decision:
        return Decision.model_validate({**row, "undone": bool(row["undone"])})

    @staticmethod
    def _run(row: dict[str, Any]) -> SuggestionRun:
        return SuggestionRun.model_validate({
            **row, "code_sets": json.loads(row["code_sets"]), "timings": json.loads(row["timings"]),
            "suggestions": json.loads(row["suggestions"]),
        })

    # -- encounters ----------------------------------------------------------------------------
    def add_encounter(self, encounter_id: str, note: str, encounter: Encounter | EncounterDetails | None = None,
                      *, source_file: str | None = None) -> EncounterRecord:
        """Add one encounter (a pasted or opened note).

        Raises:
            InvalidInputError: bad id, empty/huge/binary note, or unusable details.
            WorkspaceError: the id is already in the workspace.
        """
        enc_id = importing.validate_id(encounter_id)
        note = validate_note(note)
        data = encounter.model_dump() if encounter is not None else {}
        details = _validated(EncounterDetails, {k: v for k, v in data.items() if k in DETAIL_FIELDS},
                             "encounter details")
        item = NewEncounter(id=enc_id, note=note, details=details, source_file=source_file or "")
        with self._write() as conn:
            if conn.execute("select 1 from encounters where id = ?", [enc_id]).fetchone():
                raise WorkspaceError(f"The encounter {enc_id!r} is already in the workspace.")
            self._insert_encounter(conn, item, "manual")
        return self.get_encounter(enc_id)

    def _insert_encounter(self, conn: sqlite3.Connection, item: NewEncounter, fmt: str) -> None:
        t = now("milliseconds")
        d = item.details
        conn.execute(
            "insert into encounters (id, note, age, sex, payer, setting, date_of_service, status, source_file, "
            "gold_codes, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?)",
            [item.id, item.note, d.age, d.sex, d.payer, d.setting, d.date_of_service, item.source_file or None,
             json.dumps(item.gold_codes) if item.gold_codes is not None else None, t, t],
        )
        detail: dict[str, Any] = {"format": fmt, "source_file": item.source_file or None, "chars": len(item.note)}
        if item.line is not None:
            detail["line"] = item.line
        if item.gold_codes is not None:
            detail["gold_codes"] = sum(len(v) for v in item.gold_codes.values())
        self._audit(conn, "encounter.import", encounter_id=item.id, detail=detail)

    def get_encounter(self, encounter_id: str) -> EncounterRecord:
        """One encounter with its note. Raises WorkspaceError when there is none with this id."""
        with self._read() as conn:
            return self._record(self._encounter_row(conn, encounter_id))

    def has_encounter(self, encounter_id: str) -> bool:
        with self._read() as conn:
            return conn.execute("select 1 from encounters where id = ?", [encounter_id]).fetchone() is not None

    def list_encounters(self, status: str | None = None, *, limit: int | None = None,
                        offset: int = 0) -> list[EncounterSummary]:
        """Encounters in id order, optionally of one status, with a preview and their accepted-code count."""
        if status is not None and status not in STATUSES:
            raise InvalidInputError(f"Unknown status {status!r}; use one of {', '.join(STATUSES)}.")
        where, params = ("where status = ?", [status]) if status else ("", [])
        page = f" limit {int(limit)} offset {int(offset)}" if limit is not None else ""
        with self._read() as conn:
            rows = self._rows(
                conn,
                f"select id, status, setting, substr(note, 1, 2000) as head from encounters {where} order by id{page}",
                params,
            )
            by_enc: dict[str, list[Decision]] = {}
            if rows:
                ids = [r["id"] for r in rows]
                for chunk in range(0, len(ids), 500):
                    part = ids[chunk: chunk + 500]
                    marks = ",".join("?" * len(part))
                    for d in self._rows(conn, f"select * from decisions where undone = 0 and encounter_id in ({marks})",
                                        part):
                        by_enc.setdefault(d["encounter_id"], []).append(self._decision(d))
        return [
            EncounterSummary(
                id=r["id"], status=r["status"], setting=r["setting"], preview=preview(r["head"]),
                accepted_codes=sum(1 for s in code_states(by_enc.get(r["id"], [])) if s.in_effect),
            )
            for r in rows
        ]

    def update_encounter(self, encounter_id: str, **changes: Any) -> EncounterRecord:
        """Change age, sex, payer, setting or date_of_service (None clears); audited with old and new values."""
        unknown = sorted(set(changes) - set(DETAIL_FIELDS))
        if unknown:
            raise InvalidInputError(f"Cannot change {', '.join(unknown)}; only {', '.join(DETAIL_FIELDS)}.")
        with self._write() as conn:
            row = self._encounter_row(conn, encounter_id)
            old = {f: row[f] for f in DETAIL_FIELDS}
            new = _validated(EncounterDetails, {**old, **changes}, "encounter details").model_dump()
            diff = {f: {"from": old[f], "to": new[f]} for f in DETAIL_FIELDS if old[f] != new[f]}
            if diff:
                conn.execute(
                    "update encounters set age = ?, sex = ?, payer = ?, setting = ?, date_of_service = ?, "
                    "updated_at = ? where id = ?",
                    [*(new[f] for f in DETAIL_FIELDS), now("milliseconds"), encounter_id],
                )
                self._audit(conn, "encounter.update", encounter_id=encounter_id, detail={"changes": diff})
        return self.get_encounter(encounter_id)

    def set_status(self, encounter_id: str, status: str) -> EncounterRecord:
        """Set new / in_progress / coded / skipped (audited when it changes)."""
        if status not in STATUSES:
            raise InvalidInputError(f"Unknown status {status!r}; use one of {', '.join(STATUSES)}.")
        with self._write() as conn:
            self._set_status(conn, self._encounter_row(conn, encounter_id), status, "user")
        return self.get_encounter(encounter_id)

    def _set_status(self, conn: sqlite3.Connection, row: dict[str, Any], status: str, by: str) -> None:
        if row["status"] == status:
            return
        conn.execute("update encounters set status = ?, updated_at = ? where id = ?",
                     [status, now("milliseconds"), row["id"]])
        self._audit(conn, "encounter.status", encounter_id=row["id"],
                    detail={"from": row["status"], "to": status, "by": by})

    # -- imports -------------------------------------------------------------------------------
    def import_folder(self, folder: Path) -> ImportResult:
        """One encounter per .txt/.md file of ``folder`` (id = file stem, name order, not recursive)."""
        return self._import(importing.read_folder(Path(folder)), "folder")

    def import_csv(self, path: Path) -> ImportResult:
        """One encounter per row: id, text (or note), optional age, sex, payer, setting, date_of_service."""
        return self._import(importing.read_csv(Path(path)), "csv")

    def import_jsonl(self, path: Path) -> ImportResult:
        """One encounter per JSON line (plain or gold lines; gold codes are kept)."""
        return self._import(importing.read_jsonl(Path(path)), "jsonl")

    def _import(self, items: Iterable[importing.Item], fmt: str) -> ImportResult:
        """Store the good items in batches (one transaction each); an id already present is skipped and
        reported, never overwritten."""
        result = ImportResult()
        batch: list[NewEncounter] = []

        def flush() -> None:
            if not batch:
                return
            with self._write() as conn:
                done = []
                for item in batch:
                    if conn.execute("select 1 from encounters where id = ?", [item.id]).fetchone():
                        where = f"{item.source_file}, line {item.line}" if item.line else item.source_file
                        result.errors.append(ImportIssue(
                            file=item.source_file, line=item.line,
                            message=f"{where}: encounter {item.id} is already in the workspace; skipped "
                                    "(it was not changed).",
                        ))
                        continue
                    self._insert_encounter(conn, item, fmt)
                    done.append(item.id)
            result.imported.extend(done)
            batch.clear()

        for item in items:
            if isinstance(item, ImportIssue):
                result.errors.append(item)
                continue
            batch.append(item)
            if len(batch) >= IMPORT_BATCH:
                flush()
        flush()
        return result

    # -- runs ----------------------------------------------------------------------------------
    def save_run(self, encounter_id: str, suggestions: Sequence[Suggestion | dict[str, Any]], *, mode: str,
                 model_name: str | None = None, model_sha256: str | None = None,
                 code_sets: dict[str, str] | None = None, timings: dict[str, float] | None = None,
                 started_at: str | None = None, finished_at: str | None = None) -> SuggestionRun:
        """Keep one engine run (its suggestions as shown) for an encounter; audited as ``run.saved``."""
        t = now("milliseconds")
        run = _validated(SuggestionRun, {
            "id": 0, "encounter_id": encounter_id, "started_at": started_at or t, "finished_at": finished_at or t,
            "mode": mode, "model_name": model_name, "model_sha256": model_sha256, "code_sets": code_sets or {},
            "timings": timings or {},
            "suggestions": [s.model_dump() if isinstance(s, BaseModel) else s for s in suggestions],
        }, "suggestion run")
        with self._write() as conn:
            self._encounter_row(conn, encounter_id)
            cur = conn.execute(
                "insert into runs (encounter_id, started_at, finished_at, mode, model_name, model_sha256, "
                "code_sets, timings, suggestions) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [encounter_id, run.started_at, run.finished_at, run.mode, run.model_name, run.model_sha256,
                 json.dumps(run.code_sets, sort_keys=True), json.dumps(run.timings, sort_keys=True),
                 json.dumps([s.model_dump() for s in run.suggestions])],
            )
            run_id = cur.lastrowid
            self._audit(conn, "run.saved", encounter_id=encounter_id, run_id=run_id, detail={
                "mode": run.mode, "model_name": run.model_name, "model_sha256": run.model_sha256,
                "code_sets": run.code_sets, "suggestions": len(run.suggestions),
            })
        return run.model_copy(update={"id": run_id})

    def latest_run(self, encounter_id: str) -> SuggestionRun | None:
        with self._read() as conn:
            rows = self._rows(conn, "select * from runs where encounter_id = ? order by id desc limit 1",
                              [encounter_id])
        return self._run(rows[0]) if rows else None

    def get_run(self, run_id: int) -> SuggestionRun:
        with self._read() as conn:
            rows = self._rows(conn, "select * from runs where id = ?", [run_id])
        if not rows:
            raise WorkspaceError(f"There is no suggestion run {run_id} in the workspace.")
        return self._run(rows[0])

    # -- decisions -----------------------------------------------------------------------------
    def record_decision(self, encounter_id: str, code: str, system: str, action: str, *,
                        run_id: int | None = None, reason: str | None = None,
                        replaced_code: str | None = None) -> Decision:
        """Record (and commit at once) one decision; a ``new`` encounter becomes ``in_progress``.

        ``edit`` needs ``replaced_code`` (the suggested code that ``code`` replaces); ``reason`` is meant
        for ``reject``. Audited as ``decision.<action>``.
        """
        if action not in ACTIONS:
            raise InvalidInputError(f"Unknown decision {action!r}; use one of {', '.join(ACTIONS)}.")
        code = _checked_code(code)
        replaced = _checked_code(replaced_code, "replaced code") if replaced_code else None
        if action == "edit" and replaced is None:
            raise InvalidInputError("An edit needs the suggested code it replaces (replaced_code).")
        if reason is not None:
            reason = reason.strip()[:MAX_REASON_CHARS] or None
        probe = _validated(Decision, {"id": 0, "encounter_id": encounter_id, "code": code, "system": system,
                                      "action": action, "user": self.user, "at": now("milliseconds")}, "decision")
        with self._write() as conn:
            row = self._encounter_row(conn, encounter_id)
            if run_id is not None:
                owner = conn.execute("select encounter_id from runs where id = ?", [run_id]).fetchone()
                if owner is None or owner[0] != encounter_id:
                    raise WorkspaceError(f"The suggestion run {run_id} does not belong to encounter {encounter_id!r}.")
            at = now("milliseconds")
            cur = conn.execute(
                "insert into decisions (encounter_id, run_id, code, system, action, reason, replaced_code, user, at) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [encounter_id, run_id, code, probe.system, action, reason, replaced, self.user, at],
            )
            decision_id = cur.lastrowid
            # The reason stays in the decision row: the audit log holds no free text a note could be quoted in.
            self._audit(conn, f"decision.{action}", encounter_id=encounter_id, run_id=run_id, detail={
                "decision_id": decision_id, "code": code, "system": probe.system, "replaced_code": replaced,
                "has_reason": reason is not None,
            })
            if row["status"] == "new":
                self._set_status(conn, row, "in_progress", "decision")
        return Decision(id=decision_id, encounter_id=encounter_id, run_id=run_id, code=code, system=probe.system,
                        action=action, reason=reason, replaced_code=replaced, user=self.user, at=at)

    def undo_last_decision(self, encounter_id: str) -> Decision | None:
        """Mark the encounter's latest decision that is not undone as undone (audited as ``decision.undo``);
        return it, or None when there is nothing to undo. Nothing is deleted."""
        with self._write() as conn:
            self._encounter_row(conn, encounter_id)
            rows = self._rows(conn, "select * from decisions where encounter_id = ? and undone = 0 "
                                    "order by id desc limit 1", [encounter_id])
            if not rows:
                return None
            d = rows[0]
            at = now("milliseconds")
            conn.execute("update decisions set undone = 1, undone_at = ?, undone_by = ? where id = ?",
                         [at, self.user, d["id"]])
            self._audit(conn, "decision.undo", encounter_id=encounter_id, run_id=d["run_id"], detail={
                "decision_id": d["id"], "code": d["code"], "system": d["system"], "action": d["action"],
            })
        return self._decision({**d, "undone": 1, "undone_at": at, "undone_by": self.user})

    def decisions(self, encounter_id: str, *, include_undone: bool = True) -> list[Decision]:
        """The encounter's decisions, oldest first."""
        sql = "select * from decisions where encounter_id = ?" + ("" if include_undone else " and undone = 0")
        with self._read() as conn:
            return [self._decision(r) for r in self._rows(conn, sql + " order by id", [encounter_id])]

    def current_codes(self, encounter_id: str, *, include_rejected: bool = False) -> list[CodeState]:
        """Codes on the claim now (latest non-undone decision per code is accept, edit or add), in decision
        order; with ``include_rejected``, also rejected and replaced codes."""
        states = code_states(self.decisions(encounter_id, include_undone=False))
        return states if include_rejected else [s for s in states if s.action in IN_EFFECT]

    # -- audit ---------------------------------------------------------------------------------
    def audit_entries(self, encounter_id: str | None = None, *, limit: int | None = None) -> list[AuditEntry]:
        """Audit rows, oldest first (the last ``limit`` ones when given), optionally of one encounter."""
        where, params = ("where encounter_id = ?", [encounter_id]) if encounter_id is not None else ("", [])
        with self._read() as conn:
            if limit is not None:
                rows = self._rows(conn, f"select * from (select * from audit {where} order by id desc limit ?) "
                                        "order by id", [*params, int(limit)])
            else:
                rows = self._rows(conn, f"select * from audit {where} order by id", params)
        return [AuditEntry.model_validate({**r, "detail": json.loads(r["detail"])}) for r in rows]

    # -- exports -------------------------------------------------------------------------------
    def _export_rows(self, include_all: bool) -> list[tuple[EncounterRecord, list[CodeState], list[Decision]]]:
        with self._read() as conn:
            where = "" if include_all else "where e.status = 'coded'"
            encs = [self._record(r) for r in self._rows(conn, f"select e.* from encounters e {where} order by e.id")]
            history: dict[str, list[Decision]] = {}
            for r in self._rows(conn, "select d.* from decisions d join encounters e on e.id = d.encounter_id "
                                      f"{where} order by d.id"):
                history.setdefault(r["encounter_id"], []).append(self._decision(r))
        return [(e, code_states(history.get(e.id, [])), history.get(e.id, [])) for e in encs]

    def export_csv(self, path: Path, *, include_all: bool = False) -> ExportResult:
        """One row per code on the claim (encounter_id, code, system, action, user, time, replaced_code) of the
        coded encounters (all encounters with ``include_all``); the file is owner-only; audited."""
        with self._lock:
            data = self._export_rows(include_all)
            text, rows = exporting.csv_text([(e, s) for e, s, _ in data],
                                            self.claim_snapshots([e.id for e, _, _ in data]))
            return self._finish_export(Path(path), text, "csv", len(data), rows, include_all)

    def export_json(self, path: Path, *, include_all: bool = False, include_reasons: bool = False) -> ExportResult:
        """A JSON list of the coded encounters (all with ``include_all``): details, final codes and decision
        history, no note text and no reject reasons unless ``include_reasons``; the file is owner-only; audited."""
        with self._lock:
            data = self._export_rows(include_all)
            text, rows = exporting.json_text(data, self.claim_snapshots([e.id for e, _, _ in data]),
                                             include_reasons=include_reasons)
            return self._finish_export(Path(path), text, "json", len(data), rows, include_all)

    def _finish_export(self, path: Path, text: str, fmt: str, n: int, rows: int, include_all: bool) -> ExportResult:
        path = path.expanduser().resolve()
        with self._write() as conn:
            # The file is written inside the audit row's transaction: no audit row without a file.
            exporting.save_export(path, text)
            self._audit(conn, "export", detail={"format": fmt, "path": str(path), "encounters": n, "codes": rows,
                                                "include_all": include_all})
        return ExportResult(path=str(path), format=fmt, encounters=n, rows=rows)

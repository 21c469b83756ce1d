"""The coder's workspace: schema, decisions and undo, the audit log, exports, durability, locking, threads."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from medcoder_desktop.core.migrations import applied
from medcoder_desktop.core.models import Encounter, Evidence, Suggestion
from medcoder_desktop.core.workspace import Workspace
from medcoder_desktop.core.workspace.schema import MIGRATIONS
from medcoder_desktop.errors import DatabaseLockedError, InvalidInputError, MedcoderError, WorkspaceError
from medcoder_desktop.paths import AppPaths

NOTE = "CC: chest pain and shortness of breath\nHPI: 64 y/o with hypertension.\nA/P: HTN, continue lisinopril."
SECRET = "shortness of breath"  # words of the note that must never reach the audit log or an export


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "ws" / "workspace.sqlite", user="alice")
    yield w
    w.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _audit_actions(w: Workspace, encounter_id: str | None = None) -> list[str]:
    return [a.action for a in w.audit_entries(encounter_id)]


# -- the file and its schema ------------------------------------------------------------------------
def test_default_location_is_owner_only_wal_with_foreign_keys(medcoder_home: Path) -> None:
    old = os.umask(0o022)  # a permissive umask must not leak into the file's mode
    try:
        with Workspace() as w:
            assert w.path == AppPaths.default().workspace_db
            assert w.path.parent == AppPaths.default().data_dir
            assert str(w.path).startswith(str(medcoder_home.resolve()))
            assert _mode(w.path) == 0o600
            w.add_encounter("e1", NOTE)
            conn = w.db.conn
            assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
            assert conn.execute("pragma foreign_keys").fetchone()[0] == 1
            assert conn.execute("pragma busy_timeout").fetchone()[0] == 5000
            for side in ("-wal", "-shm"):
                extra = w.path.with_name(w.path.name + side)
                if extra.exists():
                    assert _mode(extra) & 0o077 == 0
    finally:
        os.umask(old)


def test_migrations_are_applied_once_and_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "workspace.sqlite"
    with Workspace(path, user="alice") as w:
        assert applied(w.db) == [m.__name__ for m in MIGRATIONS]
        w.add_encounter("e1", NOTE)
    with Workspace(path, user="bob") as w:
        assert w.db.execute("select count(*) from _migrations").fetchone()[0] == len(MIGRATIONS)
        assert w.get_encounter("e1").note == NOTE
        assert {"encounters", "runs", "decisions", "audit"} <= set(w.db.table_names())


def test_a_workspace_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "workspace.sqlite"
    Workspace(path).close()
    conn = sqlite3.connect(path)
    conn.execute("insert into _migrations (name, applied_at) values ('m999_future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(WorkspaceError, match="newer version"):
        Workspace(path)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "workspace.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(WorkspaceError, match="not a usable workspace"):
        Workspace(path)


def test_user_falls_back_to_the_os_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "os-user")
    with Workspace(tmp_path / "w.sqlite") as w:
        w.add_encounter("e1", NOTE)
        assert w.audit_entries()[0].user == "os-user"
    with Workspace(tmp_path / "w.sqlite", user="  Dana Coder ") as w:
        assert w.record_decision("e1", "I10", "ICD-10-CM", "accept").user == "Dana Coder"


# -- encounters ------------------------------------------------------------------------------------
def test_encounter_details_round_trip_and_updates_are_audited(ws: Workspace) -> None:
    enc = Encounter(setting="inpatient", age=64, sex="F", payer="Medicare", date_of_service="2025-03-04")
    rec = ws.add_encounter("e1", NOTE, enc, source_file="e1.txt")
    assert rec.to_encounter() == enc
    assert rec.status == "new" and rec.source_file == "e1.txt"

    ws.update_encounter("e1", age=65, payer=None, date_of_service="03/05/2025")
    rec = ws.get_encounter("e1")
    assert (rec.age, rec.payer, rec.date_of_service, rec.sex, rec.setting) == (65, None, "2025-03-05", "F", "inpatient")
    update = [a for a in ws.audit_entries("e1") if a.action == "encounter.update"]
    assert len(update) == 1
    assert update[0].detail["changes"] == {
        "age": {"from": 64, "to": 65}, "payer": {"from": "Medicare", "to": None},
        "date_of_service": {"from": "2025-03-04", "to": "2025-03-05"},
    }

    before = len(ws.audit_entries())
    ws.update_encounter("e1", age=65)  # no change: no audit row
    with pytest.raises(InvalidInputError, match="age"):
        ws.update_encounter("e1", age=200)
    with pytest.raises(InvalidInputError, match="note"):
        ws.update_encounter("e1", note="other text")
    with pytest.raises(WorkspaceError, match="no encounter"):
        ws.update_encounter("missing", age=3)
    assert len(ws.audit_entries()) == before
    assert ws.get_encounter("e1").age == 65


def test_adding_a_duplicate_or_bad_encounter_fails_cleanly(ws: Workspace) -> None:
    ws.add_encounter("e1", NOTE)
    with pytest.raises(WorkspaceError, match="already"):
        ws.add_encounter("e1", "another note")
    with pytest.raises(InvalidInputError, match="empty"):
        ws.add_encounter("e2", "   \n")
    with pytest.raises(InvalidInputError):
        ws.add_encounter("", NOTE)
    assert ws.get_encounter("e1").note == NOTE
    assert [e.id for e in ws.list_encounters()] == ["e1"]


def test_list_filters_by_status_with_preview_and_accepted_count(ws: Workspace) -> None:
    ws.add_encounter("b", "\n\n   Follow-up visit for diabetes " + "x" * 200 + "\nmore")
    ws.add_encounter("a", NOTE)
    ws.add_encounter("c", "Skipped one")
    ws.record_decision("a", "I10", "ICD-10-CM", "accept")
    ws.record_decision("a", "R07.9", "ICD-10-CM", "reject", reason="not documented")
    ws.record_decision("a", "E78.5", "ICD-10-CM", "add")
    ws.set_status("a", "coded")
    ws.set_status("c", "skipped")

    everything = ws.list_encounters()
    assert [e.id for e in everything] == ["a", "b", "c"]
    b = everything[1]
    assert b.preview.startswith("Follow-up visit for diabetes") and len(b.preview) <= 80 and "more" not in b.preview
    assert b.status == "new" and b.accepted_codes == 0
    coded = ws.list_encounters("coded")
    assert [(e.id, e.accepted_codes, e.preview) for e in coded] == [("a", 2, "CC: chest pain and shortness of breath")]
    assert [e.id for e in ws.list_encounters("skipped")] == ["c"]
    assert ws.list_encounters("in_progress") == []
    with pytest.raises(InvalidInputError):
        ws.list_encounters("done")
    status_rows = [a.detail for a in ws.audit_entries("a") if a.action == "encounter.status"]
    assert status_rows == [{"from": "new", "to": "in_progress", "by": "decision"},
                           {"from": "in_progress", "to": "coded", "by": "user"}]


# -- runs ------------------------------------------------------------------------------------------
def _suggestion(code: str, conf: float = 0.8) -> Suggestion:
    return Suggestion(code=code, system="ICD-10-CM", title=f"title of {code}", confidence=conf, reasoning="because",
                      evidence=[Evidence(start=0, end=2, text="CC")])


def test_runs_are_saved_whole_and_the_latest_is_found(ws: Workspace) -> None:
    ws.add_encounter("e1", NOTE)
    assert ws.latest_run("e1") is None
    first = ws.save_run("e1", [_suggestion("I10")], mode="retrieval-only", code_sets={"ICD-10-CM": "2026"})
    second = ws.save_run("e1", [_suggestion("I10", 0.9), _suggestion("R07.9", 0.4)], mode="llm",
                         model_name="smollm2", model_sha256="ab" * 32, timings={"total": 12.5})
    assert second.id > first.id
    latest = ws.latest_run("e1")
    assert latest == second
    assert latest.suggestions[1] == _suggestion("R07.9", 0.4)
    assert (latest.mode, latest.model_name, latest.timings) == ("llm", "smollm2", {"total": 12.5})
    assert ws.get_run(first.id).code_sets == {"ICD-10-CM": "2026"}
    saved = [a for a in ws.audit_entries("e1") if a.action == "run.saved"]
    assert [(a.run_id, a.detail["suggestions"]) for a in saved] == [(first.id, 1), (second.id, 2)]
    with pytest.raises(InvalidInputError, match="mode"):
        ws.save_run("e1", [], mode="magic")
    with pytest.raises(WorkspaceError):
        ws.save_run("nope", [], mode="llm")


# -- decisions -------------------------------------------------------------------------------------
def test_decisions_current_codes_and_undo(ws: Workspace) -> None:
    ws.add_encounter("e1", NOTE)
    ws.add_encounter("e2", "Other note")
    run = ws.save_run("e1", [_suggestion("I10"), _suggestion("R07.9"), _suggestion("E11.65")], mode="llm")
    ws.record_decision("e1", "i10", "ICD-10-CM", "accept", run_id=run.id)
    ws.record_decision("e1", "R07.9", "ICD-10-CM", "reject", run_id=run.id, reason="ruled out")
    ws.record_decision("e1", "E11.9", "ICD-10-CM", "edit", run_id=run.id, replaced_code="E11.65")
    ws.record_decision("e1", "Z79.899", "ICD-10-CM", "add")
    ws.record_decision("e2", "J06.9", "ICD-10-CM", "add")

    assert [(c.code, c.action) for c in ws.current_codes("e1")] == [("I10", "accept"), ("E11.9", "edit"),
                                                                     ("Z79.899", "add")]
    full = {c.code: c for c in ws.current_codes("e1", include_rejected=True)}
    assert full["R07.9"].action == "reject" and full["R07.9"].reason == "ruled out" and not full["R07.9"].in_effect
    assert full["E11.65"].action == "replaced" and full["E11.65"].replaced_by == "E11.9"

    undone = ws.undo_last_decision("e1")
    assert undone is not None and (undone.code, undone.action, undone.undone, undone.undone_by) == (
        "Z79.899", "add", True, "alice")
    undone = ws.undo_last_decision("e1")
    assert (undone.code, undone.action) == ("E11.9", "edit")
    # Undoing the edit brings nothing back for E11.65 (it was never decided), and removes E11.9.
    assert [c.code for c in ws.current_codes("e1")] == ["I10"]
    assert [c.code for c in ws.current_codes("e2")] == ["J06.9"]  # the other encounter is untouched

    # A later decision about a code wins over an earlier one; undoing it brings the earlier one back.
    ws.record_decision("e1", "I10", "ICD-10-CM", "reject")
    assert ws.current_codes("e1") == []
    ws.undo_last_decision("e1")
    assert [(c.code, c.action) for c in ws.current_codes("e1")] == [("I10", "accept")]

    history = ws.decisions("e1")
    assert len(history) == 5  # nothing is deleted
    assert [d.undone for d in history] == [False, False, True, True, True]
    assert len(ws.decisions("e1", include_undone=False)) == 2
    actions = _audit_actions(ws, "e1")
    assert actions.count("decision.undo") == 3
    assert actions[-2:] == ["decision.reject", "decision.undo"]
    undo_rows = [a for a in ws.audit_entries("e1") if a.action == "decision.undo"]
    assert undo_rows[0].detail == {"decision_id": history[3].id, "code": "Z79.899", "system": "ICD-10-CM",
                                   "action": "add"}

    ws.undo_last_decision("e1")
    ws.undo_last_decision("e1")
    assert ws.undo_last_decision("e1") is None
    assert ws.current_codes("e1") == []


def test_bad_decisions_are_refused_and_leave_no_trace(ws: Workspace) -> None:
    ws.add_encounter("e1", NOTE)
    ws.add_encounter("e2", NOTE)
    other_run = ws.save_run("e2", [], mode="llm")
    before = len(ws.audit_entries())
    with pytest.raises(InvalidInputError, match="Unknown decision"):
        ws.record_decision("e1", "I10", "ICD-10-CM", "approve")
    with pytest.raises(InvalidInputError, match="replaced_code"):
        ws.record_decision("e1", "I10", "ICD-10-CM", "edit")
    with pytest.raises(InvalidInputError, match="system"):
        ws.record_decision("e1", "I10", "ICD-9", "accept")
    with pytest.raises(InvalidInputError, match="not a code"):
        ws.record_decision("e1", "I10; drop table", "ICD-10-CM", "accept")
    with pytest.raises(WorkspaceError, match="no encounter"):
        ws.record_decision("zz", "I10", "ICD-10-CM", "accept")
    with pytest.raises(WorkspaceError, match="does not belong"):
        ws.record_decision("e1", "I10", "ICD-10-CM", "accept", run_id=other_run.id)
    assert ws.decisions("e1") == []
    assert len(ws.audit_entries()) == before
    assert ws.get_encounter("e1").status == "new"


def test_the_audit_log_refuses_update_and_delete(ws: Workspace) -> None:
    ws.add_encounter("e1", NOTE)
    ws.record_decision("e1", "I10", "ICD-10-CM", "accept")
    n = len(ws.audit_entries())
    conn = sqlite3.connect(ws.path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("update audit set user = 'mallory'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("delete from audit")
        with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
            conn.execute("delete from decisions")
        with pytest.raises(sqlite3.DatabaseError, match="only be marked undone"):
            conn.execute("update decisions set code = 'E11.9'")
        conn.rollback()
    finally:
        conn.close()
    assert len(ws.audit_entries()) == n
    assert {a.user for a in ws.audit_entries()} == {"alice"}
    assert ws.current_codes("e1")[0].code == "I10"


def test_the_audit_log_never_holds_note_text(ws: Workspace, tmp_path: Path) -> None:
    ws.add_encounter("e1", NOTE, Encounter(payer="Aetna"))
    ws.record_decision("e1", "R07.9", "ICD-10-CM", "reject", reason=f"the note says {SECRET}")
    ws.update_encounter("e1", age=40)
    ws.save_run("e1", [_suggestion("I10")], mode="llm")
    ws.undo_last_decision("e1")
    ws.set_status("e1", "coded")
    ws.export_json(tmp_path / "out.json")
    rows = ws.audit_entries()
    assert {"encounter.import", "decision.reject", "encounter.update", "run.saved", "decision.undo",
            "encounter.status", "export"} <= {a.action for a in rows}
    dump = json.dumps([a.model_dump() for a in rows])
    assert SECRET not in dump and "lisinopril" not in dump
    assert all(a.at.endswith("+00:00") for a in rows)
    assert ws.audit_entries(limit=2) == rows[-2:]


# -- exports ---------------------------------------------------------------------------------------
def _coded_workspace(ws: Workspace) -> None:
    ws.add_encounter("e1", NOTE, Encounter(age=64, sex="M"))
    ws.add_encounter("=2+2", "Second note")  # an id a spreadsheet would run as a formula
    ws.add_encounter("e3", "Third note")
    ws.record_decision("e1", "I10", "ICD-10-CM", "accept")
    ws.record_decision("e1", "R07.9", "ICD-10-CM", "reject")
    ws.record_decision("e1", "E11.9", "ICD-10-CM", "edit", replaced_code="E11.65")
    ws.record_decision("e1", "J45.909", "ICD-10-CM", "add")
    ws.undo_last_decision("e1")
    ws.set_status("e1", "coded")
    ws.record_decision("=2+2", "J06.9", "ICD-10-CM", "add")  # in progress, not coded
    ws.set_status("e3", "coded")  # coded with no codes


def test_csv_export_has_one_row_per_code_on_the_claim(ws: Workspace, tmp_path: Path) -> None:
    _coded_workspace(ws)
    out = tmp_path / "export.csv"
    old = os.umask(0o022)
    try:
        result = ws.export_csv(out)
    finally:
        os.umask(old)
    assert _mode(out) == 0o600
    assert (result.format, result.encounters, result.rows) == ("csv", 2, 2)
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["encounter_id"], r["code"], r["system"], r["action"], r["user"], r["replaced_code"]) for r in rows] == [
        ("e1", "I10", "ICD-10-CM", "accept", "alice", ""),
        ("e1", "E11.9", "ICD-10-CM", "edit", "alice", "E11.65"),
    ]
    assert all(r["time"] for r in rows)

    result = ws.export_csv(out, include_all=True)
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert result.encounters == 3
    assert [(r["encounter_id"], r["code"]) for r in rows] == [("'=2+2", "J06.9"), ("e1", "I10"), ("e1", "E11.9")]
    assert _mode(out) == 0o600
    exports = [a for a in ws.audit_entries() if a.action == "export"]
    assert [(a.detail["format"], a.detail["encounters"], a.detail["include_all"]) for a in exports] == [
        ("csv", 2, False), ("csv", 3, True)]


def test_json_export_has_final_codes_and_history_without_note_text(ws: Workspace, tmp_path: Path) -> None:
    _coded_workspace(ws)
    out = tmp_path / "export.json"
    out.write_text("old, readable by all")
    out.chmod(0o644)
    result = ws.export_json(out)
    assert _mode(out) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [e["id"] for e in data] == ["e1", "e3"] and result.rows == 2
    e1 = data[0]
    assert (e1["age"], e1["sex"], e1["status"]) == (64, "M", "coded")
    assert [(c["code"], c["action"]) for c in e1["codes"]] == [("I10", "accept"), ("E11.9", "edit")]
    assert [(d["code"], d["action"], d["undone"]) for d in e1["decisions"]] == [
        ("I10", "accept", False), ("R07.9", "reject", False), ("E11.9", "edit", False), ("J45.909", "add", True)]
    assert data[1]["codes"] == [] and data[1]["decisions"] == []
    assert SECRET not in out.read_text(encoding="utf-8")
    assert not list(tmp_path.glob(".export.json.*"))  # no temp file left behind


def test_export_to_a_missing_folder_is_a_clear_error_and_not_audited(ws: Workspace, tmp_path: Path) -> None:
    _coded_workspace(ws)
    with pytest.raises(InvalidInputError, match="no such folder"):
        ws.export_csv(tmp_path / "nowhere" / "x.csv")
    assert "export" not in _audit_actions(ws)


# -- durability, locking, threads ------------------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from medcoder_desktop.core.workspace import Workspace
    ws = Workspace(Path(sys.argv[1]), user="child")
    ws.add_encounter("k1", "Note of the killed process")
    for i in range(20):
        ws.record_decision("k1", f"Z{i:02d}.0", "ICD-10-CM", "accept" if i % 2 else "add")
    ws.record_decision("k1", "I10", "ICD-10-CM", "reject", reason="no")
    ws.undo_last_decision("k1")
    print("ready", flush=True)
    time.sleep(120)
    """
)


def test_kill_9_right_after_decisions_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "workspace.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read() if proc.poll() is not None else line
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Workspace(path, user="after") as w:
        history = w.decisions("k1")
        assert len(history) == 21
        assert [d.code for d in history[:20]] == [f"Z{i:02d}.0" for i in range(20)]
        assert history[-1].code == "I10" and history[-1].undone
        assert len(w.current_codes("k1")) == 20
        actions = _audit_actions(w, "k1")
        assert actions.count("decision.accept") + actions.count("decision.add") == 20
        assert actions[-2:] == ["decision.reject", "decision.undo"]
        assert w.get_encounter("k1").status == "in_progress"


def test_a_locked_database_raises_database_locked_error(tmp_path: Path) -> None:
    path = tmp_path / "workspace.sqlite"
    with Workspace(path, user="alice", busy_timeout_ms=200) as w:
        w.add_encounter("e1", NOTE)
        other = sqlite3.connect(path, timeout=0)
        other.execute("begin exclusive")
        other.execute("insert into audit (at, user, action) values ('t', 'other', 'other.write')")
        try:
            start = time.monotonic()
            with pytest.raises(DatabaseLockedError, match="in use by another program") as info:
                w.record_decision("e1", "I10", "ICD-10-CM", "accept")
            assert time.monotonic() - start >= 0.15  # it waited for the busy timeout first
            assert isinstance(info.value, MedcoderError)
            assert "Nothing was saved" in str(info.value)
            assert w.get_encounter("e1").note == NOTE  # reads still work in WAL mode
        finally:
            other.rollback()
            other.close()
        assert w.decisions("e1") == []
        w.record_decision("e1", "I10", "ICD-10-CM", "accept")  # works once the other writer is gone
        assert [c.code for c in w.current_codes("e1")] == ["I10"]


def test_concurrent_use_from_two_threads(tmp_path: Path) -> None:
    path = tmp_path / "workspace.sqlite"
    errors: list[BaseException] = []
    n = 40
    with Workspace(path, user="alice") as w:
        w.add_encounter("gui", NOTE)
        w.add_encounter("worker", NOTE)
        start = threading.Barrier(3)

        def worker() -> None:  # a suggestion worker: runs, decisions, status, reads
            try:
                start.wait()
                for i in range(n):
                    run = w.save_run("worker", [_suggestion(f"A{i:02d}")], mode="retrieval-only")
                    w.record_decision("worker", f"A{i:02d}", "ICD-10-CM", "accept", run_id=run.id)
                    w.list_encounters()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def gui() -> None:  # the window: decisions, undo, details, audit reads
            try:
                start.wait()
                for i in range(n):
                    w.record_decision("gui", f"B{i:02d}", "ICD-10-CM", "add")
                    if i % 4 == 3:
                        w.undo_last_decision("gui")
                    w.update_encounter("gui", age=i)
                    w.audit_entries("gui", limit=5)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        def other_window() -> None:  # a second Workspace (own connection) writing at the same time
            try:
                with Workspace(path, user="bob") as w2:
                    start.wait()
                    for i in range(n // 2):
                        w2.record_decision("worker", f"C{i:02d}", "ICD-10-CM", "add")
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=f) for f in (worker, gui, other_window)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        assert len(w.decisions("worker")) == n + n // 2
        assert len(w.current_codes("worker")) == n + n // 2
        assert len(w.current_codes("gui")) == n - n // 4
        assert w.get_encounter("gui").age == n - 1
        ids = [d.id for d in w.decisions("worker") + w.decisions("gui")]
        assert len(ids) == len(set(ids))
        assert sum(1 for a in w.audit_entries("worker") if a.user == "bob" and a.action == "decision.add") == n // 2


def test_a_closed_workspace_says_so(tmp_path: Path) -> None:
    w = Workspace(tmp_path / "w.sqlite")
    w.close()
    with pytest.raises(WorkspaceError, match="closed"):
        w.list_encounters()

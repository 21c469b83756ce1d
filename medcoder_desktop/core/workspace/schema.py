"""Schema of the workspace database, as ordered migrations (see core/migrations.py).

The audit log is append-only: triggers refuse UPDATE and DELETE of its rows. Decisions are never
deleted either; the only change a decision may receive is being marked undone, once.
"""

from __future__ import annotations

import sqlite_utils


def m001_initial(db: sqlite_utils.Database) -> None:
    # CHECK constraints and triggers need plain SQL; sqlite-utils' create() cannot express them.
    db.execute(
        """
        create table encounters (
            id text primary key not null,
            note text not null,
            age integer check (age is null or (age between 0 and 130)),
            sex text check (sex is null or sex in ('F', 'M', 'U')),
            payer text,
            setting text not null default 'outpatient' check (setting in ('outpatient', 'inpatient')),
            date_of_service text,
            status text not null default 'new'
                check (status in ('new', 'in_progress', 'coded', 'skipped')),
            source_file text,
            gold_codes text,  -- JSON {"codes": [...], "procedures": [...]} or null
            created_at text not null,
            updated_at text not null
        )
        """
    )
    db.execute("create index encounters_status on encounters (status, id)")
    db.execute(
        """
        create table runs (
            id integer primary key autoincrement,
            encounter_id text not null references encounters (id),
            started_at text not null,
            finished_at text,
            mode text not null check (mode in ('llm', 'retrieval-only')),
            model_name text,
            model_sha256 text,
            code_sets text not null default '{}',   -- JSON {system: version}
            timings text not null default '{}',     -- JSON {name: milliseconds}
            suggestions text not null default '[]'  -- JSON list of Suggestion dumps, as shown
        )
        """
    )
    db.execute("create index runs_encounter on runs (encounter_id, id)")
    db.execute(
        """
        create table decisions (
            id integer primary key autoincrement,
            encounter_id text not null references encounters (id),
            run_id integer references runs (id),
            code text not null,
            system text not null,
            action text not null check (action in ('accept', 'reject', 'edit', 'add')),
            reason text,
            replaced_code text,
            user text not null,
            at text not null,
            undone integer not null default 0 check (undone in (0, 1)),
            undone_at text,
            undone_by text,
            check (action != 'edit' or replaced_code is not null)
        )
        """
    )
    db.execute("create index decisions_encounter on decisions (encounter_id, id)")
    db.execute(
        """
        create trigger decisions_never_deleted before delete on decisions
        begin select raise(abort, 'decisions are never deleted; undo them instead'); end
        """
    )
    db.execute(
        """
        create trigger decisions_only_undone before update on decisions
        when old.undone = 1 or new.undone != 1
          or new.id is not old.id or new.encounter_id is not old.encounter_id
          or new.run_id is not old.run_id or new.code is not old.code or new.system is not old.system
          or new.action is not old.action or new.reason is not old.reason
          or new.replaced_code is not old.replaced_code or new.user is not old.user or new.at is not old.at
        begin select raise(abort, 'a decision can only be marked undone, once'); end
        """
    )
    db.execute(
        """
        create table audit (
            id integer primary key autoincrement,
            at text not null,        -- UTC ISO time
            user text not null,
            action text not null,    -- decision.accept, decision.undo, encounter.import, export ...
            encounter_id text,
            run_id integer,
            detail text not null default '{}'  -- JSON; never note text
        )
        """
    )
    db.execute("create index audit_encounter on audit (encounter_id, id)")
    db.execute(
        """
        create trigger audit_no_update before update on audit
        begin select raise(abort, 'the audit log is append-only: its rows cannot be changed'); end
        """
    )
    db.execute(
        """
        create trigger audit_no_delete before delete on audit
        begin select raise(abort, 'the audit log is append-only: its rows cannot be deleted'); end
        """
    )


def m002_claims(db: sqlite_utils.Database) -> None:
    # The coder's claim decisions (order, principal, POA, discharge status, edit overrides; every change is
    # audited) and the last grouped claim as shown, which exports carry (sequence, POA, DRG).
    db.execute(
        """
        create table claims (
            encounter_id text primary key not null references encounters (id),
            sequence text not null default '[]',   -- JSON: diagnosis codes in the coder's order, principal first
            poa text not null default '{}',        -- JSON {code: Y|N|U|W|1} set by the coder
            discharge_status integer check (discharge_status is null or discharge_status between 1 and 99),
            overrides text not null default '[]',  -- JSON [{edit, codes, reason, user, at}]
            snapshot text,                         -- JSON: the claim as last grouped and shown
            updated_at text not null
        )
        """
    )


MIGRATIONS = [m001_initial, m002_claims]

"""The coder's claim decisions, kept per encounter beside the code decisions: the order of the diagnoses
(and so the principal), POA indicators, the discharge status, and edits overridden with a reason. Every
change is one transaction with its audit row. The last grouped claim is kept as shown, for exports."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from pydantic import BaseModel, Field

from medcoder_desktop.core.clock import now
from medcoder_desktop.errors import InvalidInputError

POA_VALUES = ("Y", "N", "U", "W", "1")
MAX_REASON_CHARS = 2000


class EditOverride(BaseModel):
    edit: str
    codes: list[str] = Field(default_factory=list)
    reason: str
    user: str
    at: str


class ClaimRecord(BaseModel):
    """What the coder decided about one encounter's claim (empty: everything is proposed)."""

    encounter_id: str
    sequence: list[str] = Field(default_factory=list)
    poa: dict[str, str] = Field(default_factory=dict)
    discharge_status: int | None = None
    overrides: list[EditOverride] = Field(default_factory=list)
    snapshot: dict[str, Any] | None = None

    def overridden(self, edit: str, codes: list[str]) -> EditOverride | None:
        """The override of this edit on these codes, if the coder gave one."""
        return next((o for o in self.overrides if o.edit == edit and sorted(o.codes) == sorted(codes)), None)


class ClaimStore:
    """Mixed into ``Workspace``: uses its ``_write``, ``_read``, ``_rows``, ``_audit``, ``_encounter_row``."""

    def claim(self, encounter_id: str) -> ClaimRecord:
        with self._read() as conn:
            self._encounter_row(conn, encounter_id)
            return self._claim_row(conn, encounter_id)

    def _claim_row(self, conn: sqlite3.Connection, encounter_id: str) -> ClaimRecord:
        rows = self._rows(conn, "select * from claims where encounter_id = ?", [encounter_id])
        if not rows:
            return ClaimRecord(encounter_id=encounter_id)
        r = rows[0]
        return ClaimRecord(encounter_id=encounter_id, sequence=json.loads(r["sequence"]), poa=json.loads(r["poa"]),
                           discharge_status=r["discharge_status"], overrides=json.loads(r["overrides"]),
                           snapshot=json.loads(r["snapshot"]) if r["snapshot"] else None)

    def _save_claim(self, conn: sqlite3.Connection, rec: ClaimRecord) -> None:

        conn.execute(
            "insert into claims (encounter_id, sequence, poa, discharge_status, overrides, snapshot, updated_at) "
            "values (?, ?, ?, ?, ?, ?, ?) on conflict (encounter_id) do update set sequence = excluded.sequence, "
            "poa = excluded.poa, discharge_status = excluded.discharge_status, overrides = excluded.overrides, "
            "snapshot = excluded.snapshot, updated_at = excluded.updated_at",
            [rec.encounter_id, json.dumps(rec.sequence), json.dumps(rec.poa, sort_keys=True), rec.discharge_status,
             json.dumps([o.model_dump() for o in rec.overrides]),
             json.dumps(rec.snapshot, sort_keys=True) if rec.snapshot is not None else None, now("milliseconds")])

    def set_claim_sequence(self, encounter_id: str, sequence: list[str], *, action: str = "claim.move",
                           code: str | None = None) -> ClaimRecord:
        """Keep the coder's order of the diagnoses (principal first). ``action``: claim.move or claim.principal."""
        codes = [str(c).strip().upper() for c in sequence]
        if len(set(codes)) != len(codes) or not all(codes):
            raise InvalidInputError("The claim order must name each diagnosis once.")
        with self._write() as conn:
            self._encounter_row(conn, encounter_id)
            rec = self._claim_row(conn, encounter_id)
            before = rec.sequence
            rec.sequence = codes
            self._save_claim(conn, rec)
            self._audit(conn, action, encounter_id=encounter_id,
                        detail={"code": code, "from": before, "to": codes})
        return self.claim(encounter_id)

    def set_poa(self, encounter_id: str, code: str, poa: str | None) -> ClaimRecord:
        """Set (or clear, with None) the POA indicator of one diagnosis."""
        if poa is not None and poa not in POA_VALUES:
            raise InvalidInputError(f"POA {poa!r}: use one of {', '.join(POA_VALUES)}.")
        code = code.strip().upper()
        with self._write() as conn:
            self._encounter_row(conn, encounter_id)
            rec = self._claim_row(conn, encounter_id)
            before = rec.poa.get(code)
            if poa is None:
                rec.poa.pop(code, None)
            else:
                rec.poa[code] = poa
            self._save_claim(conn, rec)
            self._audit(conn, "claim.poa", encounter_id=encounter_id, detail={"code": code, "from": before, "to": poa})
        return self.claim(encounter_id)

    def set_discharge_status(self, encounter_id: str, status: int | None) -> ClaimRecord:
        if status is not None and not 1 <= int(status) <= 99:
            raise InvalidInputError("The discharge status is a CMS code from 01 to 99.")
        with self._write() as conn:
            self._encounter_row(conn, encounter_id)
            rec = self._claim_row(conn, encounter_id)
            before, rec.discharge_status = rec.discharge_status, status
            self._save_claim(conn, rec)
            self._audit(conn, "claim.discharge_status", encounter_id=encounter_id,
                        detail={"from": before, "to": status})
        return self.claim(encounter_id)

    def override_edit(self, encounter_id: str, edit: str, codes: list[str], reason: str) -> ClaimRecord:
        """Let the encounter be marked coded despite one edit; the reason is required and audited."""

        reason = (reason or "").strip()
        if not reason:
            raise InvalidInputError("Give the reason for overriding the edit: it goes to the audit log.")
        if len(reason) > MAX_REASON_CHARS:
            raise InvalidInputError(f"The reason is {len(reason)} characters; at most {MAX_REASON_CHARS}.")
        with self._write() as conn:
            self._encounter_row(conn, encounter_id)
            rec = self._claim_row(conn, encounter_id)
            rec.overrides = [o for o in rec.overrides if not (o.edit == edit and sorted(o.codes) == sorted(codes))]
            rec.overrides.append(EditOverride(edit=edit, codes=list(codes), reason=reason, user=self.user,
                                              at=now("milliseconds")))
            self._save_claim(conn, rec)
            self._audit(conn, "claim.override", encounter_id=encounter_id,
                        detail={"edit": edit, "codes": list(codes), "reason": reason})
        return self.claim(encounter_id)

    def save_claim_snapshot(self, encounter_id: str, snapshot: dict[str, Any]) -> None:
        """Keep the claim as last grouped (derived data, not a decision: not audited)."""
        with self._write() as conn:
            self._encounter_row(conn, encounter_id)
            rec = self._claim_row(conn, encounter_id)
            rec.snapshot = snapshot
            self._save_claim(conn, rec)

    def claim_snapshots(self, encounter_ids: list[str]) -> dict[str, dict[str, Any]]:
        with self._read() as conn:
            out = {}
            for r in self._rows(conn, "select encounter_id, snapshot from claims where snapshot is not null"):
                if r["encounter_id"] in encounter_ids:
                    out[r["encounter_id"]] = json.loads(r["snapshot"])
            return out

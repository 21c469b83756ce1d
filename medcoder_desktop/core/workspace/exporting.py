"""Write exports: coded encounters as CSV (one row per code on the claim) or JSON (codes and history).

Files are written beside the target, owner-only (0o600) from their creation, and renamed into place,
so a failed export never leaves half a file. Exports hold no note text.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from medcoder_desktop.core import private_files
from medcoder_desktop.core.models import CodeState, Decision, EncounterRecord
from medcoder_desktop.errors import InvalidInputError

CSV_COLUMNS = ("encounter_id", "code", "system", "action", "user", "time", "replaced_code",
               "sequence", "poa", "severity", "drg", "drg_weight")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def save_export(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only.

    Raises:
        InvalidInputError: the folder does not exist or cannot be written.
    """
    if not path.parent.is_dir():
        raise InvalidInputError(f"{path.parent}: no such folder; choose where to save the export.")
    try:
        private_files.write_private(path, text)
    except OSError as exc:
        raise InvalidInputError(f"{path}: the export cannot be written ({exc.strerror}).") from exc


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _claim_places(claim: dict[str, Any] | None) -> dict[str, tuple[int, str | None, str | None]]:
    """code -> (place on the claim: 1 principal, 2... secondary or procedures, POA, severity)."""
    if not claim:
        return {}
    codes = ([claim["principal"]] if claim.get("principal") else []) + claim.get("secondary", [])
    out = {c["code"]: (i + 1, c.get("poa"), c.get("severity")) for i, c in enumerate(codes)}
    for i, c in enumerate(claim.get("procedures", [])):
        out.setdefault(c["code"], (i + 1, None, None))
    return out


def claim_summary(claim: dict[str, Any] | None) -> dict[str, Any] | None:
    """The claim as exported: sequence with POA and severity, procedures, DRG, edits and overrides."""
    if not claim:
        return None
    dx = ([claim["principal"]] if claim.get("principal") else []) + claim.get("secondary", [])
    return {
        "diagnoses": [{"sequence": i + 1, "code": c["code"], "poa": c.get("poa"), "severity": c.get("severity"),
                       "cc_excluded": c.get("cc_excluded", False), "hac": c.get("hac", [])} for i, c in enumerate(dx)],
        "procedures": [c["code"] for c in claim.get("procedures", [])],
        "drg": claim.get("drg"), "edits": claim.get("edits", []), "fiscal_year": claim.get("fiscal_year"),
        "discharge_status": claim.get("discharge_status"),
    }


def csv_text(encounters: list[tuple[EncounterRecord, list[CodeState]]],
             claims: dict[str, dict[str, Any]] | None = None) -> tuple[str, int]:
    """The CSV export and its number of code rows: one row per code in effect, with its place on the claim
    (sequence 1 = principal / first-listed), POA and severity, and the encounter's DRG and weight."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    claims = claims or {}
    for enc, states in encounters:
        claim = claims.get(enc.id)
        places = _claim_places(claim)
        drg = (claim or {}).get("drg") or {}
        for s in states:
            if not s.in_effect:
                continue
            place, poa, severity = places.get(s.code, (None, None, None))
            writer.writerow([_cell(v) for v in (enc.id, s.code, s.system, s.action, s.user, s.at, s.replaced_code,
                                                place, poa, severity, drg.get("code"), drg.get("weight"))])
            rows += 1
    return buf.getvalue(), rows


def json_text(encounters: list[tuple[EncounterRecord, list[CodeState], list[Decision]]],
              claims: dict[str, dict[str, Any]] | None = None,
              include_reasons: bool = False) -> tuple[str, int]:
    """The JSON export (a list of encounters with final codes and decision history) and its code count.

    A coder's free-text reject reason may repeat what the note says: it is left out unless
    ``include_reasons`` (the user asked for it)."""
    out = []
    rows = 0
    for enc, states, history in encounters:
        codes = [
            {"code": s.code, "system": s.system, "action": s.action, "user": s.user, "time": s.at,
             "replaced_code": s.replaced_code}
            for s in states if s.in_effect
        ]
        rows += len(codes)
        out.append({
            "id": enc.id, "status": enc.status, "setting": enc.setting, "age": enc.age, "sex": enc.sex,
            "payer": enc.payer, "date_of_service": enc.date_of_service, "source_file": enc.source_file,
            "codes": codes,
            "claim": claim_summary((claims or {}).get(enc.id)),
            "decisions": [d.model_dump(exclude=None if include_reasons else {"reason"}) for d in history],
        })
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n", rows

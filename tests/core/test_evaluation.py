"""Gold files and the scores behind `medcoder eval` (pure logic, no dictionary)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcoder_desktop.core.evaluation import category, evaluate
from medcoder_desktop.core.gold import read_gold
from medcoder_desktop.core.models import GoldItem
from medcoder_desktop.errors import InvalidInputError


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
    assert category("E11.65") == "E11"


def test_empty_rankings_score_zero() -> None:
    result = evaluate([item("1", ["A00.0"])], lambda it: [], lambda it, r: [], lambda c: True, "retrieval-only")
    assert (result.top1, result.micro.f1, result.recall_at_10) == (0.0, 0.0, 0.0)

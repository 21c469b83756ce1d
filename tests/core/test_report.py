"""The report of `medcoder eval --out DIR`: eval.json and a self-contained report.html."""

from __future__ import annotations

import json
import os
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest

from medcoder_desktop.cli import main
from medcoder_desktop.core.evaluation import EvalResult, evaluate
from medcoder_desktop.core.models import GoldItem
from medcoder_desktop.core.report import render_html, write_report
from tests.helpers import install_dictionary

NOTE_TEXT = "Patient John Doe reports crushing chest pain"
VOID = {"meta", "br", "hr", "img", "input", "link"}


class TagChecker(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()

    def handle_data(self, data) -> None:
        self.text.append(data)


def parse(html: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(html)
    checker.close()
    assert checker.stack == []
    return checker


def sample_result() -> EvalResult:
    items = [GoldItem(id=str(i), text=NOTE_TEXT, codes=["E11.65"], kind="phrase", source="typos") for i in range(9)]
    items += [GoldItem(id="9", text=NOTE_TEXT, codes=["I10"], kind="phrase", source="<script>alert(1)</script>")]

    def rank(it: GoldItem):
        return [("E11.65", 0.95), ("E11.9", 0.25)] if it.id != "9" else [("E11.65", 0.95)]

    titles = {"I10": "Essential (primary) hypertension", "E11.65": "Type 2 diabetes <with> hyperglycemia & more"}
    return evaluate(items, rank, lambda it, r: [r[0][0]], lambda c: True, "retrieval-only", title=titles.get)


def test_write_report_writes_both_files_owner_only(tmp_path: Path) -> None:
    result = sample_result()
    out = tmp_path / "reports" / "run1"
    html_path = write_report(result, out)
    assert html_path == out / "report.html"
    doc = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert doc["n"] == 10 and doc["micro"]["f1"] == result.micro.f1
    assert doc["calibration"]["bins"][9]["count"] == 10
    assert len(doc["items"]) == 10 and doc["items"][9]["ranked"] == [["E11.65", 0.95]]
    assert doc["top_misses"][0]["title"] == "Essential (primary) hypertension"
    for name in ("eval.json", "report.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert "John Doe" not in text and "crushing" not in text  # never the note text
        if os.name == "posix":
            assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    if os.name == "posix":  # a file that was already there, readable by others, is made private
        (out / "report.html").chmod(0o644)
        write_report(result, out)
        assert stat.S_IMODE((out / "report.html").stat().st_mode) == 0o600


def test_report_html_is_well_formed_self_contained_and_escaped() -> None:
    result = sample_result()
    html = render_html(result, title="Eval <dev> & test")
    checker = parse(html)
    assert checker.tags.count("svg") == 4  # the bars by source, the reliability curve overall and per kind (issue 11)
    text = "".join(checker.text)
    assert f"{result.micro.f1:.3f}" in text
    assert f"{result.calibration.ece:.3f}" in text and f"{result.calibration.brier:.3f}" in text
    assert "Essential (primary) hypertension" in text and "E11.65" in text
    # every text is escaped: no markup comes from sources, titles or the report title
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;with&gt; hyperglycemia &amp; more" in html and "Eval &lt;dev&gt; &amp; test" in html
    # nothing to fetch: no external stylesheet, script, font or image
    for needle in ("http://", "https://", "<link", "<script", "<img", "@import", "url("):
        assert needle not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), needle


def test_report_of_an_empty_run_still_renders() -> None:
    result = evaluate([GoldItem(id="1", text="x", codes=["A00.0"])], lambda it: [], lambda it, r: [],
                      lambda c: True, "retrieval-only")
    checker = parse(render_html(result))
    assert "nothing to calibrate" in "".join(checker.text)


@pytest.fixture
def home(built_dictionary: Path, medcoder_home: Path) -> Path:
    install_dictionary(built_dictionary, medcoder_home)
    return medcoder_home


def test_cli_eval_out_writes_json_and_html(home: Path, tmp_path: Path, capsys) -> None:
    gold = tmp_path / "gold.jsonl"
    rows = [("DM2 w hyperglycemia", "E11.65", "typos"), ("htn", "I10", "abbrev"), ("chest pain", "R07.9", "abbrev")]
    gold.write_text("".join(json.dumps({"id": str(i), "text": t, "codes": [c], "kind": "phrase", "source": s}) + "\n"
                            for i, (t, c, s) in enumerate(rows)), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["eval", str(gold), "--model", "none", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert str(out / "report.html") in captured.err and "3 items" in captured.out
    doc = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert doc["n"] == 3 and set(doc["per_source"]) == {"typos", "abbrev"} and len(doc["items"]) == 3
    html = (out / "report.html").read_text(encoding="utf-8")
    assert parse(html).tags.count("svg") == 4 and f"{doc['micro']['f1']:.3f}" in html  # 2 kinds: 2 more curves

    assert main(["eval", str(gold), "--model", "none", "--json", "--out", str(tmp_path / "out2")]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)  # still one document on stdout
    assert printed["n"] == 3 and "items" not in printed and "calibration" in printed
    assert (tmp_path / "out2" / "report.html").is_file()


def test_each_kind_of_note_has_its_own_reliability_diagram() -> None:
    result = sample_result()
    assert set(result.calibration_by_source) == {"typos", "<script>alert(1)</script>"}
    assert result.calibration_by_source["typos"].n == 18
    html = render_html(result)
    checker = parse(html)
    assert checker.tags.count("svg") == 2 + 2  # by source, overall, and one for each of the two kinds
    assert "<h3>typos</h3>" in html and "<h3><script>" not in html

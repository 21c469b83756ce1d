"""Search on named examples: the ways coders and notes really write."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.errors import InvalidInputError


@pytest.fixture(scope="module")
def dictionary(built_dictionary: Path) -> Dictionary:
    return Dictionary(built_dictionary)


def top(dictionary: Dictionary, query: str, n: int = 1, **kw) -> list[str]:
    return [h.code for h in dictionary.search(query, limit=n, **kw)]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # abbreviations
        ("DM2 w hyperglycemia", "E11.65"),
        ("acute on chronic systolic chf", "I50.23"),
        ("htn", "I10"),
        ("Fracture of unspec. part of neck of rt. femur, init. encounter for closed fx", "S72.001A"),
        # misspellings
        ("hypertensive hart disease with heart failure", "I11.0"),
        ("Algoneurodystrofy, rihgt thgh", "M89.051"),
        ("chronic obstructve pulmonry disease with acute exacerbaton", "J44.1"),
        # reordered words
        ("Right eye cystoid macular degeneration", "H35.351"),
        ("initial encounter for closed fracture of neck of right femur, unspecified part", "S72.001A"),
        # sentence wrappers
        ("Sarah has nonrheumatic aortic valve insufficiency", "I35.1"),
        ("The patient was seen for essential hypertension.", "I10"),
    ],
)
def test_named_examples_rank_first(dictionary: Dictionary, query: str, code: str) -> None:
    assert top(dictionary, query) == [code]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("contusion of left knee, initial encounter", "S80.02XA"),
        ("contusion of right knee, initial encounter", "S80.01XA"),
        ("contusion of right knee, subsequent encounter", "S80.01XD"),
        ("contusion of right knee, sequela", "S80.01XS"),
        ("Type 1 diabetes mellitus with ketoacidosis without coma", "E10.10"),
        ("Type 2 diabetes mellitus with ketoacidosis without coma", "E11.10"),
        ("acute systolic heart failure", "I50.21"),
        ("chronic systolic heart failure", "I50.22"),
    ],
)
def test_laterality_encounter_type_and_acuity_decide(dictionary: Dictionary, query: str, code: str) -> None:
    assert top(dictionary, query) == [code]


def test_header_is_followed_by_its_billable_default(dictionary: Dictionary) -> None:
    hits = dictionary.search("type 2 diabetes mellitus", limit=3)
    assert [h.code for h in hits[:2]] == ["E11.9", "E11"]
    assert hits[0].billable and not hits[1].billable


def test_scores_are_ranked_and_bounded(dictionary: Dictionary) -> None:
    hits = dictionary.search("pneumonia", limit=10)
    assert len(hits) == 10
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len({h.code for h in hits}) == 10


def test_system_filter(dictionary: Dictionary) -> None:
    hits = dictionary.search("laparoscopic resection of appendix", limit=5, systems={"ICD-10-PCS"})
    assert hits and all(h.system == "ICD-10-PCS" for h in hits)
    assert hits[0].code == "0DTJ4ZZ"


def test_nonsense_finds_nothing_and_bad_queries_are_errors(dictionary: Dictionary) -> None:
    assert dictionary.search("zzqx vvbn", limit=5) == []
    with pytest.raises(InvalidInputError, match="empty"):
        dictionary.search("   ")
    with pytest.raises(InvalidInputError, match="at most"):
        dictionary.search("pain " * 1000)


@pytest.mark.parametrize(("header", "default"), [
    ("E11", "E11.9"), ("J18", "J18.9"), ("D49", "D49.9"), ("R59", "R59.9"), ("N39.4", None),
    # "uncomplicated" is the default, not "with unspecified ... disorders"; followed down through headers as
    # the Index's "Dependence, nicotine F17.200" is
    ("F17.20", "F17.200"), ("F17", "F17.200"), ("F10.2", "F10.20"), ("S93.40", None)])
def test_a_header_defaults_to_its_own_unspecified_child(dictionary: Dictionary, header: str,
                                                        default: str | None) -> None:
    # D49.0 "Neoplasm of unspecified behavior of digestive system" repeats its header's "unspecified":
    # the default is D49.9 "... of unspecified site".
    got = dictionary.default_billable("ICD-10-CM", header)
    assert (got[0] if got else None) == default


def test_each_code_is_listed_once_with_its_header_default(dictionary: Dictionary) -> None:
    codes = [h.code for h in dictionary.search("congenital pneumonia", limit=10)]
    assert len(codes) == len(set(codes)) and codes[:2] == ["P23.9", "P23"]


@pytest.mark.parametrize(
    ("query", "code", "unspecified"),
    [
        # the side the words name, not "unspecified side" / "unspecified eye"
        ("sequela of laceration of left brachial artery", "S45.112S", "S45.119S"),
        ("retinal detachment of the left eye", "H33.22", "H33.20"),
    ],
)
def test_a_named_side_beats_the_unspecified_sibling(dictionary: Dictionary, query: str, code: str,
                                                    unspecified: str) -> None:
    codes = top(dictionary, query, n=10)
    assert codes[0] == code
    assert unspecified not in codes[:1]
    assert top(dictionary, query, n=1) == [code]  # however few are asked for


def test_words_that_say_unspecified_keep_the_unspecified_code(dictionary: Dictionary) -> None:
    assert top(dictionary, "serous retinal detachment, unspecified eye") == ["H33.20"]


def test_a_header_gives_way_to_the_billable_code_that_says_more(dictionary: Dictionary) -> None:
    # "Laceration of axillary artery" (S45.01, a header) matches all of its own words, but the query also says
    # the side and the sequela: the billable descendant that says them takes the header's place.
    codes = top(dictionary, "sequela from a laceration of the right axillary artery", n=5)
    assert codes[0] == "S45.011S"
    assert codes.index("S45.011S") < (codes.index("S45.01") if "S45.01" in codes else 99)


def test_a_wording_inside_a_clause_is_found_as_written_and_where_a_word_repeats(dictionary: Dictionary) -> None:
    # A note's clause: "renal" is said twice and read through its synonym "kidney", "carcinoma" as "malignant
    # neoplasm"; the Index's own wording "Carcinoma, renal cell" (C64) still stands inside it, as written, and
    # scores as a complete wording (the square root of its share of the clause), above partial readings.
    engine = dictionary.engine
    text = "Definitive renal histological diagnosis was Fuhrman grade I renal cell carcinoma extending to perirenal fat"
    ranked = engine.rank_slots(engine.read_query(text, strict=True), 5)
    by_code = {engine.ix.code_text[r.code_rowid]: r for r in ranked}
    assert "C64" in [engine.ix.code_text[r.code_rowid] for r in ranked[:2]]
    assert by_code["C64"].score >= by_code["C64"].q ** 0.5 * 0.95 - 1e-6  # an Index wording: x 0.95


def test_a_header_gives_way_to_the_descendant_that_holds_every_word(dictionary: Dictionary) -> None:
    # "Sprain of ankle NOS" (S93.40) matches the words best, but "right" is said: S93.401 ("... of right ankle"),
    # which lacks only the 7th character the encounter gives, takes its place.
    engine = dictionary.engine
    ranked = engine.rank_slots(engine.read_query("Right ankle sprain", strict=True), 5)
    assert engine.ix.code_text[ranked[0].code_rowid] == "S93401"

"""Tokens, stems and the curated abbreviation list."""

from __future__ import annotations

from pathlib import Path

from medcoder_desktop.core.dictionary import Dictionary
from medcoder_desktop.core.dictionary.textnorm import abbreviations, raw_tokens, stem, words


def test_tokens_keep_cut_short_words_and_expand_shorthand() -> None:
    assert raw_tokens("Fx of unspec. femur") == [("fx", False), ("of", False), ("unspec", True), ("femur", False)]
    assert words("DM2 w/ hyperglycemia & CKD") == ["dm2", "with", "hyperglycemia", "and", "ckd"]
    assert words("HTN w/o crisis") == ["htn", "without", "crisis"]
    assert words("Burn of 2nd degree") == ["burn", "of", "second", "degree"]
    assert words("Isabella's eye") == ["isabella", "eye"]


def test_stems_meet_across_word_forms() -> None:
    assert stem("routinely") == stem("routine")
    assert stem("hypertensive") == stem("hypertension")
    assert stem("2") == "2"


def test_abbreviation_list_is_well_formed() -> None:
    table = abbreviations()
    assert table["htn"] == ("hypertension",)
    assert table["dm2"] == ("type 2 diabetes mellitus",)
    assert set(table["ca"]) == {"carcinoma", "malignant neoplasm"}
    for key, expansions in table.items():
        assert key and key == key.lower(), key
        assert all(e and e == e.strip() for e in expansions), key


def test_every_expansion_uses_dictionary_words(built_dictionary: Path) -> None:
    """An expansion whose words the dictionary never prints could not match anything."""
    engine = Dictionary(built_dictionary).engine
    missing = {
        (key, word)
        for key, expansions in abbreviations().items()
        for e in expansions
        for word in e.split()
        if engine._stem_of_word(word) is None
    }
    assert missing == set()

"""Explicit rules: checked against the dictionary when written, matched against suggestions, and compared
with each other for conflicts (a local "never X" beside a pack's "prefer X over Y").

Precedence when rules meet in one note: ``never`` removes a code first and again after the others, so it
wins over ``prefer`` and ``pair``; each suggestion is replaced by at most one ``prefer`` rule (the oldest).
"""

from __future__ import annotations

from typing import Protocol

from medcoder_desktop.core.codes import undotted
from medcoder_desktop.core.models import Encounter, Rule
from medcoder_desktop.errors import PreferencesError

MAX_RULES = 5000


class CodeBook(Protocol):
    """The part of the dictionary that rules need."""

    def resolve(self, code: str, system: str | None = None) -> tuple[str, str]: ...
    def show(self, code: str, system: str | None = None): ...
    def default_billable(self, system: str, code: str) -> tuple[str, str] | None: ...


def matches(pattern: str, code: str) -> bool:
    """Whether ``code`` is ``pattern`` or lies under it (E11 matches E11.65)."""
    return undotted(code).startswith(undotted(pattern))


def applies(rule: Rule, encounter: Encounter) -> bool:
    if rule.setting and rule.setting != encounter.setting:
        return False
    if rule.payer and (encounter.payer or "").strip().casefold() != rule.payer.strip().casefold():
        return False
    return True


def make_rule(book: CodeBook, kind: str, code: str, *, over: str | None = None, add: str | None = None,
              setting: str | None = None, payer: str | None = None) -> Rule:
    """A rule with its codes checked and written as the dictionary writes them.

    Raises:
        PreferencesError: a missing or superfluous code for this kind, or a code that cannot be suggested.
        CodeNotFoundError: a code that is in no code set of the dictionary.
    """
    if kind not in ("prefer", "never", "pair"):
        raise PreferencesError(f"Unknown rule {kind!r}: use prefer, never or pair.")
    if kind == "prefer" and (not over or add):
        raise PreferencesError("A prefer rule names the code it replaces: prefer X --over Y.")
    if kind == "pair" and (not add or over):
        raise PreferencesError("A pair rule names the code it adds: pair V --with W.")
    if kind == "never" and (over or add):
        raise PreferencesError("A never rule names one code: never Z.")
    if setting not in (None, "outpatient", "inpatient"):
        raise PreferencesError(f"Unknown setting {setting!r}: use outpatient or inpatient.")
    payer = payer.strip() if payer and payer.strip() else None
    system, code = book.resolve(code)
    target = None
    if kind == "prefer":
        system_over, over = book.resolve(over or "")
        if system_over != system:
            raise PreferencesError(f"{code} ({system}) and {over} ({system_over}) are in different code systems.")
        target = code
    if kind == "pair":
        _, add = book.resolve(add or "")
        target = add
    if target is not None:
        _require_billable(book, target, "the code a prefer rule puts in place" if kind == "prefer"
                          else "the code a pair rule adds")
    rule = Rule(kind=kind, code=code, over=over, add=add, system=system, setting=setting, payer=payer)
    check_consistent([rule], "This rule is refused")
    return rule


def _require_billable(book: CodeBook, code: str, what: str) -> None:
    detail = book.show(code)
    if detail.billable:
        return
    default = book.default_billable(detail.system, detail.code)
    hint = f", e.g. {default[0]}" if default else ""
    raise PreferencesError(f"{code} is a category, not a billable code: {what} must be billable{hint}. "
                           "(Categories are fine for the code a rule looks for: never R69, prefer X --over E11, "
                           "pair E11 --with Z79.4.)")


def unknown_codes(rule: Rule, exists) -> list[str]:
    """The rule's codes that ``exists`` (code -> bool) does not know."""
    return [c for c in rule.codes() if not exists(c)]


def _same_scope(a: Rule, b: Rule) -> bool:
    if a.setting and b.setting and a.setting != b.setting:
        return False
    if a.payer and b.payer and a.payer.casefold() != b.payer.casefold():
        return False
    return True


def conflict(a: Rule, b: Rule) -> str | None:
    """Why two rules pull in opposite directions where both apply, or None."""
    if not _same_scope(a, b):
        return None
    for x, y in ((a, b), (b, a)):
        if x.kind == "never":
            produced = y.code if y.kind == "prefer" else y.add if y.kind == "pair" else None
            if produced and matches(x.code, produced):
                return f"“{x.describe()}” removes the {produced} that “{y.describe()}” puts in: never wins."
    if a.kind == b.kind == "prefer":
        if matches(a.over or "", b.code) and matches(b.over or "", a.code):
            return f"“{a.describe()}” and “{b.describe()}” undo each other: the older rule applies."
        if (a.over == b.over) and a.code != b.code:
            return f"“{a.describe()}” and “{b.describe()}” replace the same code: the older rule applies."
    return None


def self_contradiction(rule: Rule) -> str | None:
    """Why a rule contradicts itself ("prefer E11.65 over E11.65", "pair E11 with E11.9"), or None."""
    if rule.kind == "prefer" and rule.over and undotted(rule.over) == undotted(rule.code):
        return f"“{rule.describe()}” replaces a code with itself"
    if rule.kind == "pair" and rule.add and matches(rule.code, rule.add):
        return f"“{rule.describe()}” adds a code that it is itself triggered by"
    return None


def check_consistent(rules: list[Rule], where: str) -> None:
    """Refuse rules that contradict themselves (at ``rule add``, export and import).

    Raises:
        PreferencesError: naming the first such rule.
    """
    for rule in rules:
        why = self_contradiction(rule)
        if why:
            raise PreferencesError(f"{where}: {why}. Remove it (`medcoder prefs rule remove ID`) and write the rule "
                                   "meant. Nothing was changed.")


def check_rule_count(rules: list[Rule]) -> None:
    if len(rules) > MAX_RULES:
        raise PreferencesError(f"{len(rules)} rules: at most {MAX_RULES} are kept. Remove some first.")

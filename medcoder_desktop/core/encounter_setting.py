"""The setting of a note that comes without one: a stay in hospital when the note tells of this stay.

A coder knows the setting from the encounter; a note opened from a file, or a gold file that names no setting,
does not say it. A note that tells of the patient being admitted, hospitalized or discharged, in a sentence
that is about this stay (not "admitted two years ago", "will require admission", "history of"), is an
inpatient stay, coded under Sections II and III with its ICD-10-PCS procedures; any other note keeps the
default setting. A case narrative is read the same way: a note without a visit note's headings (chief complaint,
assessment, plan) that tells, in the past tense, of several tests and treatments done in this course ("an
ultrasound was performed", "she underwent a nephrectomy", "the biopsy showed") is the record of a hospital case,
coded as a stay with its ICD-10-PCS procedures. `suggest` says which it read and why; the coder can change the
setting in the encounter's details.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medcoder_desktop.core.engine.text import sections
from medcoder_desktop.core.models import Setting

_STAY = re.compile(
    r"\b(?:"
    r"(?:was|were|is|been|being|got)\s+(?:re)?(?:admitted|hospitali[sz]ed)"
    r"|admitted\s+to\s+(?:the\s+|our\s+|a\s+)?(?:hospital|ward|service|department|unit|icu|intensive\s+care)"
    r"|(?:on|at|upon|during|after|since|before)\s+(?:his\s+|her\s+|the\s+|their\s+)?"
    r"(?:admission|hospitali[sz]ation|hospital\s+stay|stay\s+in\s+(?:the\s+)?(?:hospital|ward|icu|intensive\s+care))"
    r"|(?:was|were|is|being)\s+discharged"
    r"|discharged\s+(?:from\s+(?:the\s+)?hospital|on\s+(?:the\s+)?(?:day|\d+)|after\s+\d+)"
    r"|(?:hospital|inpatient)\s+(?:admission|stay)"
    r"|post-?operative\s+day"
    r")\b", re.I)
# Words beside the stay's words that put it at another time, make it a plan, or make it a visit to the
# emergency department.
_NOT_THIS_STAY = re.compile(
    r"\b(?:ago|previous(?:ly)?|prior|earlier|last\s+(?:year|month|week)|history|in\s+(?:19|20)\d\d|"
    r"will|would|may|might|could|planned|plan|require[sd]?|if|should|emergency|outpatient\s+(?:setting|basis|"
    r"surgery|procedure))\b", re.I)
SCOPE_WORDS = 5  # words read on each side of the stay's words
# A test or treatment told as done in this course: the passive of doing, or a finding it gave.
_COURSE_EVENT = re.compile(
    r"\b(?:(?:was|were)\s+(?:(?:then|also|subsequently|finally|immediately|urgently)\s+)?(?:performed|carried\s+out|"
    r"done|started|initiated|administered|treated|operated|intervened|referred|admitted|transferred|discharged|"
    r"hospitali[sz]ed|biopsied|resected|removed|placed|inserted|instituted|prescribed|requested|indicated)"
    r"|underwent|showed|revealed|demonstrated)\b", re.I)
# Words that put a sentence's events at another time or place than this course.
_ANOTHER_TIME = re.compile(
    r"\b(?:ago|previous(?:ly)?|prior|earlier|history|in\s+(?:19|20)\d\d|another\s+(?:cent(?:er|re)|hospital)|"
    r"will|would|planned)\b", re.I)
COURSE_EVENTS = 3  # sentences telling of tests or treatment done that make a headingless note a case narrative
_SENTENCE = re.compile(r"[^.\n;]+")


@dataclass(frozen=True)
class SettingRead:
    setting: Setting
    source: str  # "given", "note" or "default"
    said: str | None = None  # the note's sentence that tells of the stay
    why: str | None = None  # what the note is read as: "a stay" or "a case narrative"

    def explain(self) -> str:
        if self.source == "note":
            return f"{self.setting}, read from the note as {self.why or 'a stay'}: \"{self.said}\""
        return f"{self.setting}, the {'setting given' if self.source == 'given' else 'default setting'}"


def stay_sentence(note: str) -> str | None:
    """The first sentence of the note that tells of this stay in hospital, or None."""
    for m in _SENTENCE.finditer(note):
        sentence = m.group(0)
        for stay in _STAY.finditer(sentence):
            before = " ".join(sentence[:stay.start()].split()[-SCOPE_WORDS:])
            after = " ".join(sentence[stay.end():].split()[:SCOPE_WORDS])
            if not _NOT_THIS_STAY.search(f"{before} {stay.group(0)} {after}"):
                return " ".join(sentence.split())[:160]
    return None


def course_sentences(note: str) -> list[str]:
    """The sentences of a case narrative that tell of a test or treatment done in this course.

    Empty for a note with a visit note's headings: a visit note is read by its sections, not as a narrative."""
    if any(section.name != "body" for section in sections(note)):
        return []
    told = []
    for m in _SENTENCE.finditer(note):
        sentence = m.group(0)
        if _COURSE_EVENT.search(sentence) and not _ANOTHER_TIME.search(sentence):
            told.append(" ".join(sentence.split())[:160])
    return told


def setting_for_note(note: str, given: str | None, default: Setting) -> SettingRead:
    """The setting given, else inpatient when the note tells of this stay or is a case narrative, else ``default``."""
    if given:
        return SettingRead(setting=given, source="given")  # type: ignore[arg-type]
    if (said := stay_sentence(note)) is not None:
        return SettingRead(setting="inpatient", source="note", said=said, why="a stay")
    if len(told := course_sentences(note)) >= COURSE_EVENTS:
        return SettingRead(setting="inpatient", source="note", said=told[0],
                           why=f"a case narrative, {len(told)} sentences of tests and treatment done")
    return SettingRead(setting=default, source="default")

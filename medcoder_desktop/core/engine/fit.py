"""Which codes can fit an encounter at all, from what the note and the encounter's details say.

Chapter 15 codes (O00-O9A, and the pregnancy Z codes) belong on the record of a pregnancy, childbirth or the
puerperium, and Chapter 16 codes (P00-P96) start in the perinatal period (guidelines I.C.15.a, I.C.16.a). A
search on "urinary tract infection" finds the neonatal and the pregnancy variants beside N39.0; where the
note says nothing of a pregnancy or a newborn and the patient's age and sex do not allow one, those variants
are not candidates, so the mention's best candidate is the code that fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medcoder_desktop.core.models import Encounter

_PREGNANCY_WORDS = re.compile(
    r"\b(?:pregnan\w*|gestation\w*|gravid\w*|obstetric\w*|trimesters?|puerper\w*|post-?partum|antepartum|"
    r"intrapartum|deliver(?:y|ed)|labou?r|caesarean|cesarean|c-section|miscarriage|abortion|ectopic|"
    r"placenta\w*|fetus|fetal|foetal|amniotic|G\d+P\d+)\b", re.I)
_NEWBORN_WORDS = re.compile(
    r"\b(?:newborns?|new-born|neonat\w*|pre-?term|prematur\w*|perinatal|birth ?weight|born|nicu|apgar|"
    r"infants?|weeks of gestation|gestational age)\b", re.I)
_PREGNANCY_TITLE = re.compile(r"\b(?:pregnancy|childbirth|puerperium|delivery|maternal care)\b", re.I)
_NEWBORN_TITLE = re.compile(r"\b(?:newborn|neonatal|perinatal)\b", re.I)
_PREGNANCY_Z = ("Z32", "Z33", "Z34", "Z36", "Z37", "Z39", "Z3A")


@dataclass(frozen=True)
class Fit:
    pregnancy: bool  # the note or the patient allows a pregnancy, childbirth or puerperium
    newborn: bool  # the patient may be a newborn (perinatal conditions)

    def allows(self, system: str, code: str, title: str) -> bool:
        if system != "ICD-10-CM":
            return True
        if code[:1] == "O" or code.startswith(_PREGNANCY_Z) or _PREGNANCY_TITLE.search(title):
            return self.pregnancy
        if code[:1] == "P" or _NEWBORN_TITLE.search(title):
            return self.newborn
        return True


def encounter_fit(note: str, encounter: Encounter) -> Fit:
    age, sex = encounter.age, encounter.sex
    pregnancy = sex != "M" and (age is None or 9 <= age <= 64) and bool(_PREGNANCY_WORDS.search(note))
    newborn = age == 0 or (age is None and bool(_NEWBORN_WORDS.search(note)))
    return Fit(pregnancy=pregnancy, newborn=newborn)

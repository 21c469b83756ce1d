"""Medicare Code Editor edits in words a coder acts on."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "INVALID_CODE": "{codes}: not a valid code for a discharge in FY{fy}. Choose the code of that year's code set.",
    "AGE_CONFLICT": "{codes}: inconsistent with the patient's age ({age}). Check the code or the age.",
    "SEX_CONFLICT": "{codes}: inconsistent with the patient's sex ({sex}). Check the code or the sex.",
    "MANIFESTATION_AS_PDX": "{codes}: a manifestation code cannot be the principal diagnosis. "
                            "Sequence the underlying condition first.",
    "E_CODE_AS_PDX": "{codes}: an external cause code cannot be the principal diagnosis. "
                     "Sequence the injury or condition first.",
    "UNACCEPTABLE_PDX": "{codes}: not acceptable as principal diagnosis (it rarely explains an admission). "
                        "Choose the condition chiefly responsible for the stay.",
    "NONSPECIFIC_PDX": "{codes}: a nonspecific principal diagnosis. Code it more specifically if documented.",
    "QUESTIONABLE_ADMISSION": "{codes}: a questionable reason for an inpatient admission as principal. "
                              "Check the sequencing.",
    "QUESTIONABLE_OBSTETRIC_ADMISSION": "{codes}: a questionable obstetric admission. Check the sequencing.",
    "DUPLICATE_OF_PDX": "{codes}: repeats the principal diagnosis as a secondary diagnosis. Remove the duplicate.",
    "REQUIRES_SDX": "{codes}: needs a secondary diagnosis to explain it.",
    "NON_COVERED": "{codes}: a procedure Medicare does not cover.",
    "LIMITED_COVERAGE": "{codes}: a procedure Medicare covers only in some circumstances.",
    "BILATERAL": "{codes}: a bilateral procedure needs a diagnosis that supports both sides.",
    "OPEN_BIOPSY": "{codes}: an open biopsy; check that an open approach is documented.",
    "WRONG_PROCEDURE_PERFORMED": "{codes}: the claim reports a wrong procedure (wrong site, patient or procedure).",
    "INVALID_AGE": "The age ({age}) is not a valid age.",
    "INVALID_SEX": "The sex is not valid.",
    "INVALID_DISCHARGE_STATUS": "Discharge status {status} is not a valid status code.",
    "INVALID_ADMIT_DX": "{codes}: not a valid admitting diagnosis.",
    "MEDICARE_IS_SECONDARY_PAYER": "{codes}: Medicare may be the secondary payer for this claim. Check the payer.",
    "INCONSISTENT_WITH_LENGTH_OF_STAY": "{codes}: inconsistent with the length of stay.",
    "UNSPECIFIED": "{codes}: unspecified code; code more specifically when documented.",
}


def describe(name: str, codes: list[str], ctx: dict) -> str:
    """The message of one edit; names the codes involved (or the claim as a whole)."""
    base = name.removeprefix("EDIT_")
    template = MESSAGES.get(base)
    if template is None and base.startswith("LIMITED_COVERAGE"):
        template = MESSAGES["LIMITED_COVERAGE"]
    if template is None:
        template = "{codes}: Medicare Code Editor edit " + base.replace("_", " ").lower() + "."
    what = ", ".join(codes) if codes else "The claim"
    return template.format(codes=what, **ctx)

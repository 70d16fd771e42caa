"""Decisions: what the adjudicator says about one claim (third step of the data path).

The outcome vocabulary is seed-rules.md 0.3 plus REJECTED for claims that fail the record
layer's format and pre-edit checks. ``teleproc.remit`` turns a decision into a return record:

=========  =======================================  ==========
outcome    meaning                                  record
=========  =======================================  ==========
REJECTED   format / pre-edit defect                 C12
PAID       paid in full, no explanation             S01
PAID       paid in full, with explanatory codes     S02
ADJUSTED   paid, units/amount/fee changed           S02
REFUSED    $0 with at least one code                S03
HELD       not decided yet (BH)                     S04
=========  =======================================  ==========
"""
from __future__ import annotations

from typing import NamedTuple

REJECTED = "REJECTED"
PAID = "PAID"
ADJUSTED = "ADJUSTED"
REFUSED = "REFUSED"
HELD = "HELD"
OUTCOMES = (REJECTED, PAID, ADJUSTED, REFUSED, HELD)


class Decision(NamedTuple):
    """Immutable; a NamedTuple because one is made per claim on the hot path (an attrs frozen
    class costs ~1 us more per construction, measured)."""
    outcome: str
    codes: tuple = ()          # MSP explanatory codes (spec appendix A), at most 7, in order
    paid_units: int = 0        # negative on a debit (reversal) answer
    paid_cents: int = 0        # integer cents; negative on a debit answer
    paid_fee: str = ""         # fee item paid under ('' = as billed)
    reasons: tuple = ()        # rule trace, e.g. ("R62:CAP_PATIENT_CY",); never patient data
    line_id: int | None = None # claim_lines row written for it (set by the adjudicator)
    trace: str = ""            # the same with the facts each rule used (teleproc.trace; stored)

    @property
    def record_code(self) -> str:
        if self.outcome == REJECTED:
            return "C12"
        if self.outcome == PAID:
            return "S02" if self.codes else "S01"
        return {ADJUSTED: "S02", REFUSED: "S03", HELD: "S04"}[self.outcome]

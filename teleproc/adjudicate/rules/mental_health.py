"""Mental health 14043 / 14045-14048 / 14049 (seed-rules.md 2.9). R85, R89, R90 are limits.csv
rows, R87 a prerequisites.csv row, R88 a limits.csv minimum, the R11 pairs same_day.csv rows."""
from __future__ import annotations

from ..history import DOS, PFEE, PRAC
from .base import rule


@rule("R86", fees="@mh_management")
def age_band(c, k):
    """R86 - 14045-14048 match the patient's age band (age_bands.csv: 2-59, 60-69, 70-79, 80+).
    Another band's code is recoded to the right one (ADJUSTED, priced and counted as it) or,
    with policy age_code_mismatch = refuse, refused; no band (under 2) or no DOB -> AGE_SEX."""
    age = c.age()
    if age is None:
        return "AGE_SEX"
    band = next((b for b in k.tables.bands["mh_management"] if b.age_min <= age <= b.age_max), None)
    if band is None:
        return "AGE_SEX"
    if band.code != c.fee:
        if k.policy.age_code_mismatch == "refuse":
            return "AGE_SEX"
        c.paid_fee = band.code
        c.adjust("R86", "AGE_CODE_MISMATCH")
    return None


@rule("R91", fees="14049")
def phone_same_day(c, k):
    """R91 - 14049 is refused when the same practitioner has any other fee for the patient that
    day (paid, or billed in the same group), except 14016."""
    allowed = ("14049", "14016")
    for ln in k.hist.patient(c.phn):
        if ln[DOS] == c.ymd and ln[PRAC] == c.prac and ln[PFEE] not in allowed and k.hist.is_paid(ln):
            return "SAME_DAY_VISIT"
    if any(f not in allowed for f in k.group_fees(c)):
        return "SAME_DAY_VISIT"
    return None

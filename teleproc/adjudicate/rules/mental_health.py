"""Mental health 14043 / 14045-14048 / 14049 (seed-rules.md 2.9). R85, R89, R90 are limits.csv
rows, R87 a prerequisites.csv row, R88 a limits.csv minimum, the R11 pairs same_day.csv rows."""
from __future__ import annotations

from teleproc.trace import line_ref

from ..history import PFEE
from .base import rule


@rule("R86", fees="@mh_management")
def age_band(c, k):
    """R86 - 14045-14048 match the patient's age band (age_bands.csv: 2-59, 60-69, 70-79, 80+).
    Another band's code is recoded to the right one (ADJUSTED, priced and counted as it) or,
    with policy age_code_mismatch = refuse, refused; no band (under 2) or no DOB -> AGE_SEX."""
    age = c.age()
    if age is None:
        return c.why("AGE_SEX", {"age": "unknown"})
    band = next((b for b in k.tables.bands["mh_management"] if b.age_min <= age <= b.age_max), None)
    if band is None:
        return c.why("AGE_SEX", {"age": age, "fee": c.fee})
    if band.code != c.fee:
        facts = {"age": age, "fee": c.fee, "band_fee": band.code, "band": f"{band.age_min}-{band.age_max}"}
        if k.policy.age_code_mismatch == "refuse":
            return c.why("AGE_SEX", facts)
        c.paid_fee = band.code
        c.adjust("R86", "AGE_CODE_MISMATCH", facts)
    return None


@rule("R91", fees="@mh_phone_codes")
def phone_same_day(c, k):
    """R91 - 14049 is refused when the same practitioner has any other fee for the patient that
    day (paid, or billed in the same group), except 14016 (code_sets mh_phone_codes,
    mh_phone_same_day_ok)."""
    allowed = k.tables.sets["mh_phone_same_day_ok"]
    for ln in k.hist.lines(c.phn, None, c.ymd, c.ymd, c.prac):
        if ln[PFEE] not in allowed and k.hist.is_paid(ln):
            return c.why("SAME_DAY_VISIT", {"line": line_ref(ln)})
    other = [f for f in k.group_fees(c) if f not in allowed]
    if other:
        return c.why("SAME_DAY_VISIT", {"group_fee": other[0]})
    return None

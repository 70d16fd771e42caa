"""Cardiovascular risk assessment 14034 (seed-rules.md 2.7). R71/R72 are limits.csv rows."""
from __future__ import annotations

from .base import rule


@rule("R70", fees="@cv_codes")
def age_sex(c, k):
    """R70 - the patient's age and sex fall in a 14034 window (age_bands.csv, policy cv_age_rule:
    sex_specific = men 40-49 / women 50-59, broad = 18-69). No birth date -> AGE_SEX (R08). Sex
    from the claim (reciprocal claims) or the patient registry. R70 says "missing sex/DOB ->
    REFUSED", an exception to "unknown means no refusal": under sex_specific an unknown sex is
    refused AGE_SEX (FG); under broad only the age counts. An age that fits only the other
    sex's window -> SEX_MISMATCH (FO)."""
    age = c.age()
    if age is None:
        return c.why("AGE_SEX", {"age": "unknown"})
    bands = k.tables.band_for("cv_" + k.policy.cv_age_rule, c.fee)
    fitting = [b for b in bands if b.age_min <= age <= b.age_max]
    if not fitting:
        return c.why("AGE_SEX", {"age": age, "windows": _windows(bands), "policy": "cv_age_rule=" + k.policy.cv_age_rule})
    sex, source = c.claim.sex, "claim"
    if sex is None:
        patient = k.registry.patient(c.phn)
        sex, source = (patient.sex if patient is not None else None), "registry"
    if any(b.sex in ("", sex) for b in fitting):
        return None                        # a window for either sex (broad), or for this one
    if sex is None:                        # R70: missing sex is refused (sex_specific only)
        return c.why("AGE_SEX", {"age": age, "sex": "unknown", "windows": _windows(bands),
                                 "policy": "cv_age_rule=" + k.policy.cv_age_rule})
    return c.why("SEX_MISMATCH", {"age": age, "sex": sex, "source": source, "windows": _windows(bands)})


def _windows(bands) -> list:
    return [f"{b.sex or 'any'}:{b.age_min}-{b.age_max}" for b in bands]

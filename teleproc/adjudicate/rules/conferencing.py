"""Conferencing 14015 / 14016 / 14017 (seed-rules.md 2.5). R52/R53 (units per day / CY) are
limits.csv rows; R11 pairs are same_day.csv rows."""
from __future__ import annotations

from ..history import TE, TS
from .base import overlaps, rule


@rule("R50", fees="@conference_codes")
def time_units(c, k):
    """R50 - start and end times are required and give the units: one per 15 minutes or major
    portion (more than 7.5 minutes of a partial block). Blank units -> the time's units; more
    units than the time allows -> reduced (ADJUSTED)."""
    minutes = c.minutes()
    if minutes is None or minutes <= 0:
        return "TIME_REQUIRED"
    allowed = minutes // 15 + (1 if minutes % 15 * 2 > 15 else 0)
    if allowed == 0:
        return "TIME_REQUIRED"
    if c.units == 0:
        c.units = allowed
    elif c.units > allowed:
        c.units = allowed
        c.adjust("R50", "UNITS_REDUCED")
    return None


@rule("R51", fees="@conference_codes")
def diagnosis(c, k):
    """R51 - dx1 required: V15 (frail elderly, over 69), V58, or any non-V ICD-9 (mental illness
    or a major disorder); another V-code is invalid (V28 on 14016 with policy
    accept_v28_for_14016, A10)."""
    dx = c.claim.dx1
    if not dx:
        return "DX_REQUIRED"
    if not dx.startswith("V"):
        return None
    accepted = k.tables.sets["conference_dx"]
    if k.policy.accept_v28_for_14016 and c.fee == "14016":
        accepted = accepted | {"V28"}
    code = next((a for a in accepted if dx.startswith(a)), None)
    if code is None:
        return "DX_INVALID"
    for band in k.tables.band_for("conference_dx", code):
        age = c.age()
        if age is None or not band.age_min <= age <= band.age_max:
            return "AGE_SEX"
    return None


@rule("R55", fees="14015 14017")
def setting(c, k):
    """R55 - 14015 is for a facility patient (refused at a community location: office types,
    patient's residence); 14017 is held in an acute care facility (inpatient, emergency, day
    care). 14016 (community) is general R14. Blank location: no check."""
    loc = c.claim.location
    sets = k.tables.sets
    if c.fee == "14015" and loc in sets["community_locations"]:
        return "LOCATION"
    if c.fee == "14017" and loc and loc not in sets["acute_locations"]:
        return "LOCATION"
    return None


@rule("R54", fees="@conference_codes")
def no_overlap(c, k):
    """R54 - a practitioner's conferences never overlap: another paid conference of the same
    practitioner that DOS (any patient) whose [start, end) overlaps -> refused."""
    if c.ts is None or c.te is None:
        return None
    for ln in k.hist.practitioner_paid(c.prac, k.tables.sets["conference_codes"], c.ymd, c.ymd):
        if ln[TS] is not None and ln[TE] is not None and overlaps(c.ts, c.te, ln[TS], ln[TE]):
            return "TIME_OVERLAP"
    return None


@rule("R56", fees="@conference_codes @visit_codes")
def not_concurrent(c, k):
    """R56 - a visit and a conference of the same practitioner, patient and day whose times
    overlap: the one decided second is held for review (consecutive ones are fine; no times, no
    check)."""
    if c.ts is None or c.te is None:
        return None
    sets = k.tables.sets
    other = sets["visit_codes"] if c.fee in sets["conference_codes"] else sets["conference_codes"]
    for ln in k.hist.paid(c.phn, other, c.ymd, c.ymd, c.prac):
        if ln[TS] is not None and ln[TE] is not None and overlaps(c.ts, c.te, ln[TS], ln[TE]):
            return "REVIEW"
    return None

"""Conferencing 14015 / 14016 / 14017 (seed-rules.md 2.5). R52/R53 (units per day / CY) are
limits.csv rows; R11 pairs are same_day.csv rows."""
from __future__ import annotations

from teleproc.trace import line_ref

from ..history import TE, TS
from .base import overlaps, rule


@rule("R50", fees="@conference_codes")
def time_units(c, k):
    """R50 - start and end times are required and give the units: one per 15 minutes or major
    portion (more than 7.5 minutes of a partial block). Blank units -> the time's units; more
    units than the time allows -> reduced (ADJUSTED)."""
    minutes = c.minutes()
    if minutes is None or minutes <= 0:
        return c.why("TIME_REQUIRED", {"start": c.ts if c.ts is not None else "none",
                                       "finish": c.te if c.te is not None else "none"})
    allowed = minutes // 15 + (1 if minutes % 15 * 2 > 15 else 0)
    if allowed == 0:
        return c.why("TIME_REQUIRED", {"minutes": minutes, "allowed": 0})
    if c.units == 0:
        c.units = allowed
    elif c.units > allowed:
        c.adjust("R50", "UNITS_REDUCED", {"minutes": minutes, "allowed": allowed, "billed_units": c.units})
        c.units = allowed
    return None


@rule("R51", fees="@conference_codes")
def diagnosis(c, k):
    """R51 - dx1 required: V15 (frail elderly, over 69), V58, or any non-V ICD-9 (mental illness
    or a major disorder); another V-code is invalid (V28 on 14016 with policy
    accept_v28_for_14016, A10)."""
    dx = c.claim.dx1
    if not dx:
        return c.why("DX_REQUIRED", {"fee": c.fee})
    if not dx.startswith("V"):
        return None
    accepted = k.tables.sets["conference_dx"]
    if k.policy.accept_v28_for_14016 and c.fee == "14016":
        accepted = accepted | {"V28"}
    code = next((a for a in accepted if dx.startswith(a)), None)
    if code is None:
        return c.why("DX_INVALID", {"fee": c.fee, "dx1": dx, "expected": sorted(accepted)})
    for band in k.tables.band_for("conference_dx", code):
        age = c.age()
        if age is None or not band.age_min <= age <= band.age_max:
            return c.why("AGE_SEX", {"dx1": dx, "age": "unknown" if age is None else age,
                                     "band": f"{band.age_min}-{band.age_max}"})
    return None


@rule("R55", fees="@facility_conference_codes @acute_conference_codes")
def setting(c, k):
    """R55 - 14015 is for a facility patient (refused at a community location: office types,
    patient's residence); 14017 is held in an acute care facility (inpatient, emergency, day
    care). 14016 (community) is general R14. Blank location: no check. The codes: code_sets
    facility_conference_codes, acute_conference_codes."""
    loc = c.claim.location
    sets = k.tables.sets
    if c.fee in sets["facility_conference_codes"] and loc in sets["community_locations"]:
        return c.why("LOCATION", {"location": loc, "fee": c.fee})
    if c.fee in sets["acute_conference_codes"] and loc and loc not in sets["acute_locations"]:
        return c.why("LOCATION", {"location": loc, "fee": c.fee})
    return None


@rule("R54", fees="@conference_codes")
def no_overlap(c, k):
    """R54 - a practitioner's conferences never overlap: another paid conference of the same
    practitioner that DOS (any patient) whose [start, end) overlaps -> refused."""
    if c.ts is None or c.te is None:
        return None
    for ln in k.hist.practitioner_paid(c.prac, k.tables.sets["conference_codes"], c.ymd, c.ymd):
        if ln[TS] is not None and ln[TE] is not None and overlaps(c.ts, c.te, ln[TS], ln[TE]):
            return c.why("TIME_OVERLAP", {"line": line_ref(ln), "times": f"{c.ts:04d}-{c.te:04d}",
                                          "other_times": f"{ln[TS]:04d}-{ln[TE]:04d}"})
    return None


@rule("R56", fees="@conference_codes @visit_codes")
def not_concurrent(c, k):
    """R56 - a visit and a conference of the same practitioner, patient and day whose times
    overlap: the one decided second is held for review (consecutive ones are fine; no times, no
    check). Mirrored by the S01 lane (lane.py): it takes no claim with times."""
    if c.ts is None or c.te is None:
        return None
    sets = k.tables.sets
    other = sets["visit_codes"] if c.fee in sets["conference_codes"] else sets["conference_codes"]
    for ln in k.hist.paid(c.phn, other, c.ymd, c.ymd, c.prac):
        if ln[TS] is not None and ln[TE] is not None and overlaps(c.ts, c.te, ln[TS], ln[TE]):
            return c.why("REVIEW", {"line": line_ref(ln), "times": f"{c.ts:04d}-{c.te:04d}",
                                    "other_times": f"{ln[TS]:04d}-{ln[TE]:04d}"})
    return None

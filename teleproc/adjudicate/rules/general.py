"""General rules (seed-rules.md 2.1) and the table-driven ones every program shares: same-day
pairs (R11), prerequisites and companions (R10), caps (limits.csv) and exact duplicates."""
from __future__ import annotations

from teleproc.store import from_ymd, ymd

from teleproc.trace import line_ref

from ..history import DOS, OPEN_END, PAYEE, PUNITS, STATUS, bounds, dup_text
from .base import rule


# --- 1. fee known and effective, structure ---------------------------------------------------------
@rule("R07", fees=lambda t: t.fees)
def fee_effective(c, k):
    """R07 - a fee item the seeds only name (14044, 14053, 14075) or retired (14030-14032, 13136)
    is UNKNOWN_FEE; a DOS outside the schedule's effective dates, or a claim received before the
    item became billable (14034, CDM), is NOT_EFFECTIVE. Mirrored by the S01 lane (lane.py)."""
    spec = c.spec
    if spec.status != "active":
        return c.why("UNKNOWN_FEE", {"fee": c.fee, "status": spec.status})
    if spec.cents_on(c.ymd) is None:
        return c.why("NOT_EFFECTIVE", {"fee": c.fee, "dos": c.ymd,
                                       "effective": [f"{lo}-{hi}" for lo, hi, _ in spec.prices]})
    if c.received < spec.billable_from:
        return c.why("NOT_EFFECTIVE", {"fee": c.fee, "received": c.received, "billable_from": spec.billable_from})
    return None


@rule("R30")
def pseudo_phn(c, k):
    """R30 (reverse check, implementation choice) - the maternity network pseudo-PHN 9824870522 carries
    fee 14010 only (code_sets maternity_phn, maternity_codes). Mirrored by the S01 lane (lane.py)."""
    if c.phn in k.tables.sets["maternity_phn"] and c.fee not in k.tables.sets["maternity_codes"]:
        return c.why("FIXED_FIELD_MISMATCH", {"fee": c.fee, "field": "phn", "pseudo_phn": "maternity"})
    return None


@rule("R13")
def received_before_dos(c, k):
    """R13 / R32 - a claim received before its DOS is refused (explicit for 14010, code_sets
    future_dos_codes; for every code when refuse_future_dos). Policy submission_period_days > 0 also
    refuses claims received that many days after the DOS (the seeds state no period; off by
    default). Mirrored by the S01 lane (lane.py), which is off when a submission period is set."""
    if c.ymd > c.received and (k.policy.refuse_future_dos or c.fee in k.tables.sets["future_dos_codes"]):
        return c.why("RECEIVED_BEFORE_DOS", {"dos": c.ymd, "received": c.received})
    days = k.policy.submission_period_days
    if days and c.dos.toordinal() + days < from_ymd(c.received).toordinal():
        return c.why("BEYOND_SUBMISSION_PERIOD", {"dos": c.ymd, "received": c.received, "days": days})
    return None


@rule("R09", fees=lambda t: [f for f, s in t.fees.items() if s.min_minutes])
def minimum_time(c, k):
    """R09 - when the claim carries start and end times, the service lasted at least the fee's
    minimum (14043 30, 14045-14048 20, 14063 30 minutes; fee_schedule.csv min_minutes)."""
    minutes = c.minutes()
    if minutes is not None and minutes < c.spec.min_minutes:
        return c.why("TIME_SHORT", {"minutes": minutes, "min": c.spec.min_minutes})
    return None


# --- 2. practitioner -----------------------------------------------------------------------------------
@rule("R01", fees="@gpsc_codes")
def specialty(c, k):
    """R01 - GPSC codes need registered specialty 00 (code_sets gp_specialties; registry;
    unknown passes)."""
    p = k.registry.practitioner(c.prac)
    if p is not None and p.specialty is not None and p.specialty not in k.tables.sets["gp_specialties"]:
        return c.why("PRACT_SPECIALTY", {"practitioner": c.prac, "specialty": p.specialty, "source": "registry"})
    return None


@rule("R02", fees="@gpsc_codes")
def specialty_consultation(c, k):
    """R02 - no specialty consultation fee (code_sets specialty_consult_codes) paid to the
    practitioner in the 12 months before the DOS (policy spec_consult_basis=billed counts any
    billed one), nor registry access to such fees (A16)."""
    p = k.registry.practitioner(c.prac)
    if p is not None and p.specialty_consult_access:
        return c.why("PRACT_SPEC_CONSULT", {"practitioner": c.prac, "source": "registry",
                                            "flag": "specialty_consult_access"})
    consult = k.tables.sets["specialty_consult_codes"]
    if consult:
        lo, hi = bounds("12m", c.ymd)
        billed_counts = k.policy.spec_consult_basis == "billed"
        for ln in k.hist.practitioner_lines(c.prac, consult, lo, hi):
            if billed_counts or k.hist.is_paid(ln):
                return c.why("PRACT_SPEC_CONSULT", {"line": line_ref(ln), "period": "12m"})
    return None


@rule("R03", fees="@gpsc_codes")
def payment_arrangement(c, k):
    """R03 - salary / service-contract / sessional and facility-contracted practitioners are
    excluded: always for conferencing (plus hospitalists); for the other GPSC codes when their
    duties include the care (health-authority employment too for 14063/14069). Obstetric,
    maternity network and CDM codes are explicitly allowed (code_sets arrangement_*)."""
    p = k.registry.practitioner(c.prac)
    sets = k.tables.sets
    if p is None or c.fee in sets["arrangement_allowed"]:
        return None
    if c.fee in sets["arrangement_strict"]:
        if p.non_ffs or p.facility_contract or p.hospitalist:
            return c.why("PRACT_ARRANGEMENT", _arrangement(c, p))
        return None
    employed = p.non_ffs or p.facility_contract or (
        c.fee in sets["health_authority_codes"] and p.health_authority_employed)
    if employed and p.duties:
        return c.why("PRACT_ARRANGEMENT", _arrangement(c, p))
    return None


def _arrangement(c, p) -> dict:
    flags = [n for n in ("facility_contract", "health_authority_employed", "hospitalist") if getattr(p, n)]
    if p.duties:
        flags.append("duties_include_care")
    return {"practitioner": c.prac, "source": "registry", "payment_arrangement": p.arrangement or "unknown",
            "flags": flags}


# --- 3. patient ------------------------------------------------------------------------------------------
@rule("R05", fees="@oop_never @oop_not_quebec")
def out_of_province(c, k):
    """R05 / R25 - other-province patients: never for 14015/14016; obstetric bonuses for every
    province except Quebec. (CDM border patients: cdm.border_patient.)"""
    province = c.claim.province
    if province is None:
        return None
    sets = k.tables.sets
    if c.fee in sets["oop_never"] or province in sets["quebec"]:
        return c.why("OOP_NOT_ELIGIBLE", {"province": province, "fee": c.fee})
    return None


@rule("R14", fees="@community_only")
def residence(c, k):
    """R14 - community-only codes are refused for a patient in a care facility: a facility service
    location (C continuing care, I inpatient) or a registry residence in code_sets
    ``facility_residences`` (care_facility); 14033 (``complex_care_location_codes``) only in the
    office, the home or assisted living (code_sets complex_care_locations)."""
    sets = k.tables.sets
    loc = c.claim.location
    if loc in sets["facility_locations"]:
        return c.why("LOCATION", {"location": loc, "fee": c.fee})
    patient = k.registry.patient(c.phn)
    if patient is not None and patient.residence in sets["facility_residences"]:
        return c.why("LOCATION", {"residence": patient.residence, "source": "registry", "fee": c.fee})
    if c.fee in sets["complex_care_location_codes"] and loc and loc not in sets["complex_care_locations"]:
        return c.why("LOCATION", {"location": loc, "fee": c.fee})
    return None


# --- 4. prerequisites and companions ---------------------------------------------------------------------
def _in_period(p, c, ymd: int) -> bool:
    if p.period == "day":
        return ymd == c.ymd
    if p.period == "cy":
        return ymd // 10000 == c.ymd // 10000
    return ymd <= c.ymd                 # before


def _period(p, c) -> tuple[int, int]:
    """The DOS bounds of ``_in_period``: the history lines R10 reads."""
    if p.period == "day":
        return c.ymd, c.ymd
    if p.period == "cy":
        y = c.ymd // 10000 * 10000
        return y, y + 9999
    return 0, c.ymd


@rule("R10", fees=lambda t: t.prereqs)
def prerequisites(c, k):
    """R10 with R20 (obstetric bonus <- delivery), R61 (14033 <- same-day visit), R64 (14039 <-
    14033 this CY), R77 (14069 <- 14063), R87 (14045-14049 <- 14043 this CY), from
    prerequisites.csv. A paid requirement passes; one held, or billed in this file and not
    decided yet, holds the claim (BH); otherwise refused (never billed / refused)."""
    hist = k.hist
    for p in k.tables.prereqs[c.fee]:
        prac = None if (p.note_delegate and c.claim.has_note) else c.prac
        seen = []
        seen_refused = pending = debited = False
        lo, hi = _period(p, c)
        for ln in hist.lines(c.phn, p.requires, lo, hi, prac):
            if hist.is_paid(ln):
                break
            if hist.is_pending(ln):
                pending = True
                seen.append(line_ref(ln))
            elif ln[STATUS] == "REFUSED":
                seen_refused = True
                seen.append(line_ref(ln))
            elif hist.is_reversed(ln):
                debited = True          # paid, then reversed by a debit: neither paid nor pending (0.2)
                seen.append(line_ref(ln))
        else:
            facts = {"requires": sorted(p.requires), "period": p.period,
                     "scope": "patient" if prac is None else "practitioner"}
            if seen:
                facts["line"] = seen
            if pending:
                return c.fail(p.rule, "PREREQ_PENDING", facts)
            if _billed_in_file(p, c, k, prac):
                facts["waits_for"] = "this_file"
                return c.fail(p.rule, "PREREQ_PENDING", facts)
            if debited:                  # the trace says why a paid prerequisite is not
                c.adjust(p.rule, "PREREQ_DEBITED", {"line": [r for r in seen]})
            return c.fail(p.rule, p.if_refused if seen_refused or debited else p.if_missing, facts)
    return None


def _billed_in_file(p, c, k, prac) -> bool:
    for other in k.hist.undecided(c.phn):
        if (other.line_no == c.claim.line_no or other.fee not in p.requires
                or (prac is not None and other.practitioner != prac)):
            continue
        if other.dos is not None and _in_period(p, c, ymd(other.dos)):
            return True
    return False


@rule("MIN", fees=lambda t: t.minimums)
def history_minimums(c, k):
    """History prerequisites of limits.csv (measure minimum): R42 - a CDM fee needs >= 2 paid
    visits or accepted visit encounters in the prior 12 months (DOS from policy
    cdm_two_visits_from unless cdm_two_visits_always; whose visits: policy cdm_visit_scope);
    R88 - 14045-14048 need the 4 counselling visits of the CY used, up to the DOS."""
    pol = k.policy
    for lim in k.tables.minimums[c.fee]:
        lo, hi = bounds(lim.period, c.ymd)
        hi = min(hi, c.ymd)
        prac = None
        if lim.rule == "R42":
            if c.dos < pol.cdm_two_visits_from and not pol.cdm_two_visits_always:
                continue
            prac = c.prac if pol.cdm_visit_scope == "practitioner" else None
        lines = k.hist.paid(c.phn, lim.counted, lo, hi, prac)
        if lim.rule == "R42" and pol.cdm_visit_scope == "payee":
            lines = [ln for ln in lines if ln[PAYEE] == c.payee]
        if len(lines) < lim.max:
            facts = {"found": len(lines), "min": lim.max, "from": lo, "to": hi}   # counted: limits.csv row
            if lines:
                facts["line"] = [line_ref(ln) for ln in lines]
            return c.fail(lim.rule, lim.finding, facts)
    return None


# --- 5. exact duplicates -------------------------------------------------------------------------------
@rule("DUP")
def duplicate(c, k):
    """Exact duplicate (issue 3): same practitioner, PHN, DOS, fee item and units (and, for a fee
    billed by time, code_sets.csv ``time_based``, the same start and finish times) as a line
    already paid (HV, "previously processed") or held (FB, "identical claim being processed"),
    so the same submission processed twice pays nothing twice. Mirrored by the S01 lane
    (lane.py, through History.add_text: the same key)."""
    hist = k.hist
    day, fee, prac, units, ts, te = c.ymd, c.fee, c.prac, c.billed_units, c.ts, c.te
    timed = fee in hist.time_based
    text = dup_text(prac, c.phn, day, fee, units, (ts, te) if timed else None)
    if not hist.known(c.phn, hash(text), day, timed, text):
        return None                    # no line shares the key: nothing to compare
    for ln in hist.lines(c.phn, None, day, day, prac):     # a duplicate has the claim's DOS
        if hist.same_service(ln, prac, day, fee, units, ts, te):
            if hist.is_paid(ln):
                return c.why("DUPLICATE", {"line": line_ref(ln)})
            if hist.is_pending(ln):
                return c.why("DUPLICATE_IN_PROCESS", {"line": line_ref(ln)})
    return None


# --- 6. same day ---------------------------------------------------------------------------------------
@rule("R11", fees=lambda t: t.same_day)
def same_day(c, k):
    """R11 (with the directional R66, R79 and the pairs of R91) - the same-day matrix of
    seed-rules 1.4, as same_day.csv rows. Symmetric pairs: a paid other fee for the PHN (or the
    practitioner's own, for P cells) that DOS refuses this one. Directional rows: this fee is
    refused whenever the other is paid that day or billed anywhere in the group."""
    hist = k.hist
    pall_scope_patient = k.policy.pall_phone_visit_scope == "patient"
    for sd in k.tables.same_day[c.fee]:
        per_prac = sd.per_practitioner and not (sd.rule == "R79" and pall_scope_patient)
        scope = "practitioner" if per_prac else "patient"
        paid = hist.paid(c.phn, sd.other, c.ymd, c.ymd, c.prac if per_prac else None)
        if paid:
            return c.fail(sd.rule, sd.finding, {"line": line_ref(paid[0]), "scope": scope})
        if sd.directional and k.group:
            for g in k.group:
                if g is not c.claim and g.fee in sd.other and (not per_prac or g.practitioner == c.prac):
                    return c.fail(sd.rule, sd.finding, {"group_fee": g.fee, "group_line": g.line_no, "scope": scope})
    return None


# --- 7. caps ------------------------------------------------------------------------------------------
def _plan_bounds(k, c, anchor: str) -> tuple[int, int] | None:
    """Since the latest paid ``anchor`` (R78: the palliative plan) on or before the DOS."""
    starts = [ln[DOS] for ln in k.hist.paid(c.phn, (anchor,), 0, c.ymd)]
    return (max(starts), OPEN_END) if starts else None


@rule("CAP", fees=lambda t: t.limits)
def caps(c, k):
    """Caps of limits.csv, per patient then per practitioner: R23 (25 obstetric bonuses per
    practitioner per CY), R33 (one 14010 per practitioner per quarter), R41 (one CDM fee per code
    per patient per rolling 12 months), R52/R53 (conference units per patient per day / CY),
    R62, R65, R71, R85, R89, R90 (per patient per CY), R63 (5 x 14033 per practitioner per day,
    registry waiver), R72 (30 x 14034 per practitioner per CY), R78 (5 x 14069 per plan).
    Counted: paid lines not reversed; a claim over a units cap is reduced to what is left."""
    pol = k.policy
    for lim in k.tables.limits[c.fee]:
        if lim.waiver:
            p = k.registry.practitioner(c.prac)
            if p is not None and getattr(p, lim.waiver):
                continue
        fees = lim.counted
        conference = lim.rule in ("R52", "R53")
        if conference and pol.conf_cap_shared:
            fees = k.tables.sets["conference_codes"]
        if lim.period == "plan":
            span = _plan_bounds(k, c, lim.anchor)
            if span is None:
                continue
            lo, hi = span
        else:
            lo, hi = bounds(lim.period, c.ymd)
        if lim.per_practitioner:
            lines = k.hist.practitioner_paid(c.prac, fees, lo, hi)
        else:
            prac = c.prac if conference and pol.conf_cap_scope == "practitioner" else None
            lines = k.hist.paid(c.phn, fees, lo, hi, prac)
        units = lim.measure == "units"
        used = sum(ln[PUNITS] for ln in lines) if units else len(lines)
        left = lim.max - used
        if left <= 0 or (units and c.units > left):
            facts = {"measure": lim.measure, "used": used, "max": lim.max, "period": lim.period,
                     "scope": "practitioner" if lim.per_practitioner else "patient", "from": lo, "to": hi}
            if lines:
                facts["line"] = [line_ref(ln) for ln in lines[-5:]]
            if left <= 0:
                return c.fail(lim.rule, lim.finding, facts)
            facts["billed_units"] = c.units
            c.units = left
            c.adjust(lim.rule, lim.finding, facts)
    return None

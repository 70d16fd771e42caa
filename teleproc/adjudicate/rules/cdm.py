"""Chronic disease management 14050 / 14051 / 14052 (seed-rules.md 2.4). R41 (once per code per
12 months) is a limits.csv row, R42 (two visits) a limits.csv minimum."""
from __future__ import annotations

from teleproc.tables import code_set

from teleproc.trace import line_ref

from ..history import DOS, DX1, KIND, PFEE, PRAC, bounds
from .base import rule
from .general import fee_effective


def _dx_ok(c, k, wanted) -> bool:
    dxs = c.claim.dx if k.policy.dx_any_position else (c.claim.dx1,)
    return any(dx.startswith(w) for dx in dxs if dx for w in wanted)


def majority_of_care(c, k, facts: dict | None = None) -> bool:
    """Whether the billing practitioner gave more than half of the patient's FP service-days in
    (DOS - 12 months, DOS] (section 3 counting: paid FFS lines, MSOC-excluded fees left out, one
    service per practitioner per day)."""
    lo, hi = bounds("12m", c.ymd)
    excluded = code_set("msoc_exclusions")
    days = {(ln[PRAC], ln[DOS]) for ln in k.hist.lines(c.phn, None, lo, hi)
            if ln[KIND] == "ffs" and k.hist.is_paid(ln) and ln[PFEE] not in excluded}
    mine = sum(1 for pr, _ in days if pr == c.prac)
    if facts is not None:
        facts.update(own_days=mine, all_days=len(days), **{"from": lo, "to": hi})
    return 2 * mine > len(days)


@rule("R45", fees=lambda t: t.recodes)
def transition_13050(c, k):
    """R45 - 13050 from DOS 2006-04-01, by received date (recodes.csv): received May 5 - June 6
    2006 -> paid as 14050/14051 by dx1 (ADJUSTED; MSP held and adjusted these itself); received
    April 1 - May 4 2006 -> refused, or honoured with policy legacy_13050 = pay; later refused.
    Earlier DOS: the ordinary effective-date check (R07)."""
    rows = k.tables.recodes[c.fee]
    if c.ymd < min(r.dos_from for r in rows):
        return fee_effective(c, k)
    for r in rows:
        if r.dos_from <= c.ymd and r.received_from <= c.received <= r.received_to and (
                not r.dx or any(c.claim.dx1.startswith(d) for d in r.dx)):
            if r.paid_as == c.fee:
                return None if k.policy.legacy_13050 == "pay" else c.why(
                    "NOT_EFFECTIVE", {"fee": c.fee, "received": c.received, "policy": "legacy_13050"})
            c.paid_fee = r.paid_as
            c.adjust(r.rule, "FEE_RECODED", {"fee": c.fee, "paid_as": r.paid_as, "received": c.received,
                                             "dx1": c.claim.dx1})
            return None
    return c.why("NOT_EFFECTIVE", {"fee": c.fee, "dos": c.ymd, "received": c.received})


@rule("R05", fees="@cdm_codes")
def border_patient(c, k):
    """R05 (CDM) - other-province patients only from Alberta or Yukon, and then only when the
    billing practitioner gives the majority of care (policy cdm_border_policy: compute the share
    of service-days, or hold for review)."""
    province = c.claim.province
    if province is None:
        return None
    if province not in k.tables.sets["cdm_border_provinces"]:
        return c.why("OOP_NOT_ELIGIBLE", {"province": province, "fee": c.fee})
    if k.policy.cdm_border_policy == "review":
        return c.why("REVIEW", {"province": province, "policy": "cdm_border_policy"})
    facts = {"province": province}
    return None if majority_of_care(c, k, facts) else c.why("OOP_NOT_ELIGIBLE", facts)


@rule("R40", fees="@cdm_codes")
def diagnosis(c, k):
    """R40 - 14050 needs dx 250, 14051 428, 14052 401 (prefix match on dx1, R06)."""
    if not c.claim.dx1:
        return c.why("DX_REQUIRED", {"fee": c.fee})
    if not _dx_ok(c, k, k.tables.sets["cdm_dx_" + c.fee]):
        return c.why("DX_INVALID", {"fee": c.fee, "dx1": c.claim.dx1,
                                    "expected": sorted(k.tables.sets["cdm_dx_" + c.fee])})
    return None


@rule("R43", fees="@htn_codes")
def hypertension_excluded(c, k):
    """R43 - no 14052 when 14050 or 14051 (code_sets htn_excluding_codes) was paid for the patient in
    the prior 12 months (policy htn_dx_history_check: nor any paid claim there with dx1 250 / 428)."""
    lo, hi = bounds("12m", c.ymd)
    paid = k.hist.paid(c.phn, k.tables.sets["htn_excluding_codes"], lo, hi)
    if paid:
        return c.why("CAP_PATIENT_12M", {"line": line_ref(paid[0]), "from": lo, "to": hi})
    if k.policy.htn_dx_history_check:
        dxs = k.tables.sets["hypertension_excluding_dx"]
        for ln in k.hist.lines(c.phn, None, lo, hi):
            if k.hist.is_paid(ln) and any((ln[DX1] or "").startswith(d) for d in dxs):
                return c.why("CAP_PATIENT_12M", {"line": line_ref(ln), "dx1": ln[DX1], "from": lo, "to": hi})
    return None


@rule("R44", fees="@cdm_13050_successors")
def after_13050(c, k):
    """R44 - a 13050 (code_sets cdm_13050_codes) paid in the prior 12 months for the same condition
    (its dx1 starting 250 for 14050, 428 for 14051, or no dx) blocks the new code."""
    lo, hi = bounds("12m", c.ymd)
    wanted = k.tables.sets["cdm_dx_" + c.fee]
    for ln in k.hist.paid(c.phn, k.tables.sets["cdm_13050_codes"], lo, hi):
        dx = ln[DX1] or ""
        if not dx or any(dx.startswith(w) for w in wanted):
            return c.why("CAP_PATIENT_12M", {"line": line_ref(ln), "from": lo, "to": hi})
    return None


@rule("R46", fees="@cdm_codes")
def majority_check(c, k):
    """R46 - optional (policy cdm_majority_check): hold for review when the practitioner gave no
    majority of the patient's care in the prior 12 months."""
    facts: dict = {}
    if k.policy.cdm_majority_check and not majority_of_care(c, k, facts):
        return c.why("REVIEW", facts)
    return None

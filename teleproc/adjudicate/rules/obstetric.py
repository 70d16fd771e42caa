"""Obstetrical premium 14004 / 14008 / 14009 (seed-rules.md 2.2). R20 (companion) is a
prerequisites.csv row, R23 (25 a year) a limits.csv row, R25 (Quebec) part of general R05."""
from __future__ import annotations

from teleproc.store import from_ymd

from teleproc.trace import line_ref

from ..history import DOS
from .base import rule


@rule("R04", fees="@delivery_codes")
def encounter_only(c, k):
    """R04 - a salary / service-contract / sessional GP sends 14104/14108/14109 as an encounter
    record (accepted at $0, and it counts as the bonus companion); a fee-for-service claim for
    them is refused."""
    p = k.registry.practitioner(c.prac)
    if p is not None and p.non_ffs and not c.encounter:
        return c.why("PRACT_ARRANGEMENT", {"practitioner": c.prac, "source": "registry",
                                           "payment_arrangement": p.arrangement, "mode": "fee-for-service"})
    return None


@rule("R24", fees="@obstetric_bonus")
def er_physician(c, k):
    """R24 - an emergency-room physician who did not share the maternity care gets no bonus
    (registry er_physician)."""
    p = k.registry.practitioner(c.prac)
    if p is not None and p.er_physician:
        return c.why("PRACT_ROLE", {"practitioner": c.prac, "source": "registry", "flag": "er_physician"})
    return None


@rule("R21", fees="@obstetric_bonus")
def diagnosis(c, k):
    """R21 - the bonus claim carries an ICD-9 code; any code will do (A14)."""
    if not c.claim.dx1:
        return c.why("DX_REQUIRED", {"fee": c.fee})
    return None


@rule("R22", fees="@obstetric_bonus")
def one_per_delivery(c, k):
    """R22 - one bonus per patient delivered, whoever bills it: a paid bonus for the PHN within
    policy delivery_window_days of this DOS is the same delivery (multiple births included)."""
    window = k.policy.delivery_window_days
    day = c.dos.toordinal()
    for ln in k.hist.paid(c.phn, k.tables.sets["obstetric_bonus"]):
        if abs(from_ymd(ln[DOS]).toordinal() - day) < window:
            return c.why("DUPLICATE", {"line": line_ref(ln), "window_days": window})
    return None

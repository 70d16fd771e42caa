"""Palliative care 14063 / 14069 (seed-rules.md 2.8). R77 is a prerequisites.csv row, R78 a
limits.csv row, R79 a same_day.csv row."""
from __future__ import annotations

from teleproc.trace import line_ref

from ..history import PRAC
from .base import rule


@rule("R80", fees="@palliative_codes")
def benefits(c, k):
    """R80 - the patient is eligible for the BC Palliative Care Benefits Program (patient
    registry; unknown passes; policy pall_benefits_check)."""
    if not k.policy.pall_benefits_check:
        return None
    patient = k.registry.patient(c.phn)
    if patient is not None and patient.palliative_eligible is False:
        return c.why("PATIENT_INELIGIBLE", {"source": "registry", "flag": "palliative_eligible"})
    return None


@rule("R75", fees="@palliative_block")
def after_plan(c, k):
    """R75 - once a 14063 (code_sets palliative_plan) is paid for the patient (DOS on or before this
    one, the same day included, A39), no CDM, complex care or CV fee is payable."""
    paid = k.hist.paid(c.phn, k.tables.sets["palliative_plan"], 0, c.ymd)
    if paid:
        return c.why("AFTER_PALLIATIVE", {"line": line_ref(paid[0])})
    return None


@rule("R76", fees="@palliative_plan")
def once_per_patient(c, k):
    """R76 - 14063 once per patient: again by the same practitioner -> refused; by another
    (the patient may have moved communities) -> policy palliative_second_gp (default review)."""
    paid = k.hist.paid(c.phn, k.tables.sets["palliative_plan"])
    mine = [ln for ln in paid if ln[PRAC] == c.prac]
    if mine:
        return c.why("CAP_PATIENT_LIFETIME", {"line": line_ref(mine[0])})
    if paid:
        choice = k.policy.palliative_second_gp
        facts = {"line": line_ref(paid[0]), "policy": "palliative_second_gp"}
        if choice == "review":
            return c.why("REVIEW", facts)
        if choice == "refuse":
            return c.why("CAP_PATIENT_LIFETIME", facts)
    return None

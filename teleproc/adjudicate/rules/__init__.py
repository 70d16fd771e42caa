"""The adjudication rules, one module per program, run in ONE order (seed-rules.md section 2,
"Suggested evaluation order"): the first rule that returns a finding decides the claim (refused,
or held, as finding_codes.csv says); a rule may instead reduce units or recode the fee and let the
claim go on. Pricing (R12, R35, R95's $0) is the engine's last step, from fee_schedule.csv.

Each rule declares the fee items it applies to; the engine keeps, per fee item, only the rules
that apply, in this order, so an office visit meets a handful of cheap checks.
"""
from . import (attachment, cdm, complex_care, conferencing, general, maternity, mental_health,
               obstetric, palliative, prevention)
from .base import Case, Context, rule

ORDER = (
    # 1. fee known and effective, fixed fields and structure
    general.fee_effective,              # R07
    cdm.transition_13050,               # R45
    general.pseudo_phn,                 # R30 (reverse)
    maternity.fixed_fields,             # R30
    maternity.quarter_end,              # R31
    general.received_before_dos,        # R13 R32
    conferencing.time_units,            # R50
    general.minimum_time,               # R09
    # 2. practitioner eligibility
    general.specialty,                  # R01
    general.specialty_consultation,     # R02
    general.payment_arrangement,        # R03
    obstetric.encounter_only,           # R04
    obstetric.er_physician,             # R24
    maternity.network_member,           # R34
    # 3. patient eligibility and diagnosis
    general.out_of_province,            # R05 R25
    cdm.border_patient,                 # R05 (AB/YT)
    general.residence,                  # R14
    conferencing.setting,               # R55
    palliative.benefits,                # R80
    prevention.age_sex,                 # R70
    mental_health.age_band,             # R86
    obstetric.diagnosis,                # R21
    cdm.diagnosis,                      # R40
    conferencing.diagnosis,             # R51
    complex_care.diagnosis,             # R60
    # 4. companions and prerequisites (may hold: BH)
    general.prerequisites,              # R10 R20 R61 R64 R77 R87
    general.history_minimums,           # R42 R88
    # 5. history blocks
    general.duplicate,                  # exact duplicates
    obstetric.one_per_delivery,         # R22
    cdm.hypertension_excluded,          # R43
    cdm.after_13050,                    # R44
    palliative.after_plan,              # R75
    palliative.once_per_patient,        # R76
    cdm.majority_check,                 # R46
    # 6. same-day conflicts
    general.same_day,                   # R11 R66 R79
    mental_health.phone_same_day,       # R91
    conferencing.no_overlap,            # R54
    conferencing.not_concurrent,        # R56
    # 7. caps, per patient then per practitioner
    general.caps,                       # R23 R33 R41 R52 R53 R62 R63 R65 R71 R72 R78 R85 R89 R90
    # 8. PAS attachment ($0 pricing is the engine's)
    attachment.panel,                   # R95 R96 R97
)


def rules_for(tables) -> tuple[dict, tuple]:
    """(fee -> its rules in ORDER, the rules for a fee outside the schedule)."""
    applies = {}
    for r in ORDER:
        fees = r.fees
        if fees == "*":
            applies[r] = None
        elif callable(fees):
            applies[r] = frozenset(fees(tables))
        else:
            applies[r] = tables.expand(fees)
    every = set(tables.fees)
    for fees in applies.values():
        if fees:
            every |= fees
    per_fee = {fee: tuple(r for r in ORDER if applies[r] is None or fee in applies[r]) for fee in every}
    return per_fee, tuple(r for r in ORDER if applies[r] is None)


__all__ = ["ORDER", "rules_for", "Case", "Context", "rule"]

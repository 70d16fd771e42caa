"""Complex care 14033 / 14039 (seed-rules.md 2.6). R61/R64 are prerequisites.csv rows, R62, R63,
R65 limits.csv rows, R66 a same_day.csv row."""
from __future__ import annotations

from .base import rule


@rule("R60", fees="@complex_care_plan_codes")
def diagnosis(c, k):
    """R60 - dx1 is one of the 28 Table-1 combination codes (exact match), or an alias of one
    from policy complex_dx_aliases (e.g. A250 -> R250, A13)."""
    dx = c.claim.dx1
    if not dx:
        return c.why("DX_REQUIRED", {"fee": c.fee})
    dx = k.policy.complex_dx_aliases.get(dx, dx)
    if dx not in k.tables.sets["complex_care_dx"]:
        return c.why("DX_INVALID", {"fee": c.fee, "dx1": c.claim.dx1, "expected": "complex_care_dx(Table_1)"})
    return None

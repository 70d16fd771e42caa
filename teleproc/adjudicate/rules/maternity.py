"""Maternity network quarterly payment 14010 (seed-rules.md 2.3). R32 is general R13, R33 a
limits.csv row, R35 the effective-dated amounts of fee_schedule.csv."""
from __future__ import annotations

from .base import rule

QUARTER_ENDS = frozenset({331, 630, 930, 1231})   # month * 100 + day (R31: last day of a calendar quarter)


@rule("R30", fees="@maternity_codes")
def fixed_fields(c, k):
    """R30 - fixed claim values: PHN 9824870522, dx1 V26, one unit; with policy
    maternity_name_strict also initial G, surname MATERNITY (the C02 carries its first letters)
    and, when present, DOB 1989-11-02 (code_sets maternity_*)."""
    sets, claim = k.tables.sets, c.claim
    if c.phn not in sets["maternity_phn"]:
        return c.why("FIXED_FIELD_MISMATCH", {"field": "phn", "expected": "maternity_pseudo_phn"})
    if not any(claim.dx1.startswith(d) for d in sets["maternity_dx"]):
        return c.why("FIXED_FIELD_MISMATCH", {"field": "dx1", "value": claim.dx1 or "blank",
                                              "expected": sorted(sets["maternity_dx"])})
    if c.billed_units != 1:
        return c.why("FIXED_FIELD_MISMATCH", {"field": "units", "value": c.billed_units, "expected": 1})
    if k.policy.maternity_name_strict:
        surname = claim.surname_prefix.upper()
        dob = claim.dob
        if (claim.initial.upper() not in sets["maternity_initial"]
                or not surname or not any(s.startswith(surname) for s in sets["maternity_surname"])
                or (dob is not None and dob.isoformat() not in sets["maternity_dob"])):
            return c.why("FIXED_FIELD_MISMATCH", {"field": "name_or_birth_date", "policy": "maternity_name_strict"})
    return None


@rule("R31", fees="@maternity_codes")
def quarter_end(c, k):
    """R31 - the DOS is the last day of a calendar quarter."""
    if c.ymd % 10000 not in QUARTER_ENDS:
        return c.why("DOS_NOT_QUARTER_END", {"dos": c.ymd})
    return None


@rule("R34", fees="@maternity_codes")
def network_member(c, k):
    """R34 - a registered network member for the whole quarter ending on the DOS (registry
    maternity_network, _from, _to; unknown passes)."""
    p = k.registry.practitioner(c.prac)
    if p is None:
        return None
    dos = c.dos
    start = dos.replace(month=dos.month - 2, day=1)
    if p.network_member(start, dos) is False:
        return c.why("NOT_REGISTERED", {"practitioner": c.prac, "source": "registry",
                                        "from": start.strftime("%Y%m%d"), "to": c.ymd})
    return None

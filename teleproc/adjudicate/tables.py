"""The adjudication tables of ``formats/tables/`` as lookups keyed the way the rules ask.

Fee schedule (effective-dated amounts), code sets, caps, same-day pairs, prerequisites, age bands
and the finding -> explanatory-code map are data a billing analyst can read; this module only
indexes them. Dates become ``YYYYMMDD`` integers (the store's form) so that a rule compares ints.
A code-set reference ``@name`` that does not exist, an unknown finding or a code that is not a
real MSP explanatory code is an error at load time, not a silent miss at run time.
"""
from __future__ import annotations


import attrs

from teleproc import data
from teleproc.tables import code_set, read_table

OPEN_END = 99991231


def ymd_text(s: str, default: int) -> int:
    """'2007-01-01' -> 20070101; blank -> ``default``."""
    s = s.strip()
    return int(s.replace("-", "")) if s else default


@attrs.frozen
class FeeSpec:
    fee: str
    status: str                 # active | retired | undefined
    prices: tuple               # ((from_ymd, to_ymd, cents), ...)
    per_15min: bool             # unit basis: 15 minutes or major portion (R50)
    billable_from: int          # first received date accepted (R07), 0 = any
    min_minutes: int            # R09 minimum, 0 = none
    program: str

    def cents_on(self, ymd: int) -> int | None:
        """Scheduled amount per unit for a DOS, None when no row covers it (R07, R35)."""
        for lo, hi, cents in self.prices:
            if lo <= ymd <= hi:
                return cents
        return None


@attrs.frozen
class Limit:
    rule: str
    counted: frozenset          # fee items counted
    per_practitioner: bool      # scope practitioner (else patient)
    period: str                 # day | quarter | cy | 12m | plan | lifetime
    max: int
    measure: str                # claims | units | minimum
    finding: str
    waiver: str                 # registry flag that lifts the cap
    anchor: str                 # period plan: the fee that starts the plan


@attrs.frozen
class SameDay:
    other: frozenset
    per_practitioner: bool
    directional: bool           # this fee is refused whatever the order within a group
    finding: str
    rule: str


@attrs.frozen
class Prereq:
    requires: frozenset
    note_delegate: bool         # another practitioner counts when the claim has a note
    period: str                 # day | cy | before
    if_missing: str
    if_refused: str
    rule: str


@attrs.frozen
class Recode:
    dos_from: int
    received_from: int
    received_to: int
    dx: frozenset               # dx1 must start with one of these; empty = any
    paid_as: str
    rule: str


@attrs.frozen
class Band:
    code: str
    sex: str                    # '' = any
    age_min: int
    age_max: int


@attrs.frozen
class Tables:
    fees: dict                  # fee -> FeeSpec
    sets: dict                  # name -> frozenset
    findings: dict              # mnemonic -> (msp_code, outcome)
    limits: dict                # fee -> (Limit, ...): caps (claims, units)
    minimums: dict              # fee -> (Limit, ...): history prerequisites (measure minimum)
    recodes: dict               # fee -> (Recode, ...)
    same_day: dict              # fee -> (SameDay, ...)
    prereqs: dict               # fee -> (Prereq, ...)
    bands: dict                 # band_set -> (Band, ...)
    programs: dict = attrs.Factory(dict)    # fee_schedule.csv program -> frozenset of its fee items

    def set(self, name: str) -> frozenset:
        return self.sets[name]

    def expand(self, expr: str) -> frozenset:
        """'14004 @visit_codes' -> the union of codes and named sets."""
        out: set = set()
        for tok in expr.split():
            if tok.startswith("@"):
                out |= self.sets[tok[1:]]          # a missing set: DataError (_Sets)
            else:
                out.add(tok)
        return frozenset(out)

    def band_for(self, band_set: str, code: str) -> tuple:
        return tuple(b for b in self.bands[band_set] if b.code == code)

    def practitioner_fees(self) -> frozenset:
        """The fees the rules count per practitioner (conference codes: time overlaps, R52/R53
        scope; specialty consultations: R02; the fees counted by the per-practitioner caps:
        R23, R33, R63, R72): the store keeps their lines by practitioner (``prac_lines``)."""
        return (self.sets["conference_codes"] | self.sets["specialty_consult_codes"]
                | frozenset(f for lims in self.limits.values() for lim in lims if lim.per_practitioner
                            for f in lim.counted))


def _fee_specs() -> dict:
    rows: dict[str, list] = {}
    for r in read_table("fee_schedule"):
        rows.setdefault(r["fee"], []).append(r)
    specs = {}
    for fee, rs in rows.items():
        first = rs[0]
        prices = tuple(sorted((ymd_text(r["effective_from"], 0), ymd_text(r["effective_to"], OPEN_END),
                               int(r["amount_cents"])) for r in rs))
        specs[fee] = FeeSpec(fee=fee, status=first["status"], prices=prices,
                             per_15min=first["unit_basis"] == "15min",
                             billable_from=ymd_text(first["billable_from"], 0),
                             min_minutes=int(first["min_minutes"] or 0), program=first["program"])
    return specs


@data.cached
def code_lists() -> dict[str, tuple[str, ...]]:
    """code_sets.csv: set name -> its codes in file order (a set with one blank code is declared
    but empty). Read once per data folder; the registry reads its value lists here too."""
    lists: dict[str, list] = {}
    for r in read_table("code_sets"):
        codes = lists.setdefault(r["set"], [])
        if r["code"] and r["code"] not in codes:
            codes.append(r["code"])
    return {k: tuple(v) for k, v in lists.items()}


def code_list(name: str) -> tuple[str, ...]:
    """The codes of set ``name`` of code_sets.csv in file order; a clear error when it is missing."""
    try:
        return code_lists()[name]
    except KeyError:
        raise data.DataError(f"tables/code_sets.csv: no set {name!r} (teleproc reads it; "
                             f"an override must keep every set of the packaged file)") from None


class _Sets(dict):
    """name -> frozenset; a name code_sets.csv does not hold is a DataError naming it (an override
    that dropped a set the rules read), not a KeyError traceback."""
    __slots__ = ()

    def __missing__(self, name):
        code_list(name)                 # raises the DataError


def _sets() -> dict:
    return _Sets((k, frozenset(v)) for k, v in code_lists().items())


def _findings() -> dict:
    real = code_set("explanatory_codes")
    out = {}
    for r in read_table("finding_codes"):
        if r["code"] and r["code"] not in real:
            raise ValueError(f"finding_codes.csv: {r['finding']} -> {r['code']} is not an MSP explanatory code")
        if r["outcome"] not in ("REFUSED", "HELD", "INFO"):
            raise ValueError(f"finding_codes.csv: {r['finding']}: bad outcome {r['outcome']!r}")
        out[r["finding"]] = (r["code"], r["outcome"])
    return out


def _programs(fees: dict) -> dict:
    out: dict[str, set] = {}
    for fee, spec in fees.items():
        out.setdefault(spec.program, set()).add(fee)
    return {k: frozenset(v) for k, v in out.items()}


def _by_fee(pairs) -> dict:
    out: dict[str, list] = {}
    for fees, item in pairs:
        for fee in fees:
            out.setdefault(fee, []).append(item)
    return {k: tuple(v) for k, v in out.items()}


@data.cached
def load_tables() -> Tables:
    t = Tables(fees=_fee_specs(), sets=_sets(), findings=_findings(), limits={}, minimums={},
               recodes={}, same_day={}, prereqs={}, bands={})
    known = t.findings
    limits, minimums, same_day, prereqs, recodes = [], [], [], [], []
    for r in read_table("limits"):
        fees = t.expand(r["fees"])
        lim = Limit(rule=r["rule"], counted=t.expand(r["counted"] or r["fees"]),
                    per_practitioner=r["scope"] == "practitioner", period=r["period"], max=int(r["max"]),
                    measure=r["measure"], finding=r["finding"], waiver=r["waiver"], anchor=r["anchor"])
        (minimums if lim.measure == "minimum" else limits).append((fees, lim))
    for r in read_table("recodes"):
        recodes.append(((r["fee"],), Recode(
            dos_from=ymd_text(r["dos_from"], 0), received_from=ymd_text(r["received_from"], 0),
            received_to=ymd_text(r["received_to"], OPEN_END),
            dx=t.sets[r["dx_set"]] if r["dx_set"] else frozenset(), paid_as=r["paid_as"], rule=r["rule"])))
    for r in read_table("same_day"):
        a, b = t.expand(r["fee"]), t.expand(r["other"])
        prac, directional = r["scope"] == "practitioner", r["refused"] == "fee"
        same_day.append((a, SameDay(b, prac, directional, r["finding"], r["rule"])))
        if not directional:
            same_day.append((b, SameDay(a, prac, False, r["finding"], r["rule"])))
    for r in read_table("prerequisites"):
        prereqs.append((t.expand(r["fee"]), Prereq(
            requires=t.expand(r["requires"]), note_delegate=r["practitioner"] == "same_or_note",
            period=r["period"], if_missing=r["if_missing"], if_refused=r["if_refused"], rule=r["rule"])))
    bands: dict[str, list] = {}
    for r in read_table("age_bands"):
        bands.setdefault(r["band_set"], []).append(
            Band(r["code"], r["sex"], int(r["age_min"] or 0), int(r["age_max"] or 999)))
    for finding in [x.finding for _, x in limits + minimums + same_day] + \
                   [f for _, x in prereqs for f in (x.if_missing, x.if_refused)]:
        if finding not in known:
            raise ValueError(f"unknown finding {finding!r} in formats/tables")
    return attrs.evolve(t, limits=_by_fee(limits), minimums=_by_fee(minimums), recodes=_by_fee(recodes),
                        same_day=_by_fee(same_day), prereqs=_by_fee(prereqs),
                        bands={k: tuple(v) for k, v in bands.items()}, programs=_programs(t.fees))

"""The adjudication tables of ``formats/tables/`` as lookups keyed the way the rules ask.

Fee schedule (effective-dated amounts), code sets, caps, same-day pairs, prerequisites, age bands
and the finding -> explanatory-code map are data a billing analyst can read; this module only
indexes them. Dates become ``YYYYMMDD`` integers (the store's form) so that a rule compares ints.
A code-set reference ``@name`` that does not exist, an unknown finding or a code that is not a
real MSP explanatory code is an error at load time, not a silent miss at run time.
"""
from __future__ import annotations

import csv

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


class _At:
    """Which row of which table is being read, so that a row an analyst's edit broke (a missing
    column, a number that is not one, an unknown finding) is a DataError naming the file and line."""

    def __init__(self):
        self.name: str | None = None
        self.index = 0

    def rows(self, name: str):
        self.name = name
        for self.index, row in enumerate(read_table(name)):
            yield row
        self.name = None

    def error(self, e: Exception) -> data.DataError:
        what = f"no column {e}" if isinstance(e, KeyError) else str(e)
        if self.name is None:
            return data.DataError(f"formats/tables: {what}")
        return data.DataError(f"tables/{self.name}.csv line {_line_of(self.name, self.index)}: {what}")


def _line_of(name: str, index: int) -> int:
    """The file line of data row ``index`` (0-based) of table ``name`` (the error path only)."""
    lines = data.read_text(f"tables/{name}.csv").splitlines(keepends=True)
    skipped = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    reader = csv.DictReader(lines[skipped:])
    for i, _ in enumerate(reader):
        if i == index:
            return skipped + reader.line_num
    return skipped + 1


def _fee_specs(rows) -> dict:
    prices: dict[str, list] = {}
    specs = {}
    for r in rows("fee_schedule"):      # each row parsed as it is read (an error names its line)
        fee = r["fee"]
        prices.setdefault(fee, []).append((ymd_text(r["effective_from"], 0), ymd_text(r["effective_to"], OPEN_END),
                                           int(r["amount_cents"])))
        if fee not in specs:            # the first row of a fee gives its other columns
            specs[fee] = FeeSpec(fee=fee, status=r["status"], prices=(), per_15min=r["unit_basis"] == "15min",
                                 billable_from=ymd_text(r["billable_from"], 0),
                                 min_minutes=int(r["min_minutes"] or 0), program=r["program"])
    return {fee: attrs.evolve(spec, prices=tuple(sorted(prices[fee]))) for fee, spec in specs.items()}


@data.cached
def code_lists() -> dict[str, tuple[str, ...]]:
    """code_sets.csv: set name -> its codes in file order (a set with one blank code is declared
    but empty). Read once per data folder; the registry reads its value lists here too."""
    lists: dict[str, list] = {}
    at = _At()
    try:
        for r in at.rows("code_sets"):
            codes = lists.setdefault(r["set"], [])
            if r["code"] and r["code"] not in codes:
                codes.append(r["code"])
    except KeyError as e:
        raise at.error(e) from None
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


def _findings(rows) -> dict:
    real = code_set("explanatory_codes")
    out = {}
    for r in rows("finding_codes"):
        if r["code"] and r["code"] not in real:
            raise ValueError(f"{r['finding']} -> {r['code']} is not an MSP explanatory code")
        if r["outcome"] not in ("REFUSED", "HELD", "INFO"):
            raise ValueError(f"{r['finding']}: bad outcome {r['outcome']!r}")
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
    """The tables, read once per data folder. A row a --formats copy broke (a missing column, a
    number that is not one, an unknown finding or code set) is a DataError naming file and line."""
    at = _At()
    try:
        return _load(at.rows)
    except (ValueError, KeyError, TypeError) as e:
        raise at.error(e) from None


def _known(finding: str, known: dict) -> str:
    if finding not in known:
        raise ValueError(f"unknown finding {finding!r} (not in finding_codes.csv)")
    return finding


def _load(rows) -> Tables:
    t = Tables(fees=_fee_specs(rows), sets=_sets(), findings=_findings(rows), limits={}, minimums={},
               recodes={}, same_day={}, prereqs={}, bands={})
    known = t.findings
    limits, minimums, same_day, prereqs, recodes = [], [], [], [], []
    for r in rows("limits"):
        fees = t.expand(r["fees"])
        lim = Limit(rule=r["rule"], counted=t.expand(r["counted"] or r["fees"]),
                    per_practitioner=r["scope"] == "practitioner", period=r["period"], max=int(r["max"]),
                    measure=r["measure"], finding=_known(r["finding"], known), waiver=r["waiver"],
                    anchor=r["anchor"])
        (minimums if lim.measure == "minimum" else limits).append((fees, lim))
    for r in rows("recodes"):
        recodes.append(((r["fee"],), Recode(
            dos_from=ymd_text(r["dos_from"], 0), received_from=ymd_text(r["received_from"], 0),
            received_to=ymd_text(r["received_to"], OPEN_END),
            dx=t.sets[r["dx_set"]] if r["dx_set"] else frozenset(), paid_as=r["paid_as"], rule=r["rule"])))
    for r in rows("same_day"):
        a, b = t.expand(r["fee"]), t.expand(r["other"])
        prac, directional = r["scope"] == "practitioner", r["refused"] == "fee"
        same_day.append((a, SameDay(b, prac, directional, _known(r["finding"], known), r["rule"])))
        if not directional:
            same_day.append((b, SameDay(a, prac, False, r["finding"], r["rule"])))
    for r in rows("prerequisites"):
        prereqs.append((t.expand(r["fee"]), Prereq(
            requires=t.expand(r["requires"]), note_delegate=r["practitioner"] == "same_or_note",
            period=r["period"], if_missing=_known(r["if_missing"], known),
            if_refused=_known(r["if_refused"], known), rule=r["rule"])))
    bands: dict[str, list] = {}
    for r in rows("age_bands"):
        bands.setdefault(r["band_set"], []).append(
            Band(r["code"], r["sex"], int(r["age_min"] or 0), int(r["age_max"] or 999)))
    return attrs.evolve(t, limits=_by_fee(limits), minimums=_by_fee(minimums), recodes=_by_fee(recodes),
                        same_day=_by_fee(same_day), prereqs=_by_fee(prereqs),
                        bands={k: tuple(v) for k, v in bands.items()}, programs=_programs(t.fees))

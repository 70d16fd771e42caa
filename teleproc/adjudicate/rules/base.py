"""What every rule works with: the ``rule`` decorator, the ``Case`` being decided, the ``Context``.

A rule is ``fn(case, ctx) -> str | None``: ``None`` lets the claim go on; a finding mnemonic
(seed-rules.md 0.3, mapped in formats/tables/finding_codes.csv) stops it, refused or held as that
table says. A rule that reduces units or recodes the fee changes the case and records why with
``case.adjust`` (the claim then goes on, ADJUSTED). A rule driven by a table row reports the row's
R-number with ``case.fail(rid, finding, facts)``; a rule gives the facts it used for the trace
(``teleproc.trace``) with ``case.why(finding, facts)``, ``case.fail`` or ``case.adjust``.
Rules read; they never write the store.
"""
from __future__ import annotations

from datetime import date

from teleproc.claims import age_on
from teleproc.store import from_ymd


def rule(rid: str, fees="*"):
    """Mark a rule function: its R-number and the fee items it applies to: ``"*"`` (every fee,
    also those outside the schedule), codes and ``@sets`` (``"14033 @visit_codes"``), or a
    function of the tables returning fee items."""
    def mark(fn):
        fn.rid = rid
        fn.fees = fees
        return fn
    return mark


class Case:
    """One claim being decided. Plain values the engine read once from the C02 line; the
    ``claim`` for anything else (``case.claim.dx1``, ``case.claim.notes``)."""
    __slots__ = ("claim", "spec", "fee", "prac", "phn", "payee", "ymd", "billed_units", "billed",
                 "units", "paid_fee", "received", "ts", "te", "encounter", "info", "rid", "facts")

    def __init__(self, claim, spec, fee, prac, phn, payee, ymd, units, billed, received, ts, te, encounter):
        self.claim = claim
        self.spec = spec            # FeeSpec, None for a fee outside the schedule
        self.fee = fee              # fee billed
        self.prac = prac
        self.phn = phn
        self.payee = payee
        self.ymd = ymd              # DOS as YYYYMMDD
        self.billed_units = units
        self.billed = billed        # billed amount, cents
        self.units = units          # units still payable (R50 and caps reduce them)
        self.paid_fee = fee         # fee the claim is priced and counted under (R86 recode)
        self.received = received    # MSP received date, YYYYMMDD
        self.ts = ts                # service start / finish, HHMM ints or None
        self.te = te
        self.encounter = encounter
        self.info = None            # [(rid, finding)] adjustments, in rule order
        self.rid = None             # R-number of a table row that stopped the claim
        self.facts = None           # facts of the finding that stopped the claim (trace)

    @property
    def dos(self) -> date:
        return from_ymd(self.ymd)

    @property
    def year(self) -> int:
        return self.ymd // 10000

    def age(self) -> int | None:
        """Completed years on the DOS (R08); None without a birth date."""
        dob = self.claim.dob
        return None if dob is None else age_on(dob, self.dos)

    def minutes(self) -> int | None:
        """Service duration from the claim's start and finish times, None when either is absent."""
        if self.ts is None or self.te is None:
            return None
        return (self.te // 100 * 60 + self.te % 100) - (self.ts // 100 * 60 + self.ts % 100)

    def adjust(self, rid: str, finding: str, facts: dict | None = None) -> None:
        """A change the claim goes on with (units reduced, fee recoded...), traced with its facts."""
        if self.info is None:
            self.info = []
        self.info.append((rid, finding, facts))

    def fail(self, rid: str, finding: str, facts: dict | None = None) -> str:
        """A table row's finding: its R-number and the facts, for the trace."""
        self.rid = rid
        self.facts = facts
        return finding

    def why(self, finding: str, facts: dict) -> str:
        """The rule's own finding, with the facts it used (for the trace)."""
        self.facts = facts
        return finding


class Context:
    """Shared, read-only for rules: history view, registry, tables, policy; plus the claims of the
    group being decided (seed-rules 0.2 "Group"; empty for a lone claim)."""
    __slots__ = ("hist", "registry", "tables", "policy", "group")

    def __init__(self, hist, registry, tables, policy):
        self.hist = hist
        self.registry = registry
        self.tables = tables
        self.policy = policy
        self.group = ()

    def group_fees(self, case) -> list:
        """Fees billed by the other claims of the case's group."""
        return [g.fee for g in self.group if g is not case.claim]


def overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    """Do [a0, a1) and [b0, b1) (HHMM ints) overlap?"""
    return max(a0, b0) < min(a1, b1)

"""The S01 lane: a claim settled from its C02 text alone, with no Claim, Case or Decision object.

Most claims are office visits paid as billed. For them the rules' way (``Adjudicator._decide``)
would build objects only to find nothing to say. The lane answers such a claim S01 straight from
its text, and hands back (None) every claim it cannot settle: that claim goes the rules' way,
which then decides and explains it. Nothing changes when the lane hands a claim back.

What the lane stands in for, and the text-level check that replaces each (``STANDS_FOR``;
each mirrored rule's docstring points back here: change both together):

=================  =================================  =============================================
stands in for      rule / engine step                 the lane's check, on the C02 text
=================  =================================  =============================================
R07 effective      rules.general.fee_effective        fee active, billable when received, a
                                                      schedule amount on the DOS (cached per fee
                                                      item + DOS text)
R13 future DOS     rules.general.received_before_dos  DOS not after the received date when policy
                                                      refuse_future_dos (no lane at all when
                                                      submission_period_days is set; without
                                                      refuse_future_dos no code_sets
                                                      ``future_dos_codes`` fee)
R30 pseudo-PHN     rules.general.pseudo_phn           PHN not in code_sets ``maternity_phn``
R56 concurrent     rules.conferencing.not_concurrent  no start and finish time (nothing to overlap)
duplicate          rules.general.duplicate            duplicate key (``history.dup_key``, hashed
                                                      from one text slice) not known:
                                                      ``History.add_text``
R12 pricing        Adjudicator._price                 billed <= schedule x units: paid as billed
R04 encounter      Adjudicator._price                 payment mode not E
=================  =================================  =============================================

The lane fees are computed from this table (``lane_fees``): a fee item whose every rule
(``rules.rules_for``) is a rule of the table, with a schedule, counted by no practitioner-scoped
limit or set (caps per practitioner, conferences, specialty consultations) and not billed by
time (code_sets ``time_based``: their duplicate key holds the times). A new rule that applies to
every fee therefore turns the lane off rather than being bypassed.

``tests/adjudicate/test_lane.py`` holds the lane equal to the rules through the real batch loop,
and ``tests/test_fast_path_e2e.py`` compares whole return files with ``--no-fast-path``.
"""
from __future__ import annotations

from teleproc import store
from teleproc.decisions import PAID
from teleproc.layout import layout
from teleproc.ledger import line_format

from .rules import conferencing, general

# (what, the rule it stands in for or None for an engine step, the lane's check)
STANDS_FOR = (
    ("R07", general.fee_effective, "fee active, billable when received, a schedule amount on the DOS"),
    ("R13", general.received_before_dos, "DOS not after received when refuse_future_dos"),
    ("R30", general.pseudo_phn, "PHN not the maternity pseudo-PHN"),
    ("R56", conferencing.not_concurrent, "no start and finish time"),
    ("DUP", general.duplicate, "duplicate key not known (History.add_text)"),
    ("R12", None, "billed within schedule x units: paid as billed"),
    ("R04", None, "payment mode not E (no encounter)"),
)
LANE_RULES = frozenset(rule for _, rule, _ in STANDS_FOR if rule is not None)


def lane_fees(rules_by_fee: dict, tables, policy, excluded: frozenset) -> frozenset:
    """The fee items the lane may settle (see the module docstring); ``excluded``: the fees
    counted in a practitioner scope."""
    if policy.submission_period_days:          # R13's period is the rules' to judge
        return frozenset()
    left_out = tables.sets["time_based"]
    if not policy.refuse_future_dos:           # R13 refuses a future DOS of these fees whatever the policy
        left_out = left_out | tables.sets["future_dos_codes"]
    return frozenset(fee for fee, rules in rules_by_fee.items()
                     if set(rules) <= LANE_RULES and tables.fees.get(fee) is not None
                     and fee not in excluded and fee not in left_out)


class Lane:
    """The lane of one run: its fee items and ``decide(no, text)``, bound to the run."""

    def __init__(self, *, rules_by_fee: dict, tables, policy, hist, received: int, excluded: frozenset,
                 tracked: frozenset, ids, enabled: bool = True):
        """``ids``: the object whose ``next_id`` numbers ledger lines (the adjudicator: the lane
        and the rules' way share one sequence); ``tracked``: fee items a claim of this file may
        wait for (R61: the same-day visit a held 14033 needs); ``enabled=False``: no lane (every
        claim the rules' way, the reference the tests compare with)."""
        lay = layout("C02")
        width = lay.field("fee_item").length
        self.fees = lane_fees(rules_by_fee, tables, policy, excluded) if enabled else frozenset()
        self._specs = {fee.ljust(width): tables.fees[fee] for fee in self.fees}
        self.texts = frozenset(self._specs)     # the fee items as the C02 writes them
        self.counts = [0, 0]                    # claims and cents the lane paid (for the run's stats)
        self._hist, self._received, self._ids = hist, received, ids
        self._refuse_future = policy.refuse_future_dos
        self._pseudo = tables.sets["maternity_phn"]
        self._tracked = frozenset(f.ljust(width) for f in tracked)
        self.rebind()

    def rebind(self) -> None:
        """Bind ``decide`` again to the history's current key filter (``History.reserve`` may
        replace it: the engine calls this after reserving)."""
        self.decide = self._decider()

    def _decider(self):
        """``decide``, with the run's constants bound in a closure (a claim's hot path reads no
        attribute but the next line id)."""
        f = layout("C02").field
        fee_at, mode_at, dos_at, phn_at, units_at, billed_at, ts_at, te_at = (
            f(n).slice for n in ("fee_item", "payment_mode", "service_date", "phn", "units",
                                 "billed_amount", "time_start", "time_finish"))
        no_time = frozenset(("0000", " " * f("time_start").length))
        untimed = " " * (store.KEY_WIDTH - 23)   # a ledger_keys key's times (store.key_slicer): none
        who = layout("C02").span("practitioner", "phn")
        specs, cents_of = self._specs, {}       # fee + DOS text -> scheduled cents, None: not effective
        received, refuse_future, pseudo, tracked = (self._received, self._refuse_future, self._pseudo,
                                                    self._tracked)
        add_text, ids, counts = self._hist.add_text, self._ids, self.counts
        load_keys = self._hist.load_keys if self._hist.keyed else None
        fmt, a, b, c, d, e = _line_format(received)

        def decide(no: int, text: str) -> int | None:
            """Paid as billed (the cents) when every check of ``STANDS_FOR`` passes; otherwise
            None and nothing changed: the claim goes the rules' way. ``no``: its line number."""
            if text[mode_at] == "E" or (text[ts_at] not in no_time and text[te_at] not in no_time):
                return None                                         # R04, R56
            fee = text[fee_at]
            dos = text[dos_at]
            key = fee + dos
            cents = cents_of.get(key, -1)
            if cents == -1:                                         # R07, R13
                spec = specs[fee]
                day = int(dos)
                cents = spec.cents_on(day) if spec.status == "active" and received >= spec.billable_from else None
                if cents is not None and day > received and refuse_future:
                    cents = None
                cents_of[key] = cents
                if load_keys is not None:
                    load_keys(day)                                  # the stored keys of this DOS, once
            if cents is None:
                return None
            phn = text[phn_at]
            units = text[units_at]
            billed = int(text[billed_at])
            if billed > cents * int(units) or phn in pseudo:        # R12, R30
                return None
            lid = ids.next_id
            line = fmt % (lid, fee, units, text[billed_at], text[a], text[b], text[c], text[d], text[e])
            w = text[who]
            if not add_text(phn, hash(w + dos + fee + units), line,   # duplicate (dup_key)
                            no if fee in tracked else 0, dos, w + fee + units + untimed):
                return None
            ids.next_id = lid + 1
            counts[0] += 1
            counts[1] += billed
            return billed
        return decide


def _line_format(received: int) -> tuple:
    """The ledger line of a claim paid as billed, S01 (formats/ledger.toml, ``ledger.line_format``):
    (%-format taking line id, fee item, units and billed amount as the C02 writes them, then the
    five C02 spans; the five C02 slices)."""
    f = layout("C02").field
    fmt = line_format(dict(status=PAID, record_code="S01", kind="ffs", received=received, has_note=0, codes=""),
                      dict(paid_fee=f("fee_item").length, paid_units=f("units").length,
                           paid_cents=f("billed_amount").length))
    return (fmt, *store.LINE_C02)

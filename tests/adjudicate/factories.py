"""Claims and runs for the adjudication tests.

``make_claim(**c02_fields)`` builds a valid C02 (teleproc.records) wrapped in a Claim; the
billed amount defaults to the scheduled amount x units, so a claim that passes every rule is
PAID as billed. Short names: ``prac``, ``fee``, ``dos``, ``dob``, ``ts``/``te`` (``"1400"``),
``note`` (adds an N01), ``oin`` (other-province insurer code), ``sex``.

``Run`` is one adjudication run over a store: ``decide(*claims)`` prescans them, groups
contiguous claims sharing practitioner + PHN + DOS as the orchestration does, and returns one
Decision per claim; ``next_run()`` commits and starts the next run (whose ``released`` holds the
release decisions).
"""
from __future__ import annotations

import itertools
from datetime import date, time

from teleproc import store
from teleproc.adjudicate import Adjudicator, Policy, Registry
from teleproc.adjudicate.tables import load_tables
from teleproc.claims import Claim
from teleproc.records import C02, N01

PHN_A = "9000000011"
PHN_B = "9000000021"
_seq = itertools.count(1)


def _time(v):
    if v is None or isinstance(v, time):
        return v
    return time(int(v[:2]), int(v[2:]))


def scheduled(fee: str, dos: date, units: int = 1) -> int:
    spec = load_tables().fees.get(fee)
    cents = spec.cents_on(store.ymd(dos)) if spec else None
    return 3000 * units if cents is None else cents * units


_LINE_NO = itertools.count(2)


def make_claim(*, prac="P1", fee="00100", dos=date(2024, 3, 5), phn=PHN_A, units=1, dob=date(1960, 1, 1),
               dx1="250", ts=None, te=None, note=None, oin="", sex="", billed=None, index=0, **kw) -> Claim:
    fields = dict(data_centre="T1234", dc_seq=next(_seq), payee="PY001", practitioner=prac, phn=phn,
                  name_verify="J SM", units=units, fee_item=fee, service_date=dos, birth_date=dob, dx1=dx1,
                  time_start=_time(ts), time_finish=_time(te), oin_insurer=oin, oin_sex=sex,
                  service_location="L", folio=1,
                  billed_amount=scheduled(fee, dos, units or 1) if billed is None else billed)
    if note:
        fields["correspondence"] = "N"
    fields.update(kw)
    rec = C02(**fields)
    notes = ()
    if note:
        notes = (N01(data_centre="T1234", dc_seq=rec.dc_seq + 1, payee="PY001", practitioner=prac,
                     note_type="A", note_text=note),)
    # every claim on its own line, as in a file (prescanned claims are matched by line number)
    return Claim(index, next(_LINE_NO), rec, rec.line, notes, tuple(n.line for n in notes))


def groups(claims):
    """Contiguous runs sharing practitioner + PHN + DOS (seed-rules 0.2 "Group")."""
    for _, g in itertools.groupby(claims, key=lambda c: (c.practitioner, c.phn, c.dos)):
        yield list(g)


class Run:
    def __init__(self, conn=None, *, received=date(2025, 12, 31), run_id=1, registry=None, policy=None,
                 tables=None, unknown_fee="pay", release=True, fast_path=True, **switches):
        self.conn = conn if conn is not None else store.connect(":memory:")
        self.kw = dict(registry=registry, tables=tables, unknown_fee=unknown_fee, fast_path=fast_path)
        self.switches = switches
        self.policy = policy if policy is not None else Policy.load(**switches)
        self.run_id = run_id
        self.conn.execute("BEGIN")
        self.adj = Adjudicator(self.conn, run_id=run_id, received=received, policy=self.policy, **self.kw)
        self.released = self.adj.release() if release else []

    def decide(self, *claims):
        for c in claims:
            self.adj.prescan(c)
        out = []
        for g in groups(claims):
            out.extend(self.adj.decide_group(g))
        return out

    def one(self, claim):
        return self.decide(claim)[0]

    def commit(self):
        self.adj.flush()
        self.conn.execute("COMMIT")

    def next_run(self, received=date(2025, 12, 31), **kw) -> "Run":
        self.commit()
        return Run(self.conn, received=received, run_id=self.run_id + 1, policy=self.policy,
                   **{**self.kw, **kw})

    def lines(self, *cols):
        self.adj.flush()
        return self.conn.execute(f"SELECT {', '.join(cols)} FROM claim_lines ORDER BY line_id").fetchall()


def registry(practitioners=(), patients=()) -> Registry:
    from teleproc.adjudicate.registry import Patient, Practitioner
    return Registry([Practitioner(**p) for p in practitioners], [Patient(**p) for p in patients])


def check(d, outcome, codes=None, cents=None, units=None, fee=None):
    """Assert a decision's outcome, explanatory codes, paid cents / units / fee."""
    assert d.outcome == outcome, d
    if codes is not None:
        assert d.codes == tuple(codes), d
    if cents is not None:
        assert d.paid_cents == cents, d
    if units is not None:
        assert d.paid_units == units, d
    if fee is not None:
        assert d.paid_fee == fee, d
    return d

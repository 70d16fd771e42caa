"""The S01 lane (teleproc/adjudicate/lane.py) decides exactly as the rules do.

It settles a claim only when R07 (effective, billable), R13 (not received before the DOS), R30
(not the maternity pseudo-PHN), R56 (no start and finish time) and the exact-duplicate check
pass and the billed amount is within the schedule (R12) and it is no encounter (R04);
otherwise it hands the claim back and the claim goes the rules' way. The property runs the same
submission files through the real batch loop (``batch._light_scan``, ``batch._decide_all``,
``ReturnFileBuilder``) both ways, on two stores (the reference with ``fast_path=False``: every
claim through the rules), under varied policy switches, and compares the return files byte for
byte, every stored line and the run's totals. ``tests/test_fast_path_e2e.py`` does the same for
whole generated submissions through the ``teleproc adjudicate`` command.
"""
from __future__ import annotations

from datetime import date as D, datetime
from types import SimpleNamespace

from hypothesis import given, settings, strategies as st

from e2e_helpers import valid_phn, write_submission
from teleproc import batch, store
from teleproc.adjudicate import Adjudicator, Policy
from teleproc.adjudicate.history import dup_key
from teleproc.adjudicate.lane import LANE_RULES, STANDS_FOR, lane_fees
from teleproc.adjudicate.rules import rules_for
from teleproc.adjudicate.tables import load_tables
from teleproc.claims import claim_from_text
from teleproc.codec import codec
from teleproc.decisions import PAID, Decision
from teleproc.remit import ReturnFileBuilder
from teleproc.settings import Settings
from teleproc.validate import FileReader

from .factories import PHN_A, Run, make_claim, scheduled

PSEUDO_PHN = "9824870522"          # R30: the maternity network pseudo-PHN (code_sets maternity_phn)
PHNS = (valid_phn(0), valid_phn(1), PSEUDO_PHN)
FEES = ("00100", "12100", "16100", "17120", "14030", "13136", "14033", "14034", "99999")
STORED = ("line_id, run_id, phn, practitioner, dos, fee, billed_units, billed_cents, paid_fee, "
          "paid_units, paid_cents, kind, status, record_code, codes, reasons, received, dx1, "
          "time_start, time_end, location, folio, dc_seq, payee, data_centre")
TOTALS = ("claims", "outcomes", "billed_cents", "paid_cents")


def _run_file(conn, path, run_id: int, received: D, policy: Policy, fast_path: bool):
    """One adjudicate run's deciding part, as ``batch.run_adjudicate`` does it: the real first
    pass, the release of holds, the real deciding loop and return file, the flush."""
    conn.execute("BEGIN")
    adj = Adjudicator(conn, run_id=run_id, received=received, policy=policy, fast_path=fast_path)
    s = Settings.load()
    batch._light_scan(path, s, adj)
    builder = ReturnFileBuilder(data_centre="V0002", payment_date=received, created=datetime(2025, 1, 1),
                                settings=s)
    for claim, decision, held_received in adj.release():
        builder.add(claim, decision, held_received)
    reader = FileReader(path, s, text_fees=adj.lane.texts)
    batch._decide_all(adj, builder, reader, received, SimpleNamespace(on=False))
    adj.flush()
    out = path.with_suffix(f".{'fast' if fast_path else 'slow'}.ret")
    builder.write(out)
    conn.execute("COMMIT")
    return out.read_bytes(), adj


claim_args = st.fixed_dictionaries({
    "prac": st.sampled_from(["10001", "10002"]),
    "phn": st.sampled_from(PHNS),
    "fee": st.sampled_from(FEES),
    "dos": st.sampled_from([D(2024, 3, 1), D(2024, 3, 2), D(2025, 6, 1)]),
    "over": st.sampled_from([0, 0, 0, 1]),                 # billed one cent over the schedule
    "times": st.sampled_from([None, None, ("0900", "0930"), ("0915", "0000")]),
    "payment_mode": st.sampled_from(["0", "0", "0", "E"]),
    "dx1": st.sampled_from(["250", "D430"]),
})
switches = st.fixed_dictionaries({
    "refuse_future_dos": st.booleans(),
    "submission_period_days": st.sampled_from([0, 0, 90]),
})


def _claims(args: list) -> list:
    out = []
    for a in args:
        ts, te = a["times"] or (None, None)
        out.append(dict(prac=a["prac"], phn=a["phn"], fee=a["fee"], dos=a["dos"], ts=ts, te=te, dx1=a["dx1"],
                        payment_mode=a["payment_mode"], billed=scheduled(a["fee"], a["dos"]) + a["over"]))
    return out


@settings(max_examples=80, deadline=None)
@given(first=st.lists(claim_args, min_size=1, max_size=6), second=st.lists(claim_args, min_size=1, max_size=12),
       received=st.sampled_from([D(2024, 3, 1), D(2025, 12, 31)]), switch=switches)
def test_lane_and_rules_agree_through_the_batch_loop(tmp_path_factory, first, second, received, switch):
    """Two runs each way: the second sees the first's lines in the store (duplicates, R56)."""
    tmp = tmp_path_factory.mktemp("lane")
    policy = Policy.load(**switch)
    f1 = write_submission(tmp / "s1.txt", _claims(first))
    f2 = write_submission(tmp / "s2.txt", _claims(second), seq0=len(first) + 2)
    slow, fast = store.connect(":memory:"), store.connect(":memory:")
    for run_id, path in ((1, f1), (2, f2)):
        want, s = _run_file(slow, path, run_id, received, policy, fast_path=False)
        got, f = _run_file(fast, path, run_id, received, policy, fast_path=True)
        assert got == want
        assert {k: s.stats()[k] for k in TOTALS} == {k: f.stats()[k] for k in TOTALS}
        assert s.lane.counts == [0, 0]
        if switch["submission_period_days"]:
            assert f.lane.fees == frozenset()      # R13's period is the rules' to judge
    q = f"SELECT {STORED} FROM claim_lines ORDER BY line_id"
    assert slow.execute(q).fetchall() == fast.execute(q).fetchall()


# --- the same through the real loop, for claims made in memory (tests/test_explain.py too) --------
claim_args = st.fixed_dictionaries({
    "prac": st.sampled_from(["P1", "P2"]),
    "phn": st.sampled_from([PHN_A, "9000000021", PSEUDO_PHN]),
    "fee": st.sampled_from(FEES),
    "dos": st.sampled_from([D(2024, 3, 1), D(2024, 3, 2), D(2025, 6, 1)]),
    "over": st.sampled_from([0, 0, 0, 1]),                 # billed one cent over the schedule
    "times": st.sampled_from([None, None, ("0900", "0930"), ("0915", "0000")]),
    "payment_mode": st.sampled_from(["0", "0", "0", "E"]),
})


def _claim(a: dict):
    ts, te = a["times"] or (None, None)
    return make_claim(prac=a["prac"], phn=a["phn"], fee=a["fee"], dos=a["dos"], ts=ts, te=te,
                      payment_mode=a["payment_mode"], billed=scheduled(a["fee"], a["dos"]) + a["over"])


def fast_path_decide(run: Run, claims) -> list:
    """The claims (factory-made, no notes) through the real deciding loop (``batch._decide_all``)
    as the reader would hand them on: ``(line number, text)`` for a lane fee, else an item.
    Returns the return-file answers (record code, dc_seq, paid amount) in input order."""
    from teleproc.validate import Item
    adj = run.adj
    for c in claims:
        adj.prescan(c)
    items = [(c.line_no, c.raw) if c.raw[51:56] in adj.lane.texts else Item(c.line_no, "C02", c.record, c.raw, "")
             for c in claims]
    received = adj.received
    builder = ReturnFileBuilder(data_centre="T1234", payment_date=D(2026, 1, 1), created=datetime(2026, 1, 1))
    got = []
    add, add_s01 = builder.add, builder.add_s01

    def add_answer(claim, d, r):
        if d.record_code != "S01":            # an S01 goes through add_s01 (below)
            got.append((d.record_code, claim.record.dc_seq, d.paid_cents))
        return add(claim, d, r)

    def add_s01_answer(raw, paid, r):
        got.append(("S01", int(raw[8:15]), paid))
        return add_s01(raw, paid, r)
    builder.add, builder.add_s01 = add_answer, add_s01_answer
    batch._decide_all(adj, builder, items, D(received // 10000, received // 100 % 100, received % 100),
                      SimpleNamespace(on=False))
    builder.close()
    return got


@settings(max_examples=100, deadline=None)
@given(first=st.lists(claim_args, max_size=6), second=st.lists(claim_args, min_size=1, max_size=12),
       received=st.sampled_from([D(2024, 3, 1), D(2025, 12, 31)]))
def test_fast_path_and_rules_agree(first, second, received):
    """Two runs each way on claims made in memory: answers, stored lines and totals equal."""
    slow, fast = Run(received=received, fast_path=False), Run(received=received)
    for batch_ in (first, second):
        claims = [_claim(a) for a in batch_]
        want = [(d.record_code, c.record.dc_seq, d.paid_cents if d.record_code in ("S01", "S02") else 0)
                for c, d in zip(claims, slow.decide(*claims))]
        got = [(code, seq, paid if code in ("S01", "S02") else 0) for code, seq, paid in fast_path_decide(fast, claims)]
        assert got == want
        if batch_ is first:
            slow, fast = slow.next_run(received=received), fast.next_run(received=received)
    assert slow.lines(STORED) == fast.lines(STORED)
    s, f = slow.adj.stats(), fast.adj.stats()
    assert {k: s[k] for k in TOTALS} == {k: f[k] for k in TOTALS}


def test_a_plain_visit_takes_the_lane():
    r = Run(received=D(2024, 3, 10))
    c = make_claim(fee="00100", dos=D(2024, 3, 1))
    assert "00100" in r.adj.lane.fees and c.raw[51:56] in r.adj.lane.texts
    assert r.adj.lane.decide(c.line_no, c.raw) == c.record.billed_amount
    assert r.adj.stats()["fast_path_claims"] == 1
    (row,) = r.lines("status", "record_code", "paid_cents", "paid_units", "fee", "paid_fee", "kind")
    assert row == ("PAID", "S01", c.record.billed_amount, 1, "00100", "00100", "ffs")
    # the same claim again is a duplicate: the lane leaves it to the rules (HV)
    assert r.adj.lane.decide(c.line_no, c.raw) is None
    assert r.one(claim_from_text(99, c.raw)).codes == ("HV",)


def test_the_lane_leaves_every_other_case_to_the_rules():
    r = Run(received=D(2024, 3, 10))
    cases = {
        "R07 retired fee": make_claim(fee="14030", dos=D(2024, 3, 1)),
        "R13 received before the DOS": make_claim(fee="00100", dos=D(2024, 3, 20)),
        "R30 pseudo-PHN": make_claim(fee="00100", phn=PSEUDO_PHN, dos=D(2024, 3, 1)),
        "R56 start and finish times": make_claim(fee="00100", dos=D(2024, 3, 2), ts="0900", te="0915"),
        "R04 encounter": make_claim(fee="00100", dos=D(2024, 3, 3), payment_mode="E"),
        "R12 billed over the schedule": make_claim(fee="00100", dos=D(2024, 3, 4),
                                                   billed=scheduled("00100", D(2024, 3, 4)) + 1),
    }
    before = r.adj.next_id
    for why, c in cases.items():
        assert r.adj.lane.decide(c.line_no, c.raw) is None, why
    assert r.adj.stats()["fast_path_claims"] == 0 and r.adj.next_id == before   # nothing changed
    assert "14033" not in r.adj.lane.fees and "14034" not in r.adj.lane.fees   # rules of their own


def test_lane_fees_come_from_the_table_of_what_it_stands_in_for():
    t = load_tables()
    rules, _ = rules_for(t)
    assert {rid for rid, _, _ in STANDS_FOR} == {"R07", "R13", "R30", "R56", "DUP", "R12", "R04"}
    assert LANE_RULES == {rule for _, rule, _ in STANDS_FOR if rule is not None}
    fees = lane_fees(rules, t, Policy.load(), frozenset())
    assert fees and all(set(rules[f]) <= LANE_RULES for f in fees)
    assert not fees & t.sets["time_based"] and "14010" not in fees
    # a rule every fee meets that the lane does not make turns the lane off, not bypassed
    extra = object()
    assert lane_fees({f: (*r, extra) for f, r in rules.items()}, t, Policy.load(), frozenset()) == frozenset()
    assert lane_fees(rules, t, Policy.load(), frozenset(fees)) == frozenset()
    assert lane_fees(rules, t, Policy.load(submission_period_days=30), frozenset()) == frozenset()


def test_the_lane_hashes_the_duplicate_key_the_rules_use():
    c = make_claim(fee="00100", dos=D(2024, 3, 1), prac="P1", units=2, billed=scheduled("00100", D(2024, 3, 1), 2))
    r = Run(received=D(2024, 3, 10))
    assert r.adj.lane.decide(c.line_no, c.raw) is not None
    assert dup_key("P1", PHN_A, 20240301, "00100", 2) in r.adj.hist.keys


# --- the one S01 writer --------------------------------------------------------------------------
def _builder() -> ReturnFileBuilder:
    return ReturnFileBuilder(data_centre="T1234", payment_date=D(2024, 3, 15), created=datetime(2024, 3, 15))


def _state(b: ReturnFileBuilder):
    return b.counts, {k: (p.control, p.billed, p.paid, p.lines, p.buf, p.practitioners) for k, p in b._payees.items()}


@settings(max_examples=100, deadline=None)
@given(claims=st.lists(st.fixed_dictionaries({
    "prac": st.sampled_from(["P1", "00011"]),
    "payee": st.sampled_from(["PY001", "PY2"]),
    "icbc_claim": st.sampled_from(["", "00000000", "12345678", "0000001 "]),
    "folio": st.integers(0, 9_999_999),
    "billed": st.integers(0, 9_999_999),
}), min_size=1, max_size=8))
def test_one_s01_writer_for_the_lane_and_the_rules(claims):
    """``add`` answers S01 through ``add_s01`` (the lane's writer): the same line and totals;
    each line read back as an S01 holds the claim's values (the S01 codec as the oracle)."""
    fast, slow = _builder(), _builder()
    received = D(2024, 3, 10)
    s01 = codec("S01")
    for a in claims:
        c = make_claim(**a)
        fast.add_s01(c.raw, a["billed"], received)
        claim = claim_from_text(c.line_no, c.raw)
        slow.add(claim, Decision(PAID, (), 1, a["billed"]), received)
        rec = s01.parse(slow._payees[a["payee"]].buf[-1])
        assert (rec.dc_seq, rec.payee, rec.practitioner, rec.folio, rec.paid_amount, rec.received_date) == (
            c.record.dc_seq, a["payee"], a["prac"], a["folio"], a["billed"], received)
        assert rec.icbc_wcb_claim == ("" if a["icbc_claim"].strip("0") == "" else a["icbc_claim"].rstrip())
    assert _state(fast) == _state(slow)

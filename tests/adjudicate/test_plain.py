"""The S01 fast path (``Adjudicator.decide_plain``) decides exactly as the rules do.

It settles a claim only when R07 (effective, billable), R13 (not received before the DOS), R30
(not the maternity pseudo-PHN), R56 (no start and finish time) and the exact-duplicate check
pass and the billed amount is within the schedule; otherwise it answers None and the claim goes
the rules' way. The property runs the same claims both ways, on two stores (the reference with
``fast_path=False``: every claim through the rules), and compares every answer and stored line.
"""
from __future__ import annotations

from datetime import date as D

from hypothesis import given, settings, strategies as st

from teleproc.claims import claim_from_text

from .factories import PHN_A, PHN_B, Run, groups, make_claim, scheduled

PSEUDO_PHN = "9824870522"          # R30: the maternity network pseudo-PHN (code_sets maternity_phn)
FEES = ("00100", "12100", "16100", "17120", "14030", "13136", "14033", "14034", "99999")
ANSWER = ("outcome", "codes", "paid_units", "paid_cents", "paid_fee")
STORED = ("line_id, run_id, phn, practitioner, dos, fee, billed_units, billed_cents, paid_fee, "
          "paid_units, paid_cents, kind, status, record_code, codes, reasons, received, dx1, "
          "time_start, time_end, location, folio, dc_seq, payee, data_centre")


def fast_path_decide(run: Run, claims) -> list:
    """What ``batch._decide_all`` does: groups of lane claims try ``decide_plain`` first (and
    ``decide_group`` tries it for a lane claim in a mixed group)."""
    adj = run.adj
    for c in claims:
        adj.prescan(c)
    out = []
    for g in groups(claims):
        if all(c.raw[51:56] in adj.lane for c in g):
            for c in g:
                paid = adj.decide_plain(c.line_no, c.raw)
                if paid is None:
                    claim = claim_from_text(c.line_no, c.raw)
                    out.append(_answer(adj.decide_group([claim])[0]))
                else:
                    out.append(("PAID", (), int(c.raw[41:44]), paid, ""))
        else:
            out.extend(_answer(d) for d in adj.decide_group(g))
    return out


def _answer(d) -> tuple:
    return tuple(getattr(d, k) for k in ANSWER)


claim_args = st.fixed_dictionaries({
    "prac": st.sampled_from(["P1", "P2"]),
    "phn": st.sampled_from([PHN_A, PHN_B, PSEUDO_PHN]),
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


@settings(max_examples=150, deadline=None)
@given(first=st.lists(claim_args, max_size=6), second=st.lists(claim_args, min_size=1, max_size=12),
       received=st.sampled_from([D(2024, 3, 1), D(2025, 12, 31)]))
def test_fast_path_and_rules_agree(first, second, received):
    """Two runs each way: the second sees the first's lines in the store (duplicates, R56)."""
    batch1 = [_claim(a) for a in first]
    batch2 = [_claim(a) for a in second]
    slow, fast = Run(received=received, fast_path=False), Run(received=received)
    assert [_answer(d) for d in slow.decide(*batch1)] == fast_path_decide(fast, batch1)
    slow, fast = slow.next_run(received=received), fast.next_run(received=received)
    assert [_answer(d) for d in slow.decide(*batch2)] == fast_path_decide(fast, batch2)
    assert slow.lines(STORED) == fast.lines(STORED)
    s, f = slow.adj.stats(), fast.adj.stats()
    assert {k: s[k] for k in ("claims", "outcomes", "billed_cents", "paid_cents")} == \
           {k: f[k] for k in ("claims", "outcomes", "billed_cents", "paid_cents")}


def test_a_plain_visit_takes_the_fast_path():
    r = Run(received=D(2024, 3, 10))
    c = make_claim(fee="00100", dos=D(2024, 3, 1))
    assert "00100" in r.adj.lane_fees and c.raw[51:56] in r.adj.lane
    assert r.adj.decide_plain(c.line_no, c.raw) == c.record.billed_amount
    assert r.adj.stats()["fast_path_claims"] == 1
    (row,) = r.lines("status", "record_code", "paid_cents", "paid_units", "fee", "paid_fee", "kind")
    assert row == ("PAID", "S01", c.record.billed_amount, 1, "00100", "00100", "ffs")
    # the same claim again is a duplicate: the fast path leaves it to the rules (HV)
    assert r.adj.decide_plain(c.line_no, c.raw) is None
    assert r.one(claim_from_text(99, c.raw)).codes == ("HV",)


def test_the_fast_path_leaves_every_other_case_to_the_rules():
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
    for why, c in cases.items():
        assert r.adj.decide_plain(c.line_no, c.raw) is None, why
    assert r.adj.stats()["fast_path_claims"] == 0
    assert "14033" not in r.adj.lane_fees and "14034" not in r.adj.lane_fees   # rules of their own

"""The engine: holds and releases, debits, duplicates, unknown fees, rejected claims, state rows,
stats, and hypothesis properties (one decision per claim, integer cents, caps never exceeded)."""
from datetime import date as D

from collections import Counter

from hypothesis import HealthCheck, given, settings, strategies as st

from teleproc.adjudicate.history import COLUMNS
from teleproc.claims import Claim
from teleproc.decisions import OUTCOMES
from teleproc.errors import Finding

from .factories import PHN_A, PHN_B, Run, check, make_claim

H = "9000000072"


def cc_group(phn, dos, prac="P1"):
    return [make_claim(fee="16100", phn=phn, dos=dos, prac=prac), make_claim(fee="14033", phn=phn, dos=dos, prac=prac, dx1="D430")]


def test_r10_hold_within_one_file_then_release_next_run():
    r = Run()
    ds = r.decide(make_claim(fee="14039", phn=H, dos=D(2024, 3, 1)), *cc_group(H, D(2024, 2, 20)))
    check(ds[0], "HELD", ["BH"], 0)
    check(ds[2], "PAID", cents=31500)
    assert r.adj.stats()["holds_pending"] == 1
    r2 = r.next_run(received=D(2025, 1, 5))
    (claim, d, received), = r2.released
    check(d, "PAID", [], 1500)
    assert received == D(2025, 12, 31)   # the date MSP first received it (run 1), not the release run's
    r2.commit()
    rows = r2.conn.execute("SELECT line_id, status, supersedes, received FROM claim_lines WHERE fee = '14039' "
                           "ORDER BY line_id").fetchall()
    assert [x[1] for x in rows] == ["HELD", "PAID"]
    assert rows[1][2] == rows[0][0] and rows[1][3] == rows[0][3]   # supersedes the hold, keeps its received date
    assert r2.conn.execute("SELECT state FROM holds").fetchall() == [("released",)]


def test_r10_prerequisite_never_billed_is_refused_not_held():
    r = Run()
    check(r.one(make_claim(fee="14039", phn=H, dos=D(2024, 3, 1))), "REFUSED", ["KD"])


def test_held_claim_consumes_no_cap_and_waits_across_runs():
    r = Run()
    r.decide(*cc_group(H, D(2024, 1, 10)))
    for i in range(3):
        r.one(make_claim(fee="14039", phn=H, dos=D(2024, 2 + i, 1)))
    # a second 14033 for another patient billed later in the file holds that patient's 14039
    other = "9000000099"
    ds = r.decide(make_claim(fee="14039", phn=other, dos=D(2024, 6, 1)), *cc_group(other, D(2024, 5, 1)))
    check(ds[0], "HELD", ["BH"])
    check(r.one(make_claim(fee="14039", phn=H, dos=D(2024, 7, 1))), "PAID")      # H's 4th: the hold took no slot
    r2 = r.next_run()
    check(r2.released[0][1], "PAID", cents=1500)


def test_hold_pending_again_while_prerequisite_still_in_process():
    r = Run()
    check(r.decide(make_claim(fee="14039", phn=H, dos=D(2024, 3, 1)),
                   make_claim(fee="14033", phn=H, dos=D(2024, 2, 20), dx1="D430"))[0], "HELD", ["BH"])
    r2 = r.next_run()
    check(r2.released[0][1], "REFUSED", ["KD"])     # the 14033 had no visit: refused, so the 14039 is too


def test_same_submission_twice_pays_nothing_twice():
    claims = [make_claim(fee="00100", phn=PHN_A), make_claim(fee="16100", phn=PHN_B, dos=D(2024, 1, 20)),
              make_claim(fee="14033", phn=PHN_B, dos=D(2024, 1, 20), dx1="D430")]
    r = Run()
    first = r.decide(*claims)
    assert sum(d.paid_cents for d in first) == 3208 + 3208 + 31500
    r2 = r.next_run()
    again = r2.decide(*claims)
    assert [d.outcome for d in again] == ["REFUSED"] * 3
    assert {d.codes for d in again} == {("HV",)}
    assert sum(d.paid_cents for d in again) == 0


def test_duplicate_of_a_held_claim_is_fb():
    r = Run()
    twin = dict(fee="14039", phn=H, dos=D(2024, 3, 1))
    ds = r.decide(make_claim(**twin), *cc_group(H, D(2024, 2, 2)), make_claim(**twin))
    check(ds[0], "HELD", ["BH"])
    check(ds[2], "PAID", cents=31500)
    check(ds[3], "REFUSED", ["FB"])


def test_debit_reverses_paid_line_and_frees_its_cap():
    r = Run(received=D(2024, 3, 10))
    original = make_claim(fee="14034", phn=PHN_A, dob=D(1979, 1, 1), dos=D(2024, 3, 1), sex="M")
    check(r.one(original), "PAID", cents=10000)
    check(r.one(make_claim(fee="14034", phn=PHN_A, dob=D(1979, 1, 1), dos=D(2024, 3, 2), sex="M")), "REFUSED", ["TA"])
    omf = "T1234" + "%07d" % original.record.dc_seq + "20240310"
    debit = dict(fee="14034", phn=PHN_A, dob=D(1979, 1, 1), dos=D(2024, 3, 1), submission_code="E", sex="M",
                 original_msp_file=omf, note="debit")
    check(r.one(make_claim(**debit)), "ADJUSTED", ["D3"], -10000, units=-1)
    check(r.one(make_claim(**debit)), "REFUSED", ["HZ"])
    check(r.one(make_claim(fee="14034", phn=PHN_A, dob=D(1979, 1, 1), dos=D(2024, 3, 3), sex="M")), "PAID", cents=10000)
    rows = dict(r.conn.execute("SELECT kind, COUNT(*) FROM claim_lines GROUP BY kind").fetchall()
                if r.adj.flush() is None else ())
    assert rows == {"ffs": 3, "debit": 2}
    (rev,), = r.conn.execute("SELECT reversed_by FROM claim_lines WHERE line_id = 1").fetchall()
    assert rev == 3


def test_debit_of_a_line_from_an_earlier_run_and_no_match():
    r = Run(received=D(2024, 3, 10))
    original = make_claim(fee="00100", dos=D(2024, 3, 1))
    r.one(original)
    r2 = r.next_run(received=D(2024, 4, 1))
    omf = "T1234" + "%07d" % original.record.dc_seq + "20240310"
    check(r2.one(make_claim(fee="00100", dos=D(2024, 3, 1), submission_code="E", original_msp_file=omf,
                            note="debit")), "ADJUSTED", ["D3"], -3208)
    check(r2.one(make_claim(fee="00100", dos=D(2024, 3, 1), submission_code="E",
                            original_msp_file="T1234" + "9999999" + "20240310", note="x")), "REFUSED", ["D2"])
    assert r2.lines("reversed_by")[0] == (2,)
    check(r2.next_run(received=D(2024, 5, 1)).one(make_claim(fee="00100", dos=D(2024, 3, 1))), "PAID", cents=3208)


def test_debit_of_held_claim_is_in_process():
    r = Run(received=D(2024, 3, 10))
    held = make_claim(fee="14039", phn=H, dos=D(2024, 3, 1))
    r.decide(held, make_claim(fee="14033", phn=H, dos=D(2024, 2, 2), dx1="D430"))
    omf = "T1234" + "%07d" % held.record.dc_seq + "20240310"
    check(r.one(make_claim(fee="14039", phn=H, dos=D(2024, 3, 1), submission_code="E", original_msp_file=omf,
                           note="x")), "REFUSED", ["D4"])


def test_unknown_fee_paid_as_billed_or_refused():
    r = Run()
    check(r.one(make_claim(fee="55555", billed=12345)), "PAID", [], 12345)
    assert r.adj.stats()["unknown_fees_paid"] == 1
    r2 = Run(unknown_fee="refuse")
    check(r2.one(make_claim(fee="55555", billed=12345)), "REFUSED", ["EI"])


def test_rejected_claim_answered_c12_with_its_codes():
    c = make_claim()
    bad = Claim(0, 1, c.record, c.raw, findings=(
        Finding(1, 26, 35, "C02", "phn", "check_digit", "valid PHN", code="AA"),
        Finding(1, 65, 72, "C02", "service_date", "bad_date", "date", code="VH"),
        Finding(1, 26, 35, "C02", "phn", "x", "y", code="AA")))
    r = Run()
    d = check(r.one(bad), "REJECTED", ["AA", "VH"], 0)
    assert d.record_code == "C12"
    assert r.lines("status", "record_code") == [("REJECTED", "C12")]
    check(r.one(make_claim()), "PAID")          # a rejected claim leaves no history


def test_line_ids_continue_and_rows_hold_integer_cents():
    r = Run()
    r.decide(make_claim(), make_claim(fee="14050", billed=15000, dos=D(2024, 4, 1)))
    r2 = r.next_run()
    d = r2.one(make_claim(fee="16100", dos=D(2024, 5, 1)))
    assert d.line_id == 3
    rows = r2.lines("line_id", "paid_cents", "billed_cents", "dos", "dc_seq", "typeof(dc_seq)", "typeof(dos)")
    assert [x[0] for x in rows] == [1, 2, 3]
    assert all(isinstance(x[1], int) and isinstance(x[2], int) for x in rows)
    assert {x[5] for x in rows} == {"integer"} and {x[6] for x in rows} == {"integer"}


def test_stats_summary():
    r = Run()
    r.decide(make_claim(), make_claim(), make_claim(fee="14044"))
    s = r.adj.stats()
    assert s["outcomes"]["PAID"] == 1 and s["outcomes"]["REFUSED"] == 2
    assert s["billed_cents"] == 3208 * 2 and s["paid_cents"] == 3208
    assert dict(s["top_refusal_codes"]) == {"HV": 1, "EI": 1}


def test_columns_match_the_store_schema():
    r = Run()
    cols = [x[1] for x in r.conn.execute("PRAGMA table_info(claim_lines)")]
    assert set(COLUMNS) <= set(cols)


# --- properties ---------------------------------------------------------------------------------------
FEES = ["00100", "16100", "14033", "14039", "14034", "14043", "14049", "14050", "14016", "98990", "55555", "14044"]
claims_st = st.lists(st.tuples(st.sampled_from(FEES), st.integers(0, 2), st.integers(0, 40), st.integers(1, 3),
                               st.sampled_from(["P1", "P2"]), st.booleans()), min_size=1, max_size=40)


def _claims(spec):
    out = []
    for fee, p, day, units, prac, timed in spec:
        dos = D(2024, 1, 1).fromordinal(D(2024, 1, 1).toordinal() + day * 9)
        kw = dict(ts="1000", te="1045") if timed else {}
        out.append(make_claim(fee=fee, phn="90000001%02d" % p, dos=dos, units=units, prac=prac, dx1="D430",
                              dob=D(1979, 1, 1), **kw))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims_st)
def test_property_one_decision_per_claim_integer_cents_caps_kept(spec):
    claims = _claims(spec)
    r = Run()
    ds = r.decide(*claims)
    assert len(ds) == len(claims)
    assert len({d.line_id for d in ds}) == len(ds)
    for d in ds:
        assert d.outcome in OUTCOMES
        assert isinstance(d.paid_cents, int) and isinstance(d.paid_units, int)
        assert d.paid_cents >= 0 and len(d.codes) <= 7
        if d.outcome in ("REFUSED", "HELD"):
            assert d.paid_cents == 0 and d.codes
    for c, d in zip(claims, ds):
        assert d.paid_cents <= max(c.billed_cents, 0) or d.paid_fee or c.fee == "55555"
    rows = r.lines("phn", "fee", "dos", "paid_units", "status", "practitioner")
    paid = [x for x in rows if x[4] in ("PAID", "ADJUSTED")]
    year = lambda dos: dos // 10000
    # R62 once per patient per CY; R65 4 x 14039; R71 14034 once; R53 6 conference units
    assert max(Counter((x[0], year(x[2])) for x in paid if x[1] == "14033").values(), default=0) <= 1
    assert max(Counter((x[0], year(x[2])) for x in paid if x[1] == "14039").values(), default=0) <= 4
    assert max(Counter((x[0], year(x[2])) for x in paid if x[1] == "14034").values(), default=0) <= 1
    units = Counter()
    for x in paid:
        if x[1] == "14016":
            units[(x[0], year(x[2]))] += x[3]
    assert max(units.values(), default=0) <= 6


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims_st)
def test_property_deterministic(spec):
    a = [(d.outcome, d.codes, d.paid_cents) for d in Run().decide(*_claims(spec))]
    b = [(d.outcome, d.codes, d.paid_cents) for d in Run().decide(*_claims(spec))]
    assert a == b


def test_r10_release_order_prerequisites_first_then_original_order_cycles_in_original_order():
    from types import SimpleNamespace as NS
    from teleproc.adjudicate.engine import Adjudicator
    P = lambda *req: NS(requires=frozenset(req))   # noqa: E731
    fake = NS(tables=NS(prereqs={"B": [P("A")], "C": [P("B")], "X": [P("Y")], "Y": [P("X")]}))
    claims = [NS(fee="C", phn="1"), NS(fee="B", phn="1"), NS(fee="A", phn="1"), NS(fee="C", phn="2"),
              NS(fee="X", phn="3"), NS(fee="Y", phn="3")]
    # phn 1: A before B before C; phn 2's C needs no held claim of its own patient; X/Y a cycle
    assert Adjudicator._release_order(fake, claims) == [2, 1, 0, 3, 4, 5]

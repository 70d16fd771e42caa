"""teleproc explain / holds (issue 11): one fixture per rule family, the sentences checked; the
trace of random claims equals their decision path (fast path or not); the CLI on the demo store."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date as D
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from teleproc import explain, trace
from teleproc.adjudicate.tables import load_tables
from teleproc.tables import read_table

from adjudicate.factories import PHN_B, Run, make_claim, registry
from adjudicate.test_lane import _claim, claim_args, fast_path_decide
from e2e_helpers import cli

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"


def told(run: Run, decision) -> dict:
    """The decision's stored line, explained."""
    run.adj.flush()
    d = explain.explain_line(run.conn, decision.line_id)
    assert d is not None
    return d


def text_of(run, decision) -> str:
    return explain.render(told(run, decision))


# --- one fixture per family --------------------------------------------------------------------------
def test_plain_claim_paid_as_billed_passes_the_fast_path_checks_on_both_paths():
    for fast in (True, False):
        r = Run(fast_path=fast)
        c = make_claim(fee="00100")
        if fast:
            assert r.adj.lane.decide(c.line_no, c.raw) is not None
            r.adj.flush()
            lid = r.conn.execute("SELECT max(line_id) FROM claim_lines").fetchone()[0]
            d = explain.explain_line(r.conn, lid)
        else:
            d = told(r, r.one(c))
        assert d["trace"] == [] and d["answer"]["record"] == "S01"
        assert "Checks: passed R07, R13, R30, R56 and the duplicate check." in explain.render(d)


def test_general_r07_not_yet_billable():
    r = Run(received=D(2007, 5, 1))
    d = told(r, r.one(make_claim(fee="14034", dos=D(2007, 4, 15), dob=D(1962, 1, 1))))
    e = d["trace"][0]
    assert (e["rule"], e["finding"], e["code"]) == ("R07", "NOT_EFFECTIVE", "CD")
    assert e["facts"] == {"fee": "14034", "received": "20070501", "billable_from": "20070505"}
    assert "received: 2007-05-01" in e["sentences"] and "billable from: 2007-05-05" in e["sentences"]
    assert e["title"] == "Effective dates, retired and undefined codes"


def test_general_r13_received_before_the_date_of_service():
    r = Run(received=D(2024, 12, 20))
    d = told(r, r.one(make_claim(dos=D(2024, 12, 31), phn="9824870522", fee="14010", dx1="V26",
                                 name_verify="G MA", dob=D(1989, 11, 2), prac="P5")))
    e = d["trace"][0]
    assert (e["rule"], e["finding"], e["code"]) == ("R13", "RECEIVED_BEFORE_DOS", "BU")
    assert e["sentences"] == ["date of service 2024-12-31, received 2024-12-20"]
    assert d["answer"]["codes"] == [{"code": "BU", "text": explain.code_texts()["BU"]}]
    assert "BU: " + explain.code_texts()["BU"] in explain.render(d)


def test_practitioner_r01_specialty_from_the_registry():
    r = Run(registry=registry([dict(number="P9", specialty="01")]))
    e = told(r, r.one(make_claim(fee="14050", prac="P9", dx1="250")))["trace"][0]
    assert (e["rule"], e["finding"], e["code"]) == ("R01", "PRACT_SPECIALTY", "WF")
    assert e["sentences"] == ["practitioner: P9", "specialty: 01", "source: registry"]
    assert e["rule_text"].startswith("specialty != 00 -> REFUSED PRACT_SPECIALTY")


def test_obstetric_r22_one_bonus_per_delivery_names_the_paid_bonus():
    r = Run()
    mom = "9000000081"
    r.decide(make_claim(fee="14104", phn=mom, dos=D(2024, 5, 10), dx1="650"))
    first = r.one(make_claim(fee="14004", phn=mom, dos=D(2024, 5, 10), dx1="650"))
    r.decide(make_claim(fee="14109", phn=mom, dos=D(2024, 5, 11), dx1="650", prac="P7"))
    d = told(r, r.one(make_claim(fee="14009", phn=mom, dos=D(2024, 5, 11), dx1="650", prac="P7")))
    e = d["trace"][0]
    assert (e["rule"], e["finding"]) == ("R22", "DUPLICATE")
    assert e["sentences"][0] == f"14004 paid on 2024-05-10 by P1 (run 1, line id {first.line_id})"


def test_maternity_r31_quarter_end():
    r = Run()
    d = told(r, r.one(make_claim(dos=D(2024, 9, 29), phn="9824870522", fee="14010", dx1="V26",
                                 name_verify="G MA", dob=D(1989, 11, 2), prac="P5")))
    assert [(e["rule"], e["finding"], e["sentences"]) for e in d["trace"]] == [
        ("R31", "DOS_NOT_QUARTER_END", ["dos: 2024-09-29"])]


def test_cdm_r40_wrong_diagnosis():
    r = Run()
    e = told(r, r.one(make_claim(fee="14051", dx1="250")))["trace"][0]
    assert (e["rule"], e["finding"], e["code"]) == ("R40", "DX_INVALID", "BI")
    assert "dx1: 250" in e["sentences"] and "expected: 428" in e["sentences"]


def test_conferencing_r50_units_reduced_and_r52_units_left_that_day():
    r = Run()
    d = told(r, r.one(make_claim(fee="14016", ts="1400", te="1440", units=4, dx1="V58")))
    e = d["trace"][0]
    assert (e["rule"], e["finding"], e["code"]) == ("R50", "UNITS_REDUCED", "CB")
    assert e["sentences"] == ["40 minutes allow 3 units, 4 billed"]
    first = r.one(make_claim(fee="14015", ts="0900", te="0945", units=3, phn=PHN_B, service_location="C",
                             dx1="V58"))
    d = told(r, r.one(make_claim(fee="14015", ts="1000", te="1030", units=2, phn=PHN_B, prac="P2",
                                 service_location="C", dx1="V58")))
    e = d["trace"][-1]
    assert (e["rule"], e["finding"]) == ("R52", "CAP_PATIENT_DAY")
    assert e["sentences"][0] == "units 1 of 4 left that day (2024-03-05), 2 billed: paid 1"
    assert e["sentences"][1] == f"14015 paid on 2024-03-05 by P1 (run 1, line id {first.line_id})"
    assert d["answer"]["paid_units"] == 1


def test_complex_care_r62_once_a_year():
    r = Run()
    first = r.decide(make_claim(fee="00100", phn=PHN_B, dos=D(2024, 1, 20)),
                     make_claim(fee="14033", phn=PHN_B, dos=D(2024, 1, 20), dx1="R250"))[1]
    r.decide(make_claim(fee="00100", phn=PHN_B, dos=D(2024, 9, 1)))
    d = told(r, r.decide(make_claim(fee="00100", phn=PHN_B, dos=D(2024, 9, 2)),
                         make_claim(fee="14033", phn=PHN_B, dos=D(2024, 9, 2), dx1="R250"))[1])
    e = d["trace"][0]
    assert (e["rule"], e["finding"], e["code"]) == ("R62", "CAP_PATIENT_CY", "TA")
    assert e["sentences"] == ["1 of 1 claims used that calendar year (2024-01-01 to 2024-12-31) (the patient's limit)",
                              f"14033 paid on 2024-01-20 by P1 (run 1, line id {first.line_id})"]
    assert d["answer"]["codes"] == [{"code": "TA", "text": "PATIENT'S ANNUAL LIMIT FOR THIS BENEFIT HAS BEEN REACHED."}]


def test_prevention_r70_sex_mismatch():
    phn = "9000000072"
    r = Run(registry=registry(patients=[dict(phn=phn, sex="F")]))
    d = told(r, r.one(make_claim(fee="14034", phn=phn, dob=D(1979, 1, 1), dos=D(2024, 6, 1), dx1="V700")))
    e = d["trace"][0]
    assert (e["rule"], e["finding"], e["code"]) == ("R70", "SEX_MISMATCH", "FO")
    assert e["sentences"] == ["age: 45", "sex: F", "source: registry", "windows: M:40-49, F:50-59"]
    assert "FO: THE SEX OF PATIENT DOES NOT CORRESPOND WITH FEE ITEM BILLED" in explain.render(d)


def test_palliative_r75_after_the_plan():
    r = Run()
    phn = "9000000073"
    r.decide(make_claim(fee="00100", phn=phn, dos=D(2023, 7, 1)), make_claim(fee="00100", phn=phn, dos=D(2023, 12, 1)))
    plan = r.one(make_claim(fee="14063", phn=phn, dos=D(2024, 5, 1)))
    e = told(r, r.one(make_claim(fee="14050", phn=phn, dos=D(2024, 6, 1))))["trace"][0]
    assert (e["rule"], e["finding"], e["code"]) == ("R75", "AFTER_PALLIATIVE", "FV")
    assert e["sentences"] == [f"14063 paid on 2024-05-01 by P1 (run 1, line id {plan.line_id})"]


def test_mental_health_r86_recode():
    r = Run()
    d = told(r, r.one(make_claim(fee="14045", dob=D(1950, 1, 1), dos=D(2024, 3, 5), dx1="311")))
    e = d["trace"][0]
    assert (e["rule"], e["finding"], e["code"], e["outcome"]) == ("R86", "AGE_CODE_MISMATCH", "HC", "changed")
    assert e["sentences"] == ["age: 74", "fee: 14045", "band fee: 14047", "band: 70-79"]
    assert "paid $" in explain.render(d) and "under 14047" in explain.render(d)


def test_pas_r96_repeat_attachment():
    r = Run()
    first = r.one(make_claim(fee="98990", phn="9000000051", dos=D(2024, 7, 2), billed=0))
    d = told(r, r.one(make_claim(fee="98990", phn="9000000051", dos=D(2024, 8, 2), billed=0)))
    assert [(e["rule"], e["finding"]) for e in d["trace"]] == [("R96", "PANEL_DUP")]
    assert d["trace"][0]["sentences"] == [f"98990 paid on 2024-07-02 by P1 (run 1, line id {first.line_id})"]


def test_duplicate_names_the_line_it_duplicates_across_runs():
    r = Run()
    first = r.one(make_claim(fee="00100", dos=D(2024, 1, 10), prac="10001"))
    r2 = r.next_run()
    d = told(r2, r2.one(make_claim(fee="00100", dos=D(2024, 1, 10), prac="10001")))
    e = d["trace"][0]
    assert (e["rule"], e["finding"], e["code"]) == ("DUP", "DUPLICATE", "HV")
    assert e["sentences"] == [f"00100 paid on 2024-01-10 by 10001 (run 1, line id {first.line_id})"]
    assert e["title"] == "Exact duplicate"


def test_prerequisite_hold_is_listed_by_holds_with_what_it_waits_for():
    r = Run()
    held, plan = r.decide(make_claim(fee="14045", phn=PHN_B, dob=D(1980, 1, 1), dx1="311", dos=D(2024, 3, 5)),
                          make_claim(fee="14043", phn=PHN_B, dob=D(1980, 1, 1), dx1="311", dos=D(2024, 3, 6)))
    assert (held.outcome, plan.outcome) == ("HELD", "PAID")
    e = told(r, held)["trace"][-1]
    assert (e["rule"], e["finding"], e["code"], e["outcome"]) == ("R87", "PREREQ_PENDING", "BH", "held")
    assert e["sentences"] == ["needs 14043 in the same calendar year by the same practitioner, "
                              "billed in this file and not decided yet"]
    [h] = explain.pending_holds(r.conn)
    assert (h["line_id"], h["state"], h["fee"]) == (held.line_id, "pending", "14045")
    assert h["reason"] == "R87 PREREQ_PENDING: the service this fee needs is not decided yet"
    assert h["waits_for"] == "a paid 14043 in the same calendar year (billed in the same file)"


def test_review_hold_waits_for_a_reviewer():
    r = Run()
    phn = "9000000074"
    r.one(make_claim(fee="14063", phn=phn, dos=D(2024, 5, 1)))
    held = r.one(make_claim(fee="14063", phn=phn, dos=D(2025, 2, 2), prac="P9"))
    assert held.outcome == "HELD"
    r.adj.flush()
    [h] = explain.pending_holds(r.conn)
    assert h == {"line_id": held.line_id, "folio": 1, "practitioner": "P9", "fee": "14063",
                 "billed": "100.00", "service_date": "2025-02-02", "state": "review",
                 "reason": "R76 REVIEW: the claim needs a person's review",
                 "waits_for": f"a reviewer: teleproc release --review pay|refuse --line {held.line_id}"}


def test_debit_names_the_line_it_reverses():
    r = Run(received=D(2024, 4, 1))
    paid = r.one(make_claim(fee="00100", dos=D(2024, 3, 5)))
    r2 = r.next_run(received=D(2024, 4, 20))
    omf = f"T1234{paid_seq(r2, paid.line_id):07d}20240401"
    d = told(r2, r2.one(make_claim(fee="00100", dos=D(2024, 3, 5), submission_code="E",
                                   original_msp_file=omf, note="debit")))
    e = d["trace"][0]
    assert (e["rule"], e["finding"], e["code"]) == ("DEBIT", "DEBIT_DONE", "D3")
    assert e["sentences"] == [f"00100 paid on 2024-03-05 by P1 (run 1, line id {paid.line_id})"]


def paid_seq(run, line_id):
    return run.conn.execute("SELECT dc_seq FROM claim_lines WHERE line_id = ?", (line_id,)).fetchone()[0]


def test_price_adjusted_says_billed_and_scheduled():
    r = Run()
    r.decide(make_claim(fee="00100", dos=D(2023, 7, 1)), make_claim(fee="00100", dos=D(2023, 12, 1)))
    d = told(r, r.one(make_claim(fee="14050", billed=15000)))
    e = d["trace"][-1]
    assert (e["rule"], e["finding"], e["code"]) == ("R12", "PRICE_ADJUSTED", "BG")
    assert e["sentences"] == ["billed $150.00, scheduled $125.00 x 1 = $125.00"]


def test_fact_sentences_caps_and_lines():
    assert explain.fact_sentences({"measure": "units", "used": "1", "max": "4", "period": "day",
                                   "from": "20240305", "to": "20240305", "billed_units": "2"}) == [
        "units 3 of 4 left that day (2024-03-05), 2 billed: paid 3"]
    assert explain.line_words("42/3/14050/20240110/10001/PAID") == \
        "14050 paid on 2024-01-10 by 10001 (run 3, line id 42)"
    assert explain.money(123456789) == "1,234,567.89" and explain.money(-5) == "-0.05"


# --- data ----------------------------------------------------------------------------------------------
def test_every_finding_has_words_and_every_traced_rule_has_a_row():
    words = {r["finding"] for r in read_table("finding_texts")}
    assert words == set(load_tables().findings)
    ids = {r["id"] for r in read_table("rules")}
    from teleproc.adjudicate.rules import ORDER
    t = load_tables()
    used = {r.rid for r in ORDER} | {lim.rule for v in t.limits.values() for lim in v} \
        | {lim.rule for v in t.minimums.values() for lim in v} | {p.rule for v in t.prereqs.values() for p in v} \
        | {s.rule for v in t.same_day.values() for s in v} | {"R12", "R04", "DEBIT", "REVIEW", "FMT", "DOS"}
    assert used - {"CAP", "MIN"} <= ids
    for r in read_table("rules"):
        if r["document"] == "seed-rules.md":
            a, b = map(int, r["lines"].split("-"))
            assert 0 < a < b and r["title"] and r["text"], r["id"]


SPEC = ROOT.parent / "shared" / "spec" / "seed-rules.md"


@pytest.mark.skipif(not SPEC.exists(), reason="the spec is not beside this checkout")
def test_rules_csv_is_the_extractors_output(tmp_path):
    out = tmp_path / "rules.csv"
    subprocess.run([sys.executable, str(ROOT / "tools" / "extract_rules.py"), "--spec", str(SPEC), "--out", str(out)],
                   check=True, capture_output=True)
    assert out.read_text(encoding="utf-8") == (ROOT / "formats" / "tables" / "rules.csv").read_text(encoding="utf-8")
    lines = SPEC.read_text(encoding="utf-8").splitlines()
    r62 = {r["id"]: r for r in read_table("rules")}["R62"]
    a, b = map(int, r62["lines"].split("-"))
    assert lines[a - 1].startswith("**R62 - ") and lines[b - 1].startswith("* Source:")


# --- the trace is the decision path (hypothesis, against the rules' way) ----------------------------------
def _check_trace(d, stored: str):
    findings = load_tables().findings
    entries = trace.decode(stored)
    assert trace.tags(stored) == d.reasons
    if d.outcome in ("REFUSED", "HELD"):
        rid, finding, _ = entries[-1]
        assert findings[finding][0] == d.codes[0]
        assert findings[finding][1] == ("HELD" if d.outcome == "HELD" else "REFUSED")
    elif d.outcome in ("PAID", "ADJUSTED"):
        for _, finding, _ in entries:
            assert findings[finding][1] == "INFO"
        assert {findings[f][0] for _, f, _ in entries} - {""} == set(d.codes)
        if d.outcome == "PAID" and not d.codes and d.paid_fee == "":
            assert all(findings[f][0] == "" for _, f, _ in entries)


@settings(max_examples=80, deadline=None)
@given(first=st.lists(claim_args, max_size=6), second=st.lists(claim_args, min_size=1, max_size=10),
       received=st.sampled_from([D(2024, 3, 1), D(2025, 12, 31)]))
def test_trace_equals_the_decision_path_with_or_without_the_fast_path(first, second, received):
    slow, fast = Run(received=received, fast_path=False), Run(received=received)
    for batch in (first, second):
        claims = [_claim(a) for a in batch]
        decisions = slow.decide(*claims)
        fast_path_decide(fast, claims)
        slow.adj.flush()
        for d in decisions:
            stored = slow.conn.execute("SELECT reasons FROM claim_lines WHERE line_id = ?", (d.line_id,)).fetchone()[0]
            assert stored == d.trace
            _check_trace(d, stored)
            if d.record_code == "S01" and not d.codes and d.outcome == "PAID" and not stored:
                told = explain.explain_line(slow.conn, d.line_id)
                assert told["trace"] == [] and told["passed"]
        if batch is first:
            slow, fast = slow.next_run(received=received), fast.next_run(received=received)
    assert slow.lines("line_id", "reasons") == fast.lines("line_id", "reasons")


# --- the commands --------------------------------------------------------------------------------------
@pytest.fixture
def demo_store(tmp_path):
    db = tmp_path / "demo.db"
    assert cli("adjudicate", DEMO / "submission.txt", "--state", db, "--new-store", "--out", tmp_path / "r1.txt",
               "--registry", DEMO / "registry", "--received", "20240315") == 0
    return db


def test_explain_cli_text_json_masking_and_no_match(demo_store, capsys):
    capsys.readouterr()
    assert cli("explain", "--state", demo_store, "--line-id", 8) == 0
    out = capsys.readouterr()
    assert "R70 (Age/sex window): the patient's sex does not fit the fee [SEX_MISMATCH, refused -> FO]." in out.out
    assert "FO: THE SEX OF PATIENT DOES NOT CORRESPOND WITH FEE ITEM BILLED" in out.out
    assert "PHN ******1072" in out.out and "9151071072" not in out.out + out.err
    assert cli("explain", "--state", demo_store, "--line-id", 8, "--phn-full", "--format", "json") == 0
    [d] = json.loads(capsys.readouterr().out)
    assert d["claim"]["phn"] == "9151071072" and d["trace"][0]["rule"] == "R70"
    assert cli("explain", "--state", demo_store, "--folio", 99999) == 1
    assert "no claim line matches" in capsys.readouterr().err
    assert cli("explain", "--state", demo_store) == 2
    assert cli("explain", "--state", demo_store, "--run", 1, "--record", 9) == 0
    assert "Line 8 " in capsys.readouterr().out
    assert cli("explain", "--state", demo_store, "--line-id", 22) == 0     # a rejected claim
    assert "FMT (Record format and pre-edit checks)" in capsys.readouterr().out


def test_explain_phn_from_stdin_is_never_echoed(demo_store, tmp_path):
    env_py = [sys.executable, "-m", "teleproc", "explain", "--state", str(demo_store), "--phn", "-", "--format", "json"]
    p = subprocess.run(env_py, input="9151210417\n", capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    found = json.loads(p.stdout)
    assert found and all(d["claim"]["phn"] == "******0417" for d in found)
    assert "9151210417" not in p.stdout + p.stderr
    p = subprocess.run(env_py, input="123\n", capture_output=True, text=True)
    assert p.returncode == 2 and "123" not in p.stderr


def test_holds_cli(demo_store, capsys):
    capsys.readouterr()
    assert cli("holds", "--state", demo_store, "--format", "json") == 0
    [h] = json.loads(capsys.readouterr().out)
    assert set(h) >= {"line_id", "folio", "practitioner", "fee", "service_date", "state", "reason", "waits_for"}
    assert (h["line_id"], h["fee"], h["state"]) == (4, "14039", "pending")
    assert h["waits_for"] == "a paid 14033 in the same calendar year (billed in the same file)"
    assert cli("holds", "--state", demo_store) == 0
    assert "1 claims held (1 pending, 0 for review)" in capsys.readouterr().out

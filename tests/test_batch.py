"""The batch job's invariants, whatever the rules decide (a scripted adjudicator stands in).

One answer per claim, in input order within its block (C12s; each payee's remittance);
S21/S22 totals equal the sum of their lines; VRC and VTC counts right; the same state and
input give byte-identical output; a run that fails before its commit leaves the store and
the output path untouched.
"""
from __future__ import annotations

import argparse
from pathlib import Path
import sqlite3
from datetime import date
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from teleproc import batch, store
from teleproc.codec import parse_line
from teleproc.decisions import ADJUSTED, HELD, PAID, REFUSED, REJECTED, Decision
from teleproc.records import C02, VS1

PHNS = ["9151210417", "9151065434", "9151242549", "9151071072", "9151274799"]
PAYEES = ["11111", "22222", "33333"]


class ScriptedAdjudicator:
    """Answers claim i with script[i % len(script)]; records nothing but what the job asks."""

    lane = SimpleNamespace(texts=frozenset(), decide=None)     # no S01 lane: every claim decided here

    def __init__(self, script):
        self.script = script
        self.i = 0
        self.flushed = False

    def prescan(self, claim):
        pass

    def release(self):
        return []

    def decide_group(self, claims):
        out = []
        for c in claims:
            if c.findings:
                out.append(Decision(REJECTED, tuple(f.code for f in c.findings if f.code)[:7]))
            else:
                outcome = self.script[self.i % len(self.script)]
                cents = c.billed_cents
                out.append({
                    PAID: Decision(PAID, (), c.units, cents),
                    ADJUSTED: Decision(ADJUSTED, ("BG",), c.units, cents // 2),
                    REFUSED: Decision(REFUSED, ("FB",)),
                    HELD: Decision(HELD, ("BH",)),
                }[outcome])
            self.i += 1
        return out

    def flush(self):
        self.flushed = True

    def stats(self):
        return {}


def write_submission(path, claims, seq0=1):
    lines = [VS1(data_centre="V0001", dc_seq=seq0, vendor_dc="V0001", software_name="TEST").line]
    seq = seq0
    for i, (payee, phn, cents, bad) in enumerate(claims):
        seq += 1
        c = C02(data_centre="V0001", dc_seq=seq, payee=payee, practitioner=payee, phn=phn,
                name_verify="AB" + "CD", units=1, fee_item="00100", billed_amount=cents,
                service_date=date(2024, 1, 1 + i % 28), dx1="465", folio=i + 1)
        line = c.line
        if bad:
            line = line[:25] + "9151210418" + line[35:]   # bad check digit -> C12 AA
        lines.append(line)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="ascii", newline="")


def args_for(tmp_path, sub, **kw):
    ns = dict(submission=str(sub), state=str(tmp_path / "state.db"), out=str(tmp_path / "return.txt"),
              registry=None, received=date(2024, 2, 1), payment_date=None, timestamp=None,
              report=None, unknown_fee="pay", allow_sequence_gap=False, line_ending=None,
              return_lengths=None, phn_remainder_zero=None)
    ns["new_store"] = not Path(ns["state"]).exists()
    ns.update(kw)
    return argparse.Namespace(**ns)


def run_into(d, sub, monkeypatch, script=(PAID, REFUSED, HELD)) -> bytes:
    """Adjudicate ``sub`` with a scripted adjudicator into a fresh folder; the return file."""
    d.mkdir()
    monkeypatch.setattr(batch, "_adjudicator", lambda *a, **kw: ScriptedAdjudicator(list(script)))
    assert batch.run_adjudicate(args_for(d, sub), out=open("/dev/null", "w")) == 0
    return (d / "return.txt").read_bytes()


claim_st = st.tuples(st.sampled_from(PAYEES), st.sampled_from(PHNS), st.integers(0, 99_999_99),
                     st.sampled_from([False, False, False, True]))   # True: a bad PHN -> C12
script_st = st.lists(st.sampled_from([PAID, ADJUSTED, REFUSED, HELD]), min_size=1, max_size=6)


def read_return(path):
    """The return file through the return-file reader (the writer's oracle: no finding)."""
    from e2e_helpers import read_back
    recs = read_back(path)
    assert recs == [parse_line(l) for l in path.read_bytes().decode("ascii").split("\r\n") if l]
    return recs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims=st.lists(claim_st, min_size=1, max_size=25), script=script_st)
def test_one_answer_per_claim_in_order_with_balanced_totals(tmp_path_factory, claims, script):
    tmp = tmp_path_factory.mktemp("run")
    sub = tmp / "sub.txt"
    write_submission(sub, claims)
    fake = ScriptedAdjudicator(script)
    orig = batch._adjudicator
    batch._adjudicator = lambda *a, **k: fake
    try:
        assert batch.run_adjudicate(args_for(tmp, sub), out=open("/dev/null", "w")) == 0
    finally:
        batch._adjudicator = orig
    recs = read_return(tmp / "return.txt")
    # one answer per claim
    answers = [r for r in recs if r.CODE in ("C12", "S01", "S02", "S03", "S04")]
    assert len(answers) == len(claims)
    # order: C12s first in input order, then per payee (first-appearance order) input order
    seqs = [r.dc_seq for r in answers]
    c12 = [r.dc_seq for r in answers if r.CODE == "C12"]
    assert c12 == sorted(c12) and seqs[:len(c12)] == c12
    payee_order = list(dict.fromkeys(p for (p, _, _, bad) in claims if not bad))
    assert [r.payee for r in recs if r.CODE == "S21"] == payee_order
    for payee in payee_order:
        lines = [r for r in recs if getattr(r, "payee", None) == payee and r.CODE in ("S01", "S02", "S03", "S04")]
        assert [r.dc_seq for r in lines] == sorted(r.dc_seq for r in lines)
        expected = [i + 2 for i, (p, _, _, bad) in enumerate(claims) if p == payee and not bad]
        assert [r.dc_seq for r in lines] == expected
    # remittance blocks: S21 totals = sum of lines; S22 per practitioner; VRC count
    i = 0
    while i < len(recs):
        r = recs[i]
        if r.CODE != "S21":
            i += 1
            continue
        j = i + 1
        paid = 0
        by_prac = {}
        while recs[j].CODE in ("S01", "S02", "S03", "S04"):
            x = recs[j]
            p = getattr(x, "paid_amount", 0) or 0
            paid += p
            by_prac.setdefault(x.practitioner, 0)
            by_prac[x.practitioner] += p
            j += 1
        assert r.amount_paid == paid
        assert r.cheque_amount + r.new_balance - r.balance_forward == r.amount_paid
        s22 = []
        while recs[j].CODE == "S22":
            s22.append(recs[j])
            j += 1
        assert {x.practitioner: x.amount_paid for x in s22} == by_prac
        assert sum(x.amount_billed for x in s22) == r.amount_billed
        assert recs[j].CODE == "VRC" and recs[j].record_count == j - i
        i = j + 1
    vtc = recs[-1]
    assert vtc.CODE == "VTC" and vtc.total == len(recs)
    assert vtc.count1 == sum(r.CODE.startswith("S") for r in recs)
    assert vtc.count2 == len(c12)
    assert vtc.count6 == sum(r.CODE in ("VRC", "VTC") for r in recs)


def test_same_state_and_input_give_identical_output(tmp_path, monkeypatch):
    sub = tmp_path / "sub.txt"
    write_submission(sub, [(p, PHNS[i % 5], 1000 + i, i == 3) for i, p in enumerate(PAYEES * 3)])
    outs = [run_into(tmp_path / f"r{k}", sub, monkeypatch) for k in range(2)]
    assert outs[0] == outs[1]
    assert outs[0].endswith(b"\r\n")


def test_failure_before_commit_leaves_store_and_output_untouched(tmp_path, monkeypatch):
    sub = tmp_path / "sub.txt"
    write_submission(sub, [("11111", PHNS[0], 1000, False)] * 3)
    store.create(tmp_path / "state.db").close()
    args = args_for(tmp_path, sub)
    before = sqlite3.connect(args.state).execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    monkeypatch.setattr(batch, "_adjudicator", lambda *a, **kw: ScriptedAdjudicator([PAID]))

    def boom(self, path, **kw):
        raise RuntimeError("killed between decisions and commit")
    monkeypatch.setattr(batch.ReturnFileBuilder, "write", boom)
    with pytest.raises(RuntimeError):
        batch.run_adjudicate(args, out=open("/dev/null", "w"))
    db = sqlite3.connect(args.state)
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == before
    assert db.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == 0
    assert not (tmp_path / "return.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".return.txt")]


def test_sequence_must_continue_unless_allowed(tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "_adjudicator", lambda *a, **kw: ScriptedAdjudicator([PAID]))
    sub = tmp_path / "sub.txt"
    write_submission(sub, [("11111", PHNS[0], 1000, False)] * 2, seq0=10)   # VS1 10, claims 11, 12
    assert batch.run_adjudicate(args_for(tmp_path, sub), out=open("/dev/null", "w")) == 0
    # the same file again does not continue from 12
    with pytest.raises(batch.SubmissionRejected, match="expected 0000013"):
        batch.run_adjudicate(args_for(tmp_path, sub, out=str(tmp_path / "again.txt")), out=open("/dev/null", "w"))
    assert not (tmp_path / "again.txt").exists()
    assert batch.run_adjudicate(args_for(tmp_path, sub, out=str(tmp_path / "again.txt"), allow_sequence_gap=True),
                                out=open("/dev/null", "w")) == 0
    nxt = tmp_path / "next.txt"
    write_submission(nxt, [("11111", PHNS[1], 500, False)], seq0=13)
    assert batch.run_adjudicate(args_for(tmp_path, nxt, out=str(tmp_path / "r2.txt")), out=open("/dev/null", "w")) == 0


def test_oscar_lengths_and_lf_setting(tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "_adjudicator", lambda *a, **kw: ScriptedAdjudicator([PAID, REFUSED]))
    sub = tmp_path / "sub.txt"
    write_submission(sub, [("11111", PHNS[0], 1000, False)] * 2)
    batch.run_adjudicate(args_for(tmp_path, sub, return_lengths="oscar", line_ending="lf"), out=open("/dev/null", "w"))
    lines = (tmp_path / "return.txt").read_bytes().decode().split("\n")[:-1]
    lens = {l[:3]: len(l) for l in lines}
    assert lens["S01"] == 165 and lens["S03"] == 267 and lens["S21"] == 165 and lens["VTC"] == 166


def test_spilled_claim_lines_come_back_in_order(tmp_path, monkeypatch):
    """Claim lines spilled to the spool file in chunks (memory stays flat) give the same file."""
    from teleproc import remit
    sub = tmp_path / "sub.txt"
    write_submission(sub, [(PAYEES[i % 3], PHNS[i % 5], 1000 + i, i == 4) for i in range(40)])
    outs = []
    for spill_at in (10_000, 3):
        monkeypatch.setattr(remit, "_SPILL_AT", spill_at)
        outs.append(run_into(tmp_path / f"s{spill_at}", sub, monkeypatch))
    assert outs[0] == outs[1]


def test_progress_on_a_terminal_only(tmp_path, monkeypatch, capsys):
    """Progress goes to stderr when it is a terminal, never into a pipe or a log."""
    from teleproc import progress
    monkeypatch.setattr(batch, "_adjudicator", lambda *a, **kw: ScriptedAdjudicator([PAID]))
    sub = tmp_path / "sub.txt"
    write_submission(sub, [("11111", PHNS[i % 5], 1000 + i, False) for i in range(12)])
    monkeypatch.setattr(progress.Progress, "__init__", lambda self, label, every=5, total=None: (
        setattr(self, "on", True), setattr(self, "label", label), setattr(self, "every", every),
        setattr(self, "total", total), setattr(self, "t0", 0.0), None)[-1])
    batch.run_adjudicate(args_for(tmp_path, sub), out=open("/dev/null", "w"))
    err = capsys.readouterr().err
    assert "adjudicate: 5 records" in err and "adjudicate: 10 records" in err

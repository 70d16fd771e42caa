"""teleproc reconcile (issue 11): the HIBC test remittance against a submission reconstructed for it
(it does not balance, by its own words: exit 1 listing its known imbalances), teleproc's own return
files over two runs with a hold and debits, and deliberately broken pairs."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_helpers import DEMO, cli, run_demo_1, run_demo_2

from teleproc.codec import codec, parse_line

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "fixtures" / "vectors"
HIBC = VECTORS / "hibc-test-remittance-201005.txt"
HIBC_SUB = VECTORS / "hibc-reconstructed-submission.txt"

R1 = "hibc-test-remittance-201005.txt remittance of payee 99609 paid 2016-06-29 (S21 line 92)"
R2 = "hibc-test-remittance-201005.txt remittance of payee 99609 paid 2016-06-30 (S21 line 285)"
HIBC_IMBALANCES = {
    (R1, "S21 amount paid = its claim lines' paid amounts", 123456789, 1351880),
    (R1, "S21 amount paid = its S22 amounts paid", 123456789, 678951880),
    (R1, "S21 amount billed = its S22 amounts billed", 1607769, 1912345),
    (R1 + ", S22 of practitioner 99071", "S22 amount paid = the practitioner's lines' paid amounts", 678951880, 1351880),
    (R1 + ", S22 of practitioner 99071", "S22 amount billed = the practitioner's lines' billed amounts", 1912345, 1402980),
    (R2, "S21 amount paid = its claim lines' paid amounts", 102071, 215812),
    (R2, "S21 amount paid = its S22 amounts paid", 102071, 9980859),
    (R2, "S21 amount billed = its S22 amounts billed", 145420, 10126080),
    (R2 + ", S22 of practitioner 99026", "S22 amount paid = the practitioner's lines' paid amounts", 158028, 102541),
    (R2 + ", S22 of practitioner 99026", "S22 amount billed = the practitioner's lines' billed amounts", 168028, 109836),
    (R2 + ", S22 of practitioner 99028", "S22 amount paid = the practitioner's lines' paid amounts", 9632, 0),
    (R2 + ", S22 of practitioner 99028", "S22 amount billed = the practitioner's lines' billed amounts", 27101, 0),
    (R2 + ", S22 of practitioner 99027", "S22 amount paid = the practitioner's lines' paid amounts", 9813199, 2540),
    (R2 + ", S22 of practitioner 99027", "S22 amount billed = the practitioner's lines' billed amounts", 9930951, 5080),
    (R2, "an S22 for practitioner 99025 (it has 41 claim lines)", 1, 0),
    (R2, "an S22 for practitioner 99029 (it has 6 claim lines)", 1, 0),
    # the cheque identity (cheque + new balance - balance forward = lines paid + S23/S24 adjustments
    # made): line 92 cheque 13,516.89 against 13,518.80 paid + 673.90 (S23 line 275); line 285
    # cheque 1,172.95 against 2,158.12 paid + the S23/S24 lines 347-350
    (R1, "S21 cheque + new balance - balance forward = paid + S23/S24 adjustments", 1351689, 1419270),
    (R2, "S21 cheque + new balance - balance forward = paid + S23/S24 adjustments", 117295, 1038062),
}


def run(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    rc = cli("reconcile", *argv)
    return rc, capsys.readouterr().out


def test_reconstructed_submission_is_the_generators_output():
    r = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'fixtures'); import make_hibc_submission as m;"
                        "sys.stdout.buffer.write(m.content())"], cwd=ROOT, capture_output=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == HIBC_SUB.read_bytes()


def test_hibc_remittance_does_not_balance_and_says_where(capsys):
    rc, out = run(capsys, HIBC_SUB, "--returns", HIBC, "--format", "json")
    rep = json.loads(out)
    assert rc == 1 and rep["exit_status"] == 1
    assert (rep["claims"], rep["answers"], rep["never_answered"], rep["unmatched_answers"]) == (299, 323, 0, 0)
    assert (rep["answered"], rep["still_held"]) == (282, 17)
    assert rep["outcomes"] == {"paid": 217, "refused": 5, "rejected": 60, "held": 17}
    got = {(b["where"], b["check"], b["expected"], b["found"]) for b in rep["balances"] if b["ok"] is False}
    assert got == HIBC_IMBALANCES
    ok = {(b["where"], b["check"]) for b in rep["balances"] if b["ok"]}
    assert (R1, "VRC record count = the remittance's S records") in ok       # 192: counts do balance
    assert ("hibc-test-remittance-201005.txt", "VTC total = the file's lines") in ok
    assert rep["codes"]["BH"] == {"count": 16, "text": "THIS CLAIM WILL BE PROCESSED ON A FUTURE REMITTANCE "
                                                       "STATEMENT. PLEASE DO NOT REBILL."}
    assert rep["problems"] == []
    # a claim answered by two C12 lines (AA and AP) is one rejected claim
    rc, out = run(capsys, HIBC_SUB, "--returns", HIBC, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    seq192 = [r for r in rows if r["dc_seq"] == "192" and r["practitioner"] == "99609"]
    assert len(seq192) == 1 and seq192[0]["state"] == "rejected" and seq192[0]["codes"] == "AA AP"
    assert all(r["phn"].startswith("******") for r in rows)


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("recon")
    db = tmp / "s.db"
    run_demo_1(tmp, db, tmp / "r1.txt")
    run_demo_2(tmp, db, tmp / "r2.txt")
    return tmp


def test_own_returns_over_two_runs_with_a_hold_and_debits_balance(demo_runs, capsys):
    t = demo_runs
    rc, out = run(capsys, DEMO / "submission.txt", DEMO / "submission-2.txt", "--returns", t / "r1.txt", t / "r2.txt",
                  "--format", "json", "--fail-on-held")
    rep = json.loads(out)
    assert rc == 0, [b for b in rep["balances"] if not b["ok"]]
    assert (rep["never_answered"], rep["unmatched_answers"], rep["still_held"], rep["unbalanced"]) == (0, 0, 0, 0)
    assert all(b["ok"] for b in rep["balances"])
    rc, out = run(capsys, DEMO / "submission.txt", DEMO / "submission-2.txt", "--returns", t / "r1.txt", t / "r2.txt",
                  "--format", "csv")
    rows = {(r["file"], int(r["dc_seq"])): r for r in csv.DictReader(io.StringIO(out))}
    held = rows[("submission.txt", 5)]
    assert held["state"] == "paid" and held["answers"].startswith("S04 BH (r1.txt:") and "; S01 (r2.txt:" in held["answers"]
    debit = rows[("submission-2.txt", 40)]
    assert (debit["debit"], debit["state"], debit["paid"], debit["codes"]) == ("True", "paid", "-100.00", "D3")
    # every paid amount of the return files is counted once, debits negative
    assert sum(p["paid_cents"] for p in rep["payees"]) == sum(
        int(r["paid"].replace(",", "").replace(".", "")) for r in rows.values())


def test_a_hold_still_held_is_fine_unless_fail_on_held(demo_runs, capsys):
    t = demo_runs
    rc, out = run(capsys, DEMO / "submission.txt", "--returns", t / "r1.txt")
    assert rc == 0 and "still held: 1" in out and "seq 5 practitioner 10001" in out
    rc, _ = run(capsys, DEMO / "submission.txt", "--returns", t / "r1.txt", "--fail-on-held")
    assert rc == 1


def _without_line(src: Path, dst: Path, pred) -> str:
    lines = src.read_bytes().split(b"\r\n")
    gone = next(i for i, ln in enumerate(lines) if pred(ln.decode("ascii")))
    dst.write_bytes(b"\r\n".join(lines[:gone] + lines[gone + 1:]))
    return lines[gone].decode("ascii")


def test_broken_pair_a_missing_answer(demo_runs, tmp_path, capsys):
    ret = tmp_path / "r1.txt"
    gone = _without_line(demo_runs / "r1.txt", ret, lambda ln: ln.startswith("S03"))
    rc, out = run(capsys, DEMO / "submission.txt", "--returns", ret, "--format", "json")
    rep = json.loads(out)
    assert rc == 1 and rep["never_answered"] == 1
    assert rep["never"][0]["dc_seq"] == parse_line(gone).dc_seq
    # the file's own counts now disagree with its lines: the VRC and the VTC say so
    bad = {b["check"] for b in rep["balances"] if b["ok"] is False}
    assert "VRC record count = the remittance's S records" in bad and "VTC total = the file's lines" in bad


def test_broken_pair_an_extra_answer(demo_runs, tmp_path, capsys):
    sub = tmp_path / "sub.txt"
    gone = _without_line(DEMO / "submission.txt", sub, lambda ln: ln.startswith("C02") and ln[8:15] == "0000002")
    rc, out = run(capsys, sub, "--returns", demo_runs / "r1.txt", "--format", "json")
    rep = json.loads(out)
    assert rc == 1 and rep["unmatched_answers"] == 1 and rep["never_answered"] == 0
    assert rep["unmatched"][0]["dc_seq"] == 2 and rep["unbalanced"] == 0
    assert gone.startswith("C02")


def test_broken_pair_an_unbalanced_total(demo_runs, tmp_path, capsys):
    ret = tmp_path / "r1.txt"
    s21 = codec("S21")
    out_lines = []
    for line in (demo_runs / "r1.txt").read_bytes().decode("ascii").split("\r\n"):
        if line.startswith("S21") and not out_lines[-1:] == ["changed"]:
            v = parse_line(line).asdict()
            if v["payee"] == "90001":
                v["amount_paid"] += 100
                line = s21.build_line(v)
        out_lines.append(line)
    ret.write_bytes("\r\n".join(out_lines).encode("ascii"))
    rc, out = run(capsys, DEMO / "submission.txt", "--returns", ret)
    assert rc == 1
    bad = [ln for ln in out.splitlines() if ln.startswith("  UNBALANCED")]
    assert len(bad) == 2 and all("payee 90001" in b for b in bad)
    assert "S21 amount paid = its claim lines' paid amounts: the file says $3,251.69, the lines give $3,250.69" in bad[0]
    assert "never answered: 0" in out and "answers matching no claim: 0" in out


def test_report_file_and_bad_input(demo_runs, tmp_path, capsys):
    out = tmp_path / "rep.txt"
    assert cli("reconcile", DEMO / "submission.txt", "--returns", demo_runs / "r1.txt", "--out", out) == 0
    assert "claims in 1 submission(s)" in out.read_text() and os.stat(out).st_mode & 0o777 == 0o600
    assert cli("reconcile", DEMO / "submission.txt", "--returns", demo_runs / "r1.txt",
               "--out", DEMO / "submission.txt") == 2                       # never onto an input
    assert cli("reconcile", DEMO / "submission.txt", "--returns", tmp_path / "missing.txt") == 2
    junk = tmp_path / "junk.txt"
    junk.write_text("S01 this is not a return record\n")
    rc, text = run(capsys, DEMO / "submission.txt", "--returns", junk)
    assert rc == 1 and "PROBLEM cannot read" in text


def _pack(tmp_path) -> list[Path]:
    from teleproc.conformance.returns import pack
    out = []
    for name, lines in pack():
        p = tmp_path / name
        p.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))
        out.append(p)
    return out


def test_s00_and_adjustments_balance_in_the_conformance_return_pack(tmp_path, capsys):
    """The return pack holds an S00 (data centre changed: a paid line, S02 layout), S23/S24
    adjustments and a cheque net of them: every total balances, the S00's paid amount counted in
    its S21 and S22 (left out, both checks would fail), the cheque identity checked per remittance."""
    files = _pack(tmp_path)
    rc, out = run(capsys, DEMO / "submission.txt", "--returns", *files, "--format", "json")
    rep = json.loads(out)
    assert [b for b in rep["balances"] if b["ok"] is False] == []
    assert rep["problems"] == []
    cheque = [b for b in rep["balances"] if b["check"].startswith("S21 cheque")]
    assert len(cheque) == 3 and all(b["ok"] for b in cheque)
    # payee 12345's first remittance: 135.50 paid by its lines (the S00's 32.08 among them), 73.91 adjusted away
    first = next(b for b in cheque if "payee 12345 paid 2026-11-30" in b["where"])
    assert (first["expected"], first["found"]) == (first["found"], 3208 + 7134 + 3208 + 0 + 0 + 3208 - 3208 - 5802 - 1589)
    s00 = [a for a in rep["unmatched"] if a["record"] == "S00"]       # the demo submission is not the pack's
    assert len(s00) == 1 and s00[0]["paid"] == "32.08" and s00[0]["dc_seq"] == 115
    assert rc == 1                                                        # its answers match no claim


def test_broken_pair_a_cheque_that_does_not_account_for_the_lines(tmp_path, capsys):
    files = _pack(tmp_path)
    lines = files[0].read_bytes().decode("ascii").split("\r\n")
    s21 = codec("S21")
    i = next(i for i, ln in enumerate(lines) if ln.startswith("S21"))
    v = parse_line(lines[i]).asdict()
    v["cheque_amount"] += 1
    lines[i] = s21.build_line(v)
    files[0].write_bytes("\r\n".join(lines).encode("ascii"))
    rc, out = run(capsys, DEMO / "submission.txt", "--returns", *files)
    bad = [ln for ln in out.splitlines() if ln.startswith("  UNBALANCED")]
    assert rc == 1 and len(bad) == 1
    assert ("S21 cheque + new balance - balance forward = paid + S23/S24 adjustments: the file says $61.60, "
            "the lines give $61.59") in bad[0]

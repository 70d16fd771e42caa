"""End-to-end scenarios through ``teleproc.cli.main``: resubmission, determinism, holds and
``release``, exit statuses, the run report, unknown fees, and a property over random
submissions built from the demo's claim pool."""
from __future__ import annotations

import importlib.util
import json
import sqlite3
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from e2e_helpers import (DEMO, DEMO_REGISTRY, adjudicate, answers, check_structure, cli, codes_of,
                         copy_store, last_seq, lines_of, paid_of, records, refusal_code_counts,
                         row_counts, run_demo_1, run_demo_2, valid_phn, write_submission)
from teleproc.records import C02, N01, VS1

X, Y = valid_phn(0), valid_phn(1)


# --- the same submission twice -------------------------------------------------------------------
def test_same_submission_twice_is_rejected_whole(tmp_path, capfd):
    run_demo_1(tmp_path)
    db = tmp_path / "demo.db"
    before = row_counts(db)
    out, report = tmp_path / "again.txt", tmp_path / "again.json"
    capfd.readouterr()
    code = adjudicate(DEMO / "submission.txt", db, out, received="20240306", report=report)
    assert code == 1
    err = capfd.readouterr().err
    assert "sequence" in err and "0000032" in err and "--allow-sequence-gap" in err
    assert not out.exists() and not report.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".again")]   # no temp file left
    assert row_counts(db) == before


def test_same_submission_twice_with_gap_allowed_pays_nothing_twice(tmp_path):
    first = records(run_demo_1(tmp_path))
    paid_first = {r.dc_seq for r in answers(first) if paid_of(r) > 0}
    out = tmp_path / "again.txt"
    assert adjudicate(DEMO / "submission.txt", tmp_path / "demo.db", out, received="20240306",
                      payment="20240316", extra=["--allow-sequence-gap"]) == 0
    recs = records(out)
    check_structure(recs)
    # the January hold is decided first (paid now), then every claim is answered once more
    lines = [r for r in recs if r.CODE in ("S21", "S01", "S02", "S03", "S04")]
    assert lines[0].CODE == "S21" and lines[1].CODE == "S01"
    released = lines[1]
    assert (released.dc_seq, released.paid_amount) == (5, 1500)
    again = [r for r in answers(recs) if r is not released]
    assert sorted(r.dc_seq for r in again) == [int(x[8:15]) for x in lines_of(DEMO / "submission.txt")
                                               if x.startswith("C02")]
    for r in again:
        if r.dc_seq in paid_first:
            assert r.CODE == "S03" and codes_of(r) == ["HV"], r   # previously processed
    # nothing paid twice: the only money in the second run is the released hold
    assert sum(paid_of(r) for r in recs if r.CODE in ("S01", "S02")) == 1500
    # ... and B's 14039 billed again is now a duplicate of the released, paid line
    assert [codes_of(r) for r in again if r.dc_seq == 5] == [["HV"]]


# --- determinism ------------------------------------------------------------------------------------
def test_rerun_from_the_same_state_gives_identical_output(tmp_path):
    run_demo_1(tmp_path)
    copy_store(tmp_path / "demo.db", tmp_path / "copy.db")
    a = run_demo_2(tmp_path, out=tmp_path / "a.txt")
    b = run_demo_2(tmp_path, state=tmp_path / "copy.db", out=tmp_path / "b.txt")
    assert a.read_bytes() == b.read_bytes()
    assert row_counts(tmp_path / "demo.db") == row_counts(tmp_path / "copy.db")
    cols = "line_id, dc_seq, fee, paid_fee, paid_units, paid_cents, status, record_code, codes, reasons, reversed_by"
    rows = [sqlite3.connect(p).execute(f"SELECT {cols} FROM claim_lines ORDER BY line_id").fetchall()
            for p in (tmp_path / "demo.db", tmp_path / "copy.db")]
    assert rows[0] == rows[1]


def test_timestamp_changes_only_the_vrc_vtc_timestamps(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = lines_of(run_demo_1(tmp_path / "a"))
    stamped = lines_of(run_demo_1(tmp_path / "b", extra=["--timestamp", "2024-03-15 13:45:10"]))
    assert len(plain) == len(stamped)
    changed = [(p, s) for p, s in zip(plain, stamped) if p != s]
    assert [p[:3] for p, _ in changed] == ["VRC", "VRC", "VTC"]
    for p, s in changed:
        assert "2024-03-15 00:00:00" in p
        assert s == p.replace("2024-03-15 00:00:00", "2024-03-15 13:45:10")


# --- holds ----------------------------------------------------------------------------------------
def test_release_decides_pending_holds_without_a_submission(tmp_path):
    run_demo_1(tmp_path)
    db = tmp_path / "demo.db"
    out = tmp_path / "release.txt"
    assert cli("release", "--state", db, "--out", out, "--payment-date", "20240320",
               "--registry", DEMO_REGISTRY) == 0
    recs = records(out)
    check_structure(recs)
    assert [r.CODE for r in recs] == ["S21", "S01", "S22", "VRC", "VTC"]
    line = recs[1]
    assert (line.dc_seq, line.payee, line.practitioner, line.paid_amount, line.payment_date) == \
        (5, "90001", "10001", 1500, date(2024, 3, 20))
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT state FROM holds").fetchall() == [("released",)]
    assert conn.execute("SELECT status, paid_cents, supersedes FROM claim_lines ORDER BY line_id DESC LIMIT 1"
                        ).fetchone() == ("PAID", 1500, 4)
    conn.close()
    # a second release has nothing to do (issue 11): no run recorded, --out left untouched, exit 0
    before = row_counts(db)
    out2 = tmp_path / "release2.txt"
    out2.write_bytes(b"left as it was")
    assert cli("release", "--state", db, "--out", out2, "--payment-date", "20240321") == 0
    assert out2.read_bytes() == b"left as it was"
    assert row_counts(db) == before
    # and the next submission has no hold to release first
    out3 = run_demo_2(tmp_path)
    assert 5 not in {r.dc_seq for r in answers(records(out3))}


def test_released_hold_keeps_its_received_date(tmp_path):
    run_demo_1(tmp_path)
    out = tmp_path / "release.txt"
    assert cli("release", "--state", tmp_path / "demo.db", "--out", out, "--payment-date", "20240320") == 0
    assert records(out)[1].received_date == date(2024, 3, 5)


def test_hold_and_prerequisite_in_one_file_final_answer_next_run(tmp_path):
    """R10/R87: a 14049 decided before its 14043 further down the same file is held (S04 BH);
    the next run decides it first: paid when the 14043 was paid, refused KD when it was refused."""
    sub1 = write_submission(tmp_path / "s1.txt", [
        dict(prac="10001", phn=X, dos=date(2024, 4, 10), fee="14049", billed=1500, dx1="311"),
        dict(prac="10001", phn=Y, dos=date(2024, 4, 10), fee="14049", billed=1500, dx1="311"),
        dict(prac="10001", phn=X, dos=date(2024, 4, 1), fee="14043", billed=10000, dx1="311"),
        dict(prac="10001", phn=Y, dos=date(2024, 4, 2), fee="14043", billed=10000, dx1="311",
             ts="1000", te="1015"),                      # 15 minutes < 30: refused (R09)
    ])
    db = tmp_path / "state.db"
    assert adjudicate(sub1, db, tmp_path / "r1.txt", received="20240501") == 0
    r1 = answers(records(tmp_path / "r1.txt"))
    assert [(r.dc_seq, r.CODE, codes_of(r)) for r in r1] == [
        (2, "S04", ["BH"]), (3, "S04", ["BH"]), (4, "S01", []), (5, "S03", ["CA"])]
    sub2 = write_submission(tmp_path / "s2.txt", [
        dict(prac="10001", phn=X, dos=date(2024, 5, 2), fee="16100", billed=3208, dx1="311")],
        seq0=last_seq(sub1) + 1)
    assert adjudicate(sub2, db, tmp_path / "r2.txt", received="20240601") == 0
    recs = records(tmp_path / "r2.txt")
    check_structure(recs)
    assert [(r.dc_seq, r.CODE, codes_of(r), paid_of(r)) for r in answers(recs)] == [
        (2, "S01", [], 1500),         # prerequisite paid -> paid, ahead of the new claims
        (3, "S03", ["KD"], 0),        # prerequisite refused -> refused
        (7, "S01", [], 3208)]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT state FROM holds ORDER BY line_id").fetchall() == [("released",), ("released",)]


# --- exit statuses ------------------------------------------------------------------------------------
def test_exit_2_for_a_missing_submission(tmp_path, capfd):
    assert adjudicate(tmp_path / "nope.txt", tmp_path / "s.db", tmp_path / "o.txt", received="20240305") == 2
    assert "no such file" in capfd.readouterr().err
    assert not (tmp_path / "o.txt").exists() and not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("extra", [["--received", "2024-03-05"], ["--bogus"], ["--unknown-fee", "maybe"],
                                   ["--payment-date", "20241345"], ["--timestamp", "noon"]])
def test_exit_2_for_a_bad_option(tmp_path, extra):
    argv = ["adjudicate", DEMO / "submission.txt", "--state", tmp_path / "s.db", "--out", tmp_path / "o.txt"]
    assert cli(*argv, *extra) == 2
    assert not (tmp_path / "o.txt").exists()


def test_exit_2_when_a_registry_file_cannot_be_read(tmp_path):
    reg = tmp_path / "reg"
    (reg / "practitioners.csv").mkdir(parents=True)            # a directory where the file should be
    assert adjudicate(DEMO / "submission.txt", tmp_path / "s.db", tmp_path / "o.txt", received="20240305",
                      registry=reg) == 2
    assert not (tmp_path / "o.txt").exists()


def test_exit_2_for_a_registry_that_is_not_utf8(tmp_path):
    reg = tmp_path / "reg"
    reg.mkdir()
    (reg / "patients.csv").write_bytes(b"phn,sex\n9151210417,\xff\n")
    assert adjudicate(DEMO / "submission.txt", tmp_path / "s.db", tmp_path / "o.txt", received="20240305",
                      registry=reg) == 2


def test_exit_2_for_a_malformed_registry_value(tmp_path):
    reg = tmp_path / "reg"
    reg.mkdir()
    (reg / "practitioners.csv").write_text("practitioner_number,specialty,payment_arrangement\n10001,00,weird\n")
    assert adjudicate(DEMO / "submission.txt", tmp_path / "s.db", tmp_path / "o.txt", received="20240305",
                      registry=reg) == 2


@pytest.mark.parametrize("what", ["return file", "empty"])
def test_exit_1_for_a_file_that_is_not_a_submission(tmp_path, capfd, what):
    path = DEMO / "expected-return.txt"
    if what == "empty":
        path = tmp_path / "empty.txt"
        path.write_bytes(b"")
    out = tmp_path / "o.txt"
    assert adjudicate(path, tmp_path / "s.db", out, received="20240305", report=tmp_path / "r.json") == 1
    assert "not a submission" in capfd.readouterr().err
    assert not out.exists() and not (tmp_path / "r.json").exists()
    assert not (tmp_path / "s.db").exists()     # rejected before any store is created


# --- the run report ----------------------------------------------------------------------------------
def _check_report(report: dict, recs, submission: Path, db: Path) -> None:
    ans = answers(recs)
    assert report["answers"] == dict(Counter(r.CODE for r in ans)) | \
        {c: 0 for c in ("C12", "S01", "S02", "S03", "S04") if c not in {r.CODE for r in ans}}
    assert report["claims"] == sum(line.startswith("C02") for line in lines_of(submission))
    assert len(ans) == report["claims"] + report["released_holds"]
    s21 = [r for r in recs if r.CODE == "S21"]
    cents = lambda s: (-1 if s.startswith("-") else 1) * int(s.lstrip("-").replace(".", ""))  # noqa: E731
    assert cents(report["billed"]) == sum(r.amount_billed for r in s21)
    assert cents(report["paid"]) == sum(r.amount_paid for r in s21) == sum(paid_of(r) for r in ans)
    assert report["paid_cents"] == cents(report["paid"])
    pending = sqlite3.connect(db).execute("SELECT COUNT(*) FROM holds WHERE state = 'pending'").fetchone()[0]
    assert report["holds_pending"] == pending
    o = report["outcomes"]
    assert o["HELD"] == report["answers"]["S04"] and o["REJECTED"] == report["answers"]["C12"]
    assert o["REFUSED"] == report["answers"]["S03"]
    assert o["PAID"] + o["ADJUSTED"] == report["answers"]["S01"] + report["answers"]["S02"]
    assert report["return_file"] == {"lines": len(recs), "remittances": len(s21)}
    top = [tuple(x) for x in report["top_refusal_codes"]]
    counts = refusal_code_counts(recs)
    assert all(counts[c] == n for c, n in top)
    assert len(top) == min(5, len(counts))
    assert all(counts[c] <= min(n for _, n in top) for c in counts if c not in dict(top))


def test_report_agrees_with_the_return_files(tmp_path):
    rep1, rep2 = tmp_path / "r1.json", tmp_path / "r2.json"
    out1 = run_demo_1(tmp_path, report=rep1)
    _check_report(json.loads(rep1.read_text()), records(out1), DEMO / "submission.txt", tmp_path / "demo.db")
    assert json.loads(rep1.read_text())["holds_pending"] == 1
    out2 = run_demo_2(tmp_path, report=rep2)
    r2 = json.loads(rep2.read_text())
    _check_report(r2, records(out2), DEMO / "submission-2.txt", tmp_path / "demo.db")
    assert r2["released_holds"] == 1 and r2["holds_pending"] == 0


def test_report_billed_cents_agrees_with_return_file(tmp_path):
    rep = tmp_path / "r.json"
    out = run_demo_1(tmp_path, report=rep)
    report = json.loads(rep.read_text())
    assert report["billed_cents"] == sum(r.amount_billed for r in records(out) if r.CODE == "S21")


def test_store_record_code_matches_return_file(tmp_path):
    recs = records(run_demo_1(tmp_path))
    written = {r.dc_seq: r.CODE for r in answers(recs)}
    stored = dict(sqlite3.connect(tmp_path / "demo.db").execute(
        "SELECT dc_seq, record_code FROM claim_lines WHERE run_id = 1").fetchall())
    assert stored == written


# --- unknown fees -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [None, "pay", "refuse"])
def test_unknown_fee(tmp_path, mode):
    sub = write_submission(tmp_path / "s.txt", [
        dict(prac="10001", phn=X, dos=date(2024, 2, 9), fee="99999", billed=2500, dx1="780"),
        dict(prac="10001", phn=Y, dos=date(2024, 2, 9), fee="16100", billed=3208, dx1="780")])
    extra = ["--unknown-fee", mode] if mode else []
    rep = tmp_path / "r.json"
    assert adjudicate(sub, tmp_path / "db", tmp_path / "o.txt", received="20240305", report=rep, extra=extra) == 0
    got = [(r.dc_seq, r.CODE, codes_of(r), paid_of(r)) for r in answers(records(tmp_path / "o.txt"))]
    report = json.loads(rep.read_text())
    if mode == "refuse":
        assert got == [(2, "S03", ["EI"], 0), (3, "S01", [], 3208)]
        assert report["unknown_fees_paid"] == 0
    else:
        assert got == [(2, "S01", [], 2500), (3, "S01", [], 3208)]   # paid as billed
        assert report["unknown_fees_paid"] == 1


# --- property: random submissions from the demo's claim pool -------------------------------------
def _pool():
    spec = importlib.util.spec_from_file_location("make_demo", DEMO / "make_demo.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, mod.CLAIMS + mod.CLAIMS_2


MD, POOL = _pool()
PAYEES = ("90001", "90002", "90003")


def _build(picks, payees) -> list[str]:
    from datetime import time as t
    lines = [VS1(data_centre=MD.DC, dc_seq=1, vendor_dc=MD.DC, software_name="PROPERTY").line]
    seq = 1
    for folio, (i, payee) in enumerate(zip(picks, payees), 1):
        _, prac, phn, dos, fee, units, cents, dx, extra, note = POOL[i]
        seq += 1
        kw = dict(data_centre=MD.DC, dc_seq=seq, payee=payee, practitioner=prac, phn=phn,
                  name_verify=MD.NAMES.get(phn, "XXAB"), units=units, fee_item=fee, billed_amount=cents,
                  service_date=dos, dx1=dx, birth_date=MD.BIRTH.get(phn), folio=folio, service_location="L")
        kw.update({k: (t(*v) if k.startswith("time_") else v) for k, v in extra.items()})
        if note:
            kw["correspondence"] = "N"
        lines.append(C02(**kw).line)
        if note:
            seq += 1
            lines.append(N01(data_centre=MD.DC, dc_seq=seq, payee=payee, practitioner=prac,
                             note_type="A", note_text=note).line)
    return lines


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_submissions_from_the_demo_pool(data):
    picks = data.draw(st.lists(st.integers(0, len(POOL) - 1), min_size=1, max_size=14), label="claims")
    payees = data.draw(st.lists(st.sampled_from(PAYEES), min_size=len(picks), max_size=len(picks)), label="payees")
    lines = _build(picks, payees)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        sub = d / "sub.txt"
        sub.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))
        outs = []
        for k in range(2):
            out = d / f"o{k}.txt"
            assert adjudicate(sub, d / f"s{k}.db", out, received="20240405", payment="20240415") == 0
            outs.append(out.read_bytes())
        assert outs[0] == outs[1]                             # same state + input -> same bytes
        recs = records(d / "o0.txt")
        check_structure(recs)                                  # totals, VRC / VTC counts
        claim_seqs = [int(line[8:15]) for line in lines if line.startswith("C02")]
        ans = answers(recs)
        assert sorted(r.dc_seq for r in ans) == claim_seqs    # one answer per claim
        c12 = [r.dc_seq for r in ans if r.CODE == "C12"]
        assert c12 == sorted(c12)
        for payee in PAYEES:                                   # input order within a remittance
            seqs = [r.dc_seq for r in ans if r.CODE != "C12" and r.payee == payee]
            assert seqs == sorted(seqs)
        assert [r.payee for r in recs if r.CODE == "S21"] == list(dict.fromkeys(
            p for line, p in zip([x for x in lines[1:] if x.startswith("C02")], payees)
            if int(line[8:15]) not in c12))


def test_run_summary_goes_to_the_current_stderr(tmp_path):
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        run_demo_1(tmp_path)
    assert "29 claims answered" in buf.getvalue()


def test_release_review_answers_claims_held_for_review(tmp_path, capsys):
    """R56: a visit overlapping a paid conference is held for review (S04 BF). `release` alone
    leaves it; `release --review refuse --line ID` answers that one claim S03 ED; --line
    without --review, or naming no such hold, is a usage error (exit 2) and changes nothing."""
    sub = write_submission(tmp_path / "s.txt", [
        dict(prac="10001", phn=X, dos=date(2024, 4, 10), fee="14016", billed=8000, units=2, dx1="V58",
             ts="1400", te="1430"),
        dict(prac="10001", phn=X, dos=date(2024, 4, 11), fee="16100", ts="0900", te="0910"),
    ])
    db = tmp_path / "state.db"
    assert adjudicate(sub, db, tmp_path / "r1.txt", received="20240501", registry=None) == 0
    sub2 = write_submission(tmp_path / "s2.txt", [
        dict(prac="10001", phn=X, dos=date(2024, 4, 10), fee="16100", ts="1420", te="1440"),
    ], seq0=last_seq(sub) + 1)
    assert adjudicate(sub2, db, tmp_path / "r2.txt", received="20240502", registry=None) == 0
    held = answers(records(tmp_path / "r2.txt"))
    assert [(r.CODE, codes_of(r)) for r in held] == [("S04", ["BF"])]
    (line_id,), = sqlite3.connect(db).execute("SELECT line_id FROM holds WHERE state = 'review'").fetchall()
    before = row_counts(db)
    assert cli("release", "--state", db, "--out", tmp_path / "none.txt", "--line", line_id) == 2
    assert cli("release", "--state", db, "--out", tmp_path / "none.txt", "--review", "pay",
               "--line", line_id + 100) == 2
    assert "no claim held for review with line id" in capsys.readouterr().err
    assert row_counts(db) == before and not (tmp_path / "none.txt").exists()
    runs = sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert cli("release", "--state", db, "--out", tmp_path / "plain.txt") == 0   # pending holds only: none
    assert not (tmp_path / "plain.txt").exists()          # nothing to release: no file, no run (issue 11)
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == runs
    out = tmp_path / "review.txt"
    assert cli("release", "--state", db, "--out", out, "--review", "refuse", "--line", line_id) == 0
    recs = records(out)
    check_structure(recs)
    assert [(r.CODE, codes_of(r)) for r in answers(recs)] == [("S03", ["ED"])]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT state FROM holds").fetchall() == [("released",)]
    assert conn.execute("SELECT status, supersedes, reasons FROM claim_lines ORDER BY line_id DESC LIMIT 1"
                        ).fetchone() == ("REFUSED", line_id, f"REVIEW:REVIEW_REFUSED[held={line_id}]")

"""Whole-file cases: the demo submissions through ``teleproc adjudicate``, compared byte for byte.

fixtures/demo/README.md has the hand audit of every answer in the expected files (claim by
claim, with rule numbers) and the two places where the engine and the audit disagree.
"""
from __future__ import annotations

import importlib.util
import json
import sqlite3
from datetime import date

from e2e_helpers import (DEMO, answers, check_structure, lines_of, records, run_demo_1, run_demo_2)


def _make_demo():
    spec = importlib.util.spec_from_file_location("make_demo", DEMO / "make_demo.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- the generator -----------------------------------------------------------------------------
def test_make_demo_output_equals_the_committed_files():
    files = _make_demo().files()
    assert set(files) == {"submission.txt", "submission-2.txt", "registry/practitioners.csv",
                          "registry/patients.csv"}
    for name, data in files.items():
        assert (DEMO / name).read_bytes() == data, f"fixtures/demo/{name} differs from make_demo.py output"


def test_make_demo_main_writes_where_asked(tmp_path):
    _make_demo().main(tmp_path)
    for name in ("submission.txt", "submission-2.txt", "registry/practitioners.csv", "registry/patients.csv"):
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes()


def test_second_file_continues_the_first_files_sequence():
    first, second = lines_of(DEMO / "submission.txt"), lines_of(DEMO / "submission-2.txt")
    assert int(second[0][8:15]) == int(first[-1][8:15]) + 1
    assert [int(line[8:15]) for line in second] == list(range(int(second[0][8:15]), int(second[0][8:15]) + len(second)))


# --- file 1 --------------------------------------------------------------------------------------
def test_demo_return_file_byte_for_byte(tmp_path):
    out = run_demo_1(tmp_path)
    assert out.read_bytes() == (DEMO / "expected-return.txt").read_bytes()


def test_demo_report(tmp_path):
    run_demo_1(tmp_path, report=tmp_path / "report.json")
    got = json.loads((tmp_path / "report.json").read_text())
    assert got == json.loads((DEMO / "expected-report.json").read_text())


def test_demo_expected_file_is_well_formed():
    recs = records(DEMO / "expected-return.txt")
    check_structure(recs)
    claims = [int(line[8:15]) for line in lines_of(DEMO / "submission.txt") if line.startswith("C02")]
    got = [r.dc_seq for r in answers(recs)]
    assert sorted(got) == claims                      # one answer per claim
    assert len(set(got)) == len(got)


def test_demo_hold_pending_after_file_1(tmp_path):
    run_demo_1(tmp_path)
    db = sqlite3.connect(tmp_path / "demo.db")
    held = db.execute("SELECT cl.dc_seq, cl.fee, h.state FROM holds h JOIN claim_lines cl USING (line_id)").fetchall()
    assert held == [(5, "14039", "pending")]


# --- file 2 on the store file 1 left -------------------------------------------------------------
def _run_both(tmp_path):
    run_demo_1(tmp_path)
    return run_demo_2(tmp_path)


def test_demo_second_file_byte_for_byte(tmp_path):
    out = _run_both(tmp_path)
    assert out.read_bytes() == (DEMO / "expected-return-2.txt").read_bytes()


def test_demo_second_file_answers(tmp_path):
    """The cross-submission answers of the second file, by data-centre sequence (README table)."""
    recs = records(_run_both(tmp_path))
    check_structure(recs)
    got = {r.dc_seq: (r.CODE, codes_of_first(r), getattr(r, "paid_amount", None)) for r in answers(recs)}
    assert got == {
        5: ("S01", "", 1500),        # the January hold, released first
        33: ("S01", "", 3208),
        34: ("S03", "TA", 0),        # R62: 14033 paid in file 1
        35: ("S01", "", 1500), 36: ("S01", "", 1500), 37: ("S01", "", 1500),
        38: ("S03", "TA", 0),        # R65: fifth 14039 of the year
        39: ("S03", "TA", 0),        # R71: 14034 paid in file 1
        40: ("S02", "D3", -10000),   # debit of file 1's sequence 8
        42: ("S01", "", 10000),      # R71 freed by the debit
        43: ("S03", "HV", 0),        # duplicate of file 1's sequence 6
        44: ("S01", "", 3208),
        45: ("S02", "D3", -25833),   # debit of file 1's 14004
        47: ("S02", "RE", 0),        # 14109 encounter
        48: ("S01", "", 21517),      # R22: one bonus per delivery, the 14004 is reversed
    }
    # the released line comes first in its remittance, ahead of the new claims
    assert [r.CODE for r in recs[:2]] == ["S21", "S01"] and recs[1].dc_seq == 5
    # the negative remittance: no cheque, a debit balance
    s21 = [r for r in recs if r.CODE == "S21" and r.payee == "90002"][0]
    assert (s21.amount_paid, s21.cheque_amount, s21.new_balance) == (-4316, 0, -4316)
    db = sqlite3.connect(tmp_path / "demo.db")
    assert db.execute("SELECT state FROM holds").fetchall() == [("released",)]
    reversed_ = db.execute("SELECT dc_seq, fee FROM claim_lines WHERE reversed_by IS NOT NULL ORDER BY dc_seq").fetchall()
    assert reversed_ == [(8, "14034"), (26, "14004")]


def codes_of_first(r) -> str:
    return getattr(r, "exp1", "") or ""


def test_expected_second_file_is_well_formed():
    recs = records(DEMO / "expected-return-2.txt")
    check_structure(recs)
    assert recs[1].received_date == date(2024, 3, 5)

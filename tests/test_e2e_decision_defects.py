"""Five decision defects of issue 12, each through the real batch job (``teleproc adjudicate``
and ``teleproc release`` on files), named by the rules they concern."""
from __future__ import annotations

import re
import sqlite3
from datetime import date

import pytest

from e2e_helpers import (adjudicate, answers, check_structure, cli, codes_of, last_seq, paid_of, records,
                         valid_phn, write_submission)

X, Y = valid_phn(0), valid_phn(1)


def _answers(path):
    recs = records(path)
    check_structure(recs)
    return [(r.dc_seq, r.CODE, codes_of(r), paid_of(r)) for r in answers(recs)]


def _debit_of(seq: int, received: str, **claim) -> dict:
    """A debit request (submission code E) naming the claim at data-centre sequence ``seq``."""
    return dict(claim, submission_code="E", original_msp_file="V0002" + "%07d" % seq + received, note="debit")


# --- 1. a debited prerequisite (R10 R64 R77 R87; seed-rules 0.2) ------------------------------------
PREREQ_CASES = {
    # rule: (claims before the prerequisite, the prerequisite, the dependent claim)
    "R64": ([dict(fee="16100", dos=date(2024, 2, 20), dx1="D430")],
            dict(fee="14033", dos=date(2024, 2, 20), billed=31500, dx1="D430"),
            dict(fee="14039", dos=date(2024, 3, 1), billed=1500, dx1="D430")),
    "R87": ([], dict(fee="14043", dos=date(2024, 4, 1), billed=10000, dx1="311"),
            dict(fee="14049", dos=date(2024, 4, 10), billed=1500, dx1="311")),
    "R77": ([], dict(fee="14063", dos=date(2024, 4, 1), billed=10000, dx1="V66"),
            dict(fee="14069", dos=date(2024, 4, 10), billed=1500, dx1="V66")),
}


@pytest.mark.parametrize("rid", sorted(PREREQ_CASES))
def test_r10_debited_prerequisite_earlier_in_the_file_refuses_the_dependent_at_once(tmp_path, rid):
    """A debit request for a prerequisite paid earlier in the same file: the dependent claim
    that follows is refused KD at once (not held BH until the next run), with the debit in its
    trace: a debited claim is neither paid nor pending (seed-rules 0.2)."""
    before, prereq, dependent = PREREQ_CASES[rid]
    claims = [dict(c, phn=X) for c in before] + [dict(prereq, phn=X)]
    seq_prereq = 1 + len(claims)
    claims.append(_debit_of(seq_prereq, "20240501", **dict(prereq, phn=X)))
    claims.append(dict(dependent, phn=X))
    sub = write_submission(tmp_path / "s.txt", claims)
    db = tmp_path / "state.db"
    assert adjudicate(sub, db, tmp_path / "r.txt", received="20240501") == 0
    got = _answers(tmp_path / "r.txt")
    assert got[len(before)][:2] == (seq_prereq, "S01")                      # the prerequisite, paid
    assert got[len(before) + 1][1:3] == ("S02", ["D3"])                     # then reversed
    dep = got[-1]
    assert dep[1:] == ("S03", ["KD"], 0), got                              # refused now, not BH
    conn = sqlite3.connect(db)
    (reasons,), = conn.execute("SELECT reasons FROM claim_lines WHERE fee = ?", (dependent["fee"],)).fetchall()
    assert re.sub(r"\[[^\]]*\]", "", reasons) == f"{rid}:PREREQ_DEBITED {rid}:PREREQ_NOT_PAID"
    assert f"{rid}:PREREQ_DEBITED[line={seq_prereq - 1}/" in reasons     # the debited line, by id
    assert conn.execute("SELECT COUNT(*) FROM holds").fetchone() == (0,)


# --- 2. a copy of a claim held earlier in the same file (duplicate rule, R10) -----------------------
@pytest.mark.parametrize("contiguous", [True, False], ids=["same-group", "apart"])
def test_r10_copy_of_a_claim_held_earlier_in_the_file_is_refused_fb_at_once(tmp_path, contiguous):
    """The earlier record wins: the original is held (BH) and decided on release; its copy is
    refused FB ("identical claim being processed") at once, not held beside it."""
    held = dict(phn=X, fee="14039", dos=date(2024, 3, 1), billed=1500, dx1="D430")
    between = [] if contiguous else [dict(phn=Y, fee="16100", dos=date(2024, 3, 1))]
    sub = write_submission(tmp_path / "s1.txt", [
        held, *between, dict(held),
        dict(phn=X, fee="16100", dos=date(2024, 2, 20), dx1="D430"),
        dict(phn=X, fee="14033", dos=date(2024, 2, 20), billed=31500, dx1="D430")])
    db = tmp_path / "state.db"
    assert adjudicate(sub, db, tmp_path / "r1.txt", received="20240501") == 0
    got = _answers(tmp_path / "r1.txt")
    copy = 3 + len(between)
    assert got[0] == (2, "S04", ["BH"], 0)
    assert [g for g in got if g[0] == copy] == [(copy, "S03", ["FB"], 0)]
    assert got[-1][1:] == ("S01", [], 31500)
    sub2 = write_submission(tmp_path / "s2.txt", [dict(phn=Y, fee="16100", dos=date(2024, 5, 2))],
                            seq0=last_seq(sub) + 1)
    assert adjudicate(sub2, db, tmp_path / "r2.txt", received="20240601") == 0
    got2 = _answers(tmp_path / "r2.txt")
    assert got2[0] == (2, "S01", [], 1500)            # the original, released and paid
    assert len(got2) == 2                             # and nothing else of the first file


# --- 3. chained holds (R10 R61 R64) --------------------------------------------------------------------
def test_r10_chained_holds_are_released_in_dependency_order_in_one_run(tmp_path):
    """A 14039 held on a 14033 that is itself held on its same-day visit (billed later in the
    file, not beside it): the next run decides the 14033 first, then the 14039, so both are
    paid in that one run; the return file still lists them in original order."""
    sub = write_submission(tmp_path / "s1.txt", [
        dict(phn=X, fee="14039", dos=date(2024, 3, 1), billed=1500, dx1="D430"),
        dict(phn=X, fee="14033", dos=date(2024, 2, 20), billed=31500, dx1="D430"),
        dict(phn=Y, fee="16100", dos=date(2024, 2, 20)),
        dict(phn=X, fee="16100", dos=date(2024, 2, 20), dx1="D430")])
    db = tmp_path / "state.db"
    assert adjudicate(sub, db, tmp_path / "r1.txt", received="20240501") == 0
    assert _answers(tmp_path / "r1.txt") == [
        (2, "S04", ["BH"], 0), (3, "S04", ["BH"], 0), (4, "S01", [], 3208), (5, "S01", [], 3208)]
    out = tmp_path / "r2.txt"
    assert cli("release", "--state", db, "--out", out, "--payment-date", "20240601") == 0
    assert _answers(out) == [(2, "S01", [], 1500), (3, "S01", [], 31500)]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT state FROM holds ORDER BY line_id").fetchall() == [("released",)] * 2


# --- 4. the duplicate key of a fee billed by time (R50 R52, code_sets.csv time_based) -------------
def test_r52_second_non_overlapping_conference_of_the_same_length_is_no_duplicate(tmp_path):
    """Two 30-minute 14016 conferences for one patient the same day, at different times: R52
    leaves 2 units, so both are paid; the same conference again (same times) is a duplicate
    (HV); a third different one is over the daily cap (R52: 4 units), not a duplicate."""
    conf = dict(phn=X, fee="14016", dos=date(2024, 4, 10), billed=8000, units=2, dx1="V58")
    sub = write_submission(tmp_path / "s.txt", [
        dict(conf, ts="0900", te="0930"), dict(conf, ts="1400", te="1430"), dict(conf, ts="1400", te="1430"),
        dict(conf, ts="1600", te="1630")])
    assert adjudicate(sub, tmp_path / "db", tmp_path / "r.txt", received="20240501") == 0
    assert _answers(tmp_path / "r.txt") == [
        (2, "S01", [], 8000), (3, "S01", [], 8000), (4, "S03", ["HV"], 0), (5, "S03", ["VQ"], 0)]

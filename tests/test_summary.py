"""The run summary in words (issue 11): refusal codes with their text, thousands separators, the
largest payees, --report's new keys, the received-date warning, adjudicate --trace, release with
nothing to release, and gen_submission --help naming the received date."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from e2e_helpers import DEMO, DEMO_REGISTRY, cli, run_demo_1, run_demo_2

from teleproc import summary

ROOT = Path(__file__).resolve().parent.parent


def _run(tmp_path, received, *extra):
    return cli("adjudicate", DEMO / "submission.txt", "--state", tmp_path / "s.db", "--new-store",
               "--out", tmp_path / "r.txt", "--registry", DEMO_REGISTRY, "--received", received,
               "--payment-date", "20240315", *extra)


def test_summary_names_codes_payees_and_keeps_the_report_keys(tmp_path, capsys):
    assert _run(tmp_path, "20240305", "--report", tmp_path / "rep.json") == 0
    err = capsys.readouterr().err
    assert "    FO x1  THE SEX OF PATIENT DOES NOT CORRESPOND WITH FEE ITEM BILLED" in err
    assert "    AA x1  PHN IS MISSING OR INVALID." in err
    assert "billed $4,106.10   paid $3,509.02" in err
    assert "largest payees (2 of 2, by amount paid):" in err
    assert "    90001 LAKESIDE FAMILY PRACTICE: 24 claims, billed $3,722.77, paid $3,250.69" in err
    assert "WARNING" not in err
    rep = json.loads((tmp_path / "rep.json").read_text())
    for key in ("claims", "answers", "billed", "paid", "billed_cents", "paid_cents", "top_refusal_codes",
                "holds_pending", "fast_path_claims"):
        assert key in rep                                  # today's keys are kept
    assert rep["refusal_codes"]["FO"] == {"count": 1, "text": "THE SEX OF PATIENT DOES NOT CORRESPOND WITH FEE ITEM BILLED"}
    assert sum(v["count"] for v in rep["refusal_codes"].values()) == rep["answers"]["S03"]
    assert sum(v["count"] for v in rep["rejection_codes"].values()) >= rep["answers"]["C12"]
    assert [p["payee"] for p in rep["payees"]] == ["90001", "90002"]
    assert sum(p["paid_cents"] for p in rep["payees"]) == rep["paid_cents"]
    assert sum(p["billed_cents"] for p in rep["payees"]) == rep["billed_cents"]
    assert rep["warnings"] == []


def test_received_date_trap_is_called_out_naming_received(tmp_path, capsys):
    assert _run(tmp_path, "20240101", "--report", tmp_path / "rep.json") == 0     # exit 0: a warning
    err = capsys.readouterr().err
    assert "WARNING: 26 of 29 claims (89.7 %) were refused BU" in err
    assert "--received sets the date MSP received the file (default: today)" in err
    assert json.loads((tmp_path / "rep.json").read_text())["warnings"][0].startswith("26 of 29 claims")


def test_date_warning_threshold_is_more_than_a_tenth():
    assert summary.date_warnings({"RECEIVED_BEFORE_DOS": 10}, 100, "2024-01-01") == []
    [w] = summary.date_warnings({"RECEIVED_BEFORE_DOS": 11}, 100, "2024-01-01")
    assert w.startswith("11 of 100 claims (11.0 %) were refused BU")
    [w] = summary.date_warnings({"NOT_EFFECTIVE": 200_001, "DUPLICATE": 10**6}, 1_000_000, "2024-01-01")
    assert w.startswith("200,001 of 1,000,000 claims (20.0 %) were refused CD")


def test_money_has_thousands_separators():
    assert summary.money(16706200012) == "167,062,000.12" and summary.money(-100) == "-1.00"


def test_negative_amounts_read_as_people_write_them(tmp_path, capsys):
    """A payee whose debits exceed its payments (demo run 2: payee 90002) shows -$43.16, never $-43.16."""
    from teleproc.jsonl import dollars, money_text
    assert (dollars(-4316), dollars(123456789), dollars(0), dollars(None)) == ("-$43.16", "$1,234,567.89", "$0.00", "?")
    assert (money_text(-123456789), money_text(-123456789, thousands=True)) == ("-1234567.89", "-1,234,567.89")
    run_demo_1(tmp_path)
    capsys.readouterr()
    run_demo_2(tmp_path)
    err = capsys.readouterr().err
    assert "90002 NORTH SHORE CLINIC: 3 claims, billed -$43.16, paid -$43.16" in err and "$-" not in err


def test_trace_file_explains_every_line_of_the_run(tmp_path):
    assert _run(tmp_path, "20240305", "--trace", tmp_path / "trace.jsonl") == 0
    lines = (tmp_path / "trace.jsonl").read_text().splitlines()
    got = [json.loads(x) for x in lines]
    ids = [r[0] for r in sqlite3.connect(tmp_path / "s.db").execute(
        "SELECT line_id FROM claim_lines WHERE run_id = 1 ORDER BY line_id")]
    assert [d["line_id"] for d in got] == ids and len(ids) == 29
    assert os.stat(tmp_path / "trace.jsonl").st_mode & 0o777 == 0o600
    by_id = {d["line_id"]: d for d in got}
    assert by_id[8]["trace"][0]["finding"] == "SEX_MISMATCH" and by_id[8]["claim"]["phn"] == "******1072"
    assert by_id[1]["trace"] == [] and by_id[1]["passed"] == ["R07", "R13", "R30", "R56", "DUP"]
    assert "9151071072" not in (tmp_path / "trace.jsonl").read_text()


def test_trace_may_not_overwrite_an_input_or_output(tmp_path, capsys):
    assert _run(tmp_path, "20240305", "--trace", tmp_path / "r.txt") == 2
    assert "--trace" in capsys.readouterr().err and not (tmp_path / "s.db").exists()
    sub = tmp_path / "sub.txt"
    sub.write_bytes((DEMO / "submission.txt").read_bytes())
    assert cli("adjudicate", sub, "--state", tmp_path / "s2.db", "--new-store", "--out", tmp_path / "r2.txt",
               "--trace", sub) == 2
    assert sub.read_bytes() == (DEMO / "submission.txt").read_bytes()


def test_release_with_nothing_to_release_records_no_run(tmp_path, capsys):
    assert _run(tmp_path, "20240305") == 0
    db = tmp_path / "s.db"
    # the demo's one pending hold is released by the first release
    assert cli("release", "--state", db, "--out", tmp_path / "rel1.txt", "--payment-date", "20240320") == 0
    runs = sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    out = tmp_path / "rel2.txt"
    assert cli("release", "--state", db, "--out", out, "--payment-date", "20240321") == 0
    assert not out.exists()
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == runs
    assert "nothing to release" in capsys.readouterr().err
    assert cli("release", "--state", db, "--out", out, "--review", "pay") == 0       # no review holds either
    assert not out.exists()


def test_gen_submission_help_names_the_received_date():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "gen_submission.py"), "--help"],
                       capture_output=True, text=True)
    assert r.returncode == 0
    assert "--received 20250115" in r.stdout and "refused BU" in r.stdout

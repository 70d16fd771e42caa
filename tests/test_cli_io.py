"""Issue 9 item 4: '-' as stdin (validate, parse, build; FIFOs too) and stdout (parse, build,
msoc, panel, adjudicate --out -); '-' twice refused; validate on several files, --format
text|json|jsonl|sarif|junit|github, --max-errors, --fail-on. Exit statuses 0 / 1 / 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from teleproc.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
DEFECTS = FIX / "submissions" / "defects.txt"
VARIANTS = FIX / "submissions" / "variants.txt"
DEMO = FIX / "demo"
N_DEFECTS = len(json.loads((FIX / "submissions" / "defects.expected.json").read_text("ascii")))


def tp(*argv, stdin: bytes | None = None, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "teleproc", "--log-level", "ERROR", *map(str, argv)],
                          input=stdin, capture_output=True, cwd=cwd)


def run(capsys, *argv):
    rc = main(["--log-level", "ERROR", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err


# --- validate: several files, formats ------------------------------------------------------------
def test_text_lines_carry_the_path_as_given(capsys):
    rel = os.path.relpath(DEFECTS, ROOT)
    r = tp("validate", rel, os.path.relpath(VARIANTS, ROOT))
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert len(lines) == N_DEFECTS + 2
    assert all(ln.startswith(f"{rel}:") and ": error: " in ln for ln in lines[:N_DEFECTS])
    assert lines[N_DEFECTS].startswith(f"{rel}: submission file") and lines[-1].endswith("0 errors, 0 warnings")


def test_json_for_several_files_is_one_array_with_path_and_file(capsys):
    rc, out, _ = run(capsys, "validate", "--format", "json", DEFECTS, VARIANTS, DEFECTS)
    rows = json.loads(out)
    assert rc == 1 and isinstance(rows, list) and len(rows) == 2 * N_DEFECTS
    assert {r["path"] for r in rows} == {str(DEFECTS)} and {r["file"] for r in rows} == {"defects.txt"}


def test_jsonl_one_finding_a_line(capsys):
    rc, out, _ = run(capsys, "validate", "--format", "jsonl", DEFECTS)
    rows = [json.loads(x) for x in out.splitlines()]
    assert rc == 1 and len(rows) == N_DEFECTS and all({"line", "column", "field", "code", "path"} <= set(r) for r in rows)


def test_sarif(capsys):
    rc, out, _ = run(capsys, "validate", "--format", "sarif", DEFECTS)
    doc = json.loads(out)
    assert rc == 1 and doc["version"] == "2.1.0" and "sarif-2.1.0" in doc["$schema"]
    run0 = doc["runs"][0]
    assert run0["tool"]["driver"]["name"] == "teleproc" and len(run0["results"]) == N_DEFECTS
    res = run0["results"][0]
    region = res["locations"][0]["physicalLocation"]["region"]
    assert res["level"] == "error" and region["startLine"] >= 1 and region["endColumn"] > region["startColumn"]
    assert {r["id"] for r in run0["tool"]["driver"]["rules"]} == {r["ruleId"] for r in run0["results"]}


def test_junit_one_testcase_per_file_one_failure_per_finding(capsys):
    rc, out, _ = run(capsys, "validate", "--format", "junit", DEFECTS, VARIANTS)
    root = ET.fromstring(out)
    cases = root.findall("./testsuite/testcase")
    assert rc == 1 and [c.get("name") for c in cases] == [str(DEFECTS), str(VARIANTS)]
    assert len(cases[0].findall("failure")) == N_DEFECTS and cases[1].findall("failure") == []


def test_github_annotations(capsys):
    rc, out, _ = run(capsys, "validate", "--format", "github", DEFECTS)
    lines = out.splitlines()
    assert rc == 1 and len(lines) == N_DEFECTS
    assert all(ln.startswith(f"::error file={DEFECTS},line=") and ",col=" in ln for ln in lines)


def test_max_errors_limits_what_is_printed_not_what_is_counted(capsys):
    rc, out, _ = run(capsys, "validate", "--max-errors", "2", DEFECTS)
    lines = out.splitlines()
    assert rc == 1 and len(lines) == 4
    assert lines[2].endswith(f"{N_DEFECTS} errors, 0 warnings")
    assert lines[3] == f"{N_DEFECTS - 2} more findings not printed (--max-errors 2)"
    rc, out, _ = run(capsys, "validate", "--max-errors", "1", "--format", "json", DEFECTS)
    assert rc == 1 and len(json.loads(out)) == 1
    assert run(capsys, "validate", "--max-errors", "-1", DEFECTS)[0] == 2


def test_fail_on_warning(capsys, tmp_path):
    from teleproc import parse_line
    lines = VARIANTS.read_bytes().split(b"\r\n")[:-1]
    later = parse_line(lines[0].decode()).evolve(dc_seq=len(lines) + 1).line.encode()
    f = tmp_path / "late-vs1.txt"      # a later VS1, in sequence: a warning (settings later_vs1 = warn)
    f.write_bytes(b"\r\n".join(lines + [later, b""]))
    rc, out, _ = run(capsys, "validate", f)
    assert rc == 0 and "0 errors, 1 warnings" in out and ": warning: " in out
    assert run(capsys, "validate", "--fail-on", "warning", f)[0] == 1
    assert run(capsys, "validate", "--fail-on", "error", f)[0] == 0


def test_a_missing_file_among_several_is_exit_2_before_any_output(capsys, tmp_path):
    rc, out, err = run(capsys, "validate", VARIANTS, tmp_path / "nope.txt")
    assert rc == 2 and out == "" and "no such file" in err


# --- '-' -----------------------------------------------------------------------------------------
def test_validate_stdin():
    r = tp("validate", "-", stdin=DEFECTS.read_bytes())
    assert r.returncode == 1 and r.stdout.decode().splitlines()[0].startswith("-:2:")
    r = tp("validate", "--format", "json", "-", stdin=VARIANTS.read_bytes())
    assert r.returncode == 0 and json.loads(r.stdout) == []


def test_validate_dash_twice_is_refused():
    r = tp("validate", "-", "-", stdin=b"")
    assert r.returncode == 2 and b"once only" in r.stderr


def test_validate_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = DEFECTS.read_bytes()

    def feed():
        with open(fifo, "wb") as fh:
            fh.write(data)
    t = threading.Thread(target=feed)
    t.start()
    r = tp("validate", fifo)
    t.join()
    assert r.returncode == 1 and len(r.stdout.decode().splitlines()) == N_DEFECTS + 1


def test_parse_stdin_to_stdout_and_build_back():
    r = tp("parse", "-", "--out", "-", stdin=VARIANTS.read_bytes())
    assert r.returncode == 0
    objs = r.stdout
    assert len(objs.splitlines()) == len(VARIANTS.read_bytes().splitlines())
    b = tp("build", "-", stdin=objs)
    assert b.returncode == 0 and b.stdout == VARIANTS.read_bytes()


def test_adjudicate_out_dash_writes_beside_the_store_then_stdout(tmp_path):
    state = tmp_path / "state.db"
    r = tp("adjudicate", DEMO / "submission.txt", "--state", state, "--new-store", "--out", "-",
           "--registry", DEMO / "registry", "--received", "20240305", "--payment-date", "20240315")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (DEMO / "expected-return.txt").read_bytes()
    assert (tmp_path / "state.db.return.txt").read_bytes() == r.stdout
    assert b"29 claims answered" in r.stderr        # the summary stays on stderr


def test_adjudicate_dash_for_two_outputs_is_refused(tmp_path):
    r = tp("adjudicate", DEMO / "submission.txt", "--state", tmp_path / "s.db", "--new-store", "--out", "-",
           "--report", "-", "--received", "20240305")
    assert r.returncode == 2 and b"two outputs" in r.stderr and not (tmp_path / "s.db").exists()


def test_msoc_and_panel_out_dash(tmp_path):
    state = tmp_path / "state.db"
    assert tp("adjudicate", DEMO / "submission.txt", "--state", state, "--new-store", "--out", tmp_path / "r.txt",
              "--received", "20240305").returncode == 0
    m = tp("msoc", "--state", state, "--period-end", "20241231", "--out", "-", cwd=tmp_path)
    assert m.returncode == 0 and m.stdout.startswith(b"practitioner_number,") and not (tmp_path / "-").exists()
    p = tp("panel", "--state", state, "--out", "-", "--format", "json", cwd=tmp_path)
    assert p.returncode == 0 and isinstance(json.loads(p.stdout), list) and not (tmp_path / "-").exists()

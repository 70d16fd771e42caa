"""The S01 fast path changes nothing but speed: whole submissions adjudicated with and without
it (``--no-fast-path``: every claim the rules' way) give byte-identical return files and the
same stored lines. Unit-level equality is tests/adjudicate/test_lane.py; this is the batch job
end to end (the reader's lane, grouping, the fast return lines, the ledger)."""
from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from e2e_helpers import ROOT, adjudicate, run_demo_1, run_demo_2

sys.path.insert(0, str(ROOT / "bench"))
import gen_submission as gen  # noqa: E402  (the benchmark's seeded generator)

STORED = ("line_id, run_id, phn, practitioner, dos, fee, billed_units, billed_cents, paid_fee, paid_units, "
          "paid_cents, kind, status, record_code, codes, reasons, received, supersedes, reversed_by")


def _lines(db: Path) -> list:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT {STORED} FROM claim_lines ORDER BY line_id").fetchall()


def _report(path: Path) -> dict:
    rep = json.loads(path.read_text())
    rep.pop("fast_path_claims")
    return rep


def test_demo_files_are_answered_the_same_without_the_fast_path(tmp_path):
    fast, slow = tmp_path / "fast", tmp_path / "slow"
    fast.mkdir()
    slow.mkdir()
    f1 = run_demo_1(fast, report=fast / "r1.json")
    f2 = run_demo_2(fast)
    s1 = run_demo_1(slow, report=slow / "r1.json", extra=["--no-fast-path"])
    s2 = run_demo_2(slow, extra=["--no-fast-path"])
    assert f1.read_bytes() == s1.read_bytes() and f2.read_bytes() == s2.read_bytes()
    assert _lines(fast / "demo.db") == _lines(slow / "demo.db")
    assert json.loads((fast / "r1.json").read_text())["fast_path_claims"] > 0
    assert json.loads((slow / "r1.json").read_text())["fast_path_claims"] == 0
    assert _report(fast / "r1.json") == _report(slow / "r1.json")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """3,000 seeded claims of the benchmark's mix (visits, the incentive programs, notes) for
    600 patients, with their registry."""
    d = tmp_path_factory.mktemp("generated")
    pop = gen.Population(patients=600, seed=3)
    gen.generate(d / "sub.txt", 3000, 600, 3, population=pop)
    gen.write_registry(d / "registry", population=pop)
    return d


def test_a_generated_submission_twice_is_answered_the_same_without_the_fast_path(generated, tmp_path):
    """The file, then the same file again (--allow-sequence-gap): the second run meets the
    first's lines in the store, so its visits are duplicates (HV) the fast path must leave to
    the rules."""
    out = {}
    for mode, extra in (("fast", []), ("slow", ["--no-fast-path"])):
        d = tmp_path / mode
        d.mkdir()
        for run, gap in ((1, []), (2, ["--allow-sequence-gap"])):
            code = adjudicate(generated / "sub.txt", d / "state.db", d / f"return-{run}.txt",
                              received="20250115", registry=generated / "registry",
                              report=d / f"report-{run}.json", extra=[*extra, *gap])
            assert code == 0
        out[mode] = d
    for run in (1, 2):
        fast = (out["fast"] / f"return-{run}.txt").read_bytes()
        assert fast == (out["slow"] / f"return-{run}.txt").read_bytes(), f"run {run}"
        assert _report(out["fast"] / f"report-{run}.json") == _report(out["slow"] / f"report-{run}.json")
    assert _lines(out["fast"] / "state.db") == _lines(out["slow"] / "state.db")
    first = json.loads((out["fast"] / "report-1.json").read_text())
    second = json.loads((out["fast"] / "report-2.json").read_text())
    assert first["fast_path_claims"] > 2000           # most visits took it
    assert second["fast_path_claims"] == 0             # every visit is a duplicate now
    assert dict(second["top_refusal_codes"]).get("HV", 0) > 2000

"""Issue 8, item 9, for outputs (store errors are i8-store's): an output that cannot be written
(read-only or unwritable folder, full disk) exits 2 with one line naming the path, no
traceback; a report that cannot be written after a committed run says so plainly:
"run N committed; report not written: ...", exit 2, and the run stands."""
from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from .helpers import SUB2, dump, listing, tmpfs


@pytest.fixture
def work(store):
    shutil.copy(SUB2, store.parent / "submission-2.txt")
    return store.parent


def runs(db) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    finally:
        conn.close()


def adj(w, out, *extra):
    return ["adjudicate", w / "submission-2.txt", "--state", w / "state.db", "--out", out,
            "--received", "20240405", "--payment-date", "20240415", *extra]


@pytest.mark.parametrize("what", ["adjudicate --out", "adjudicate --report", "release --out",
                                  "parse --out", "build --out", "msoc --out", "panel --out"])
def test_read_only_folder_refused_before_any_work(tp, work, tmp_path, private_tmp, what):
    with tmpfs(tmp_path / "ro", "64k", ro=True) as ro:
        target = ro / "out.txt"
        argv = {
            "adjudicate --out": adj(work, target),
            "adjudicate --report": adj(work, work / "return-2.txt", "--report", target),
            "release --out": ["release", "--state", work / "state.db", "--out", target],
            "parse --out": ["parse", work / "submission-2.txt", "--out", target],
            "build --out": ["build", work / "submission-2.txt", "--out", target],
            "msoc --out": ["msoc", "--state", work / "state.db", "--period-end", "20240331", "--out", target],
            "panel --out": ["panel", "--state", work / "state.db", "--out", target],
        }[what]
        before_db, before = dump(work / "state.db"), listing(work)
        r = tp(*argv)
        assert r.code == 2, r
        assert len(r.err.strip().splitlines()) == 1, r.err
        assert f"{target}: cannot write in {ro}" in r.err and "read-only" in r.err, r.err
        assert dump(work / "state.db") == before_db and listing(work) == before
        assert os.listdir(ro) == [] and os.listdir(private_tmp) == []


def test_report_not_written_after_a_committed_run(tp, work, tmp_path):
    """The run commits, its return file is in place; the report then meets a full disk."""
    with tmpfs(tmp_path / "full", "4k") as full:
        (full / "ballast").write_bytes(b"x" * 4096)
        n = runs(work / "state.db")
        r = tp(*adj(work, work / "return-2.txt", "--report", full / "report.json"))
        assert r.code == 2, r
        errors = [line for line in r.err.splitlines() if line.startswith("teleproc")]
        assert errors == [f"teleproc: run {n + 1} committed; report not written: {full / 'report.json'}: "
                          "cannot write: No space left on device"], r.err
        assert "claims answered" in r.err                     # the summary was said first
        assert runs(work / "state.db") == n + 1                # the run stands
        assert tp("validate", work / "return-2.txt").code == 0
        assert os.listdir(full) == ["ballast"]


def test_missing_folder_for_the_report_is_refused_before_the_run(tp, work):
    n = runs(work / "state.db")
    r = tp(*adj(work, work / "return-2.txt", "--report", work / "nowhere" / "r.json"))
    assert r.code == 2 and "no directory" in r.err
    assert runs(work / "state.db") == n and not (work / "return-2.txt").exists()

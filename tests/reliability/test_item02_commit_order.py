"""Issue 8 item 2: no return file for a run the store does not record; a committed run's file
can always be had again (`teleproc reissue`, `teleproc runs`).

Job order: the return file is written to a temp file beside --out and fsynced, kept in the
store, the store commits, then the temp file is renamed. Each test goes through the CLI and
checks the exit status, the message, the store (a dump before and after) and the files left."""
from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from teleproc import store

from .store_helpers import DEMO, adjudicate1, adjudicate2, dump, files, fill, tmpfs, tp

EXPECTED_1 = (DEMO / "expected-return.txt").read_bytes()
EXPECTED_2 = (DEMO / "expected-return-2.txt").read_bytes()
RUN_KEYS = ["run", "kind", "received", "payment_date", "created", "source_sha256", "data_centre",
            "first_sequence", "last_sequence", "claims", "billed_cents", "paid_cents", "return_sha256",
            "reissuable", "teleproc_version", "tables_digest", "policy_digest"]


def test_the_store_commits_while_the_return_file_is_a_complete_temp_file(tmp_path, monkeypatch):
    db, out = tmp_path / "s.db", tmp_path / "r.txt"
    seen = {}
    commit = store.commit

    def watching(conn):
        temps = [p for p in tmp_path.iterdir() if p.name.startswith(".r.txt.")]
        seen["out"] = out.exists()
        seen["temp"] = [p.read_bytes() for p in temps]
        commit(conn)
        seen["committed"] = True
    monkeypatch.setattr(store, "commit", watching)
    r = adjudicate1(db, out)
    assert r.code == 0
    assert seen == {"out": False, "temp": [EXPECTED_1], "committed": True}
    assert out.read_bytes() == EXPECTED_1
    assert files(tmp_path) == {"s.db", "r.txt"}          # the temp file became the return file


@pytest.mark.parametrize("reason, name", [("database or disk is full", "SQLITE_FULL"),
                                          ("disk I/O error", "SQLITE_IOERR"),
                                          ("database is locked", "SQLITE_BUSY")])
def test_a_failed_commit_leaves_no_return_file_and_the_store_as_it_was(tmp_path, monkeypatch, reason, name):
    db, out = tmp_path / "s.db", tmp_path / "r.txt"
    assert adjudicate1(db, tmp_path / "first.txt").code == 0
    before = dump(db)
    real_execute = store.StoreConnection.execute

    class Failing(store.StoreConnection):
        def execute(self, sql, *a):
            if sql == "COMMIT":
                e = sqlite3.OperationalError(reason)
                e.sqlite_errorname = name
                raise e
            return real_execute(self, sql, *a)
    monkeypatch.setattr(store, "StoreConnection", Failing)
    r = adjudicate2(db, out)
    assert r.code == 2
    assert len(r.lines) == 1 and str(db) in r.lines[0] and "not recorded" in r.lines[0]
    assert reason in r.lines[0]
    assert dump(db) == before
    assert files(tmp_path) == {"s.db", "first.txt"}      # no return file, no temp file


def test_a_full_disk_under_the_store_leaves_no_return_file(tmp_path):
    """A real full disk: the store on a small tmpfs filled up, the return file elsewhere."""
    with tmpfs(tmp_path / "small", "2m") as small:
        db = small / "s.db"
        assert adjudicate1(db, tmp_path / "first.txt").code == 0
        before = dump(db)
        fill(small)
        r = adjudicate2(db, tmp_path / "r.txt")
        assert r.code == 2, r.err
        assert len(r.lines) == 1 and str(db) in r.lines[0] and "disk full" in r.lines[0], r.lines
        (small / "filler").unlink()
        assert dump(db) == before
        assert files(tmp_path) == {"small", "first.txt"}
        assert files(small) == {"s.db"}
        # with room again, the same run goes through and answers as a clean run does
        assert adjudicate2(db, tmp_path / "r.txt").code == 0
        assert (tmp_path / "r.txt").read_bytes() == EXPECTED_2


def test_a_full_disk_under_the_return_file_rolls_the_run_back(tmp_path):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "first.txt").code == 0
    before = dump(db)
    with tmpfs(tmp_path / "small", "16k") as small:
        fill(small, leave=0)
        r = adjudicate2(db, small / "r.txt")
        assert r.code == 2
        assert len(r.lines) == 1 and "r.txt" in r.lines[0] and "nothing was recorded" in r.lines[0]
        assert files(small) == {"filler"}
    assert dump(db) == before


def test_a_failure_after_the_commit_says_the_run_is_committed_and_reissue_writes_the_file(tmp_path, monkeypatch):
    db, out = tmp_path / "s.db", tmp_path / "r.txt"
    assert adjudicate1(db, tmp_path / "first.txt").code == 0
    real = os.replace

    def refused(src, dst, *a, **kw):
        if str(dst) == str(out):
            raise OSError(28, "No space left on device")
        return real(src, dst, *a, **kw)
    monkeypatch.setattr(os, "replace", refused)
    r = adjudicate2(db, out)
    monkeypatch.undo()
    assert r.code == 2
    assert r.lines == [f"teleproc: run 2 committed; return file not written: {out}: cannot rename the finished "
                       f"file into place: No space left on device; "
                       f"`teleproc reissue --state {db} --run 2 --out {out}` writes it"]
    assert files(tmp_path) == {"s.db", "first.txt"}
    assert [row["run"] for row in json.loads(tp("runs", "--state", db, "--format", "json").out)] == [1, 2]
    r = tp("reissue", "--state", db, "--run", 2, "--out", out)
    assert r.code == 0 and out.read_bytes() == EXPECTED_2          # what a clean run writes
    assert files(tmp_path) == {"s.db", "first.txt", "r.txt"}


def test_a_report_that_cannot_be_written_after_the_commit_is_said_plainly(tmp_path, monkeypatch):
    db, out, report = tmp_path / "s.db", tmp_path / "r.txt", tmp_path / "report.json"
    real = os.replace

    def refused(src, dst, *a, **kw):
        if str(dst) == str(report):
            raise OSError(5, "Input/output error")
        return real(src, dst, *a, **kw)
    monkeypatch.setattr(os, "replace", refused)
    r = adjudicate1(db, out, "--report", report)
    assert r.code == 2
    assert r.lines[-1] == (f"teleproc: run 1 committed; report not written: {report}: cannot rename the "
                           "finished file into place: Input/output error")
    assert r.lines[0] == "29 claims answered"          # the summary came first
    assert out.read_bytes() == EXPECTED_1 and files(tmp_path) == {"s.db", "r.txt"}


def test_reissue_gives_every_committed_run_back_byte_for_byte(tmp_path):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    assert adjudicate2(db, tmp_path / "r2.txt").code == 0
    assert adjudicate1(tmp_path / "other.db", tmp_path / "x.txt").code == 0
    assert tp("release", "--state", tmp_path / "other.db", "--out", tmp_path / "r3.txt",
              "--payment-date", "20240501").code == 0                      # the held claim decided
    assert tp("reissue", "--state", tmp_path / "other.db", "--run", 2, "--out", tmp_path / "again3.txt").code == 0
    assert (tmp_path / "again3.txt").read_bytes() == (tmp_path / "r3.txt").read_bytes()
    before = dump(db)
    for run, expected in ((1, EXPECTED_1), (2, EXPECTED_2)):
        r = tp("reissue", "--state", db, "--run", run, "--out", tmp_path / f"again{run}.txt")
        assert r.code == 0 and (tmp_path / f"again{run}.txt").read_bytes() == expected
        assert os.stat(tmp_path / f"again{run}.txt").st_mode & 0o777 == 0o600
    r = tp("reissue", "--state", db, "--run", 2, "--out", "-")
    assert r.code == 0 and r.out.encode("latin-1") == EXPECTED_2
    assert dump(db) == before                    # reissue only reads


def test_reissue_refuses_an_unknown_run_and_a_damaged_stored_file(tmp_path):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    r = tp("reissue", "--state", db, "--run", 7, "--out", tmp_path / "x.txt")
    assert r.code == 2 and r.lines == [f"teleproc: {db}: no run 7 (runs 1 to 1; `teleproc runs` lists them)"]
    assert tp("reissue", "--state", db, "--run", "0", "--out", tmp_path / "x.txt").code == 2
    conn = sqlite3.connect(db)
    data = conn.execute("SELECT data FROM return_files WHERE run_id = 1").fetchone()[0]
    import zlib
    damaged = zlib.compress(zlib.decompress(data).replace(b"S01", b"S03", 1))
    conn.execute("UPDATE return_files SET data = ? WHERE run_id = 1", (damaged,))
    conn.commit()
    conn.close()
    r = tp("reissue", "--state", db, "--run", 1, "--out", tmp_path / "x.txt")
    assert r.code == 2 and len(r.lines) == 1 and "damaged" in r.lines[0] and "nothing written" in r.lines[0]
    assert files(tmp_path) == {"s.db", "r1.txt"}


def test_runs_lists_every_run_with_its_provenance(tmp_path):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    assert tp("release", "--state", db, "--out", tmp_path / "r2.txt", "--payment-date", "20240501",
              "--line-ending", "lf").code == 0
    assert adjudicate2(db, tmp_path / "r3.txt", "--unknown-fee", "refuse").code == 0
    rows = json.loads(tp("runs", "--state", db, "--format", "json").out)
    assert [list(r) for r in rows] == [RUN_KEYS] * 3
    one, two, three = rows
    assert (one["run"], one["kind"], one["received"], one["payment_date"]) == (1, "adjudicate", "2024-03-05", "2024-03-15")
    assert (two["kind"], two["received"], two["payment_date"]) == ("release", "2024-05-01", "2024-05-01")
    assert (two["claims"], two["source_sha256"], two["data_centre"]) == (1, None, None)
    assert (three["kind"], three["received"], three["payment_date"]) == ("adjudicate", "2024-04-05", "2024-04-15")
    import hashlib
    assert one["source_sha256"] == hashlib.sha256((DEMO / "submission.txt").read_bytes()).hexdigest()
    assert one["return_sha256"] == hashlib.sha256(EXPECTED_1).hexdigest()
    for row, name in ((two, "r2.txt"), (three, "r3.txt")):
        assert row["return_sha256"] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    assert (one["data_centre"], one["first_sequence"], one["last_sequence"], one["claims"]) == ("V0001", 1, 31, 29)
    assert (one["billed_cents"], one["paid_cents"]) == (410610, 350902)   # the S21 totals
    assert all(r["reissuable"] is True for r in rows)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", one["created"])
    from teleproc import __version__
    assert {r["teleproc_version"] for r in rows} == {__version__}
    for r in rows:
        assert re.fullmatch(r"[0-9a-f]{64}", r["tables_digest"]) and re.fullmatch(r"[0-9a-f]{64}", r["policy_digest"])
    assert one["tables_digest"] == three["tables_digest"]          # the same data files
    # the policy digest follows the values after the command-line options
    assert len({one["policy_digest"], two["policy_digest"], three["policy_digest"]}) == 3
    text = tp("runs", "--state", db)
    assert text.code == 0
    assert text.out.splitlines()[1].split()[:8] == ["1", "adjudicate", "2024-03-05", "2024-03-15", "29",
                                                     "4106.10", "3509.02", "yes"]


def test_the_tables_digest_covers_the_data_files_actually_loaded(tmp_path):
    import hashlib
    from teleproc import data
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    files_read = {f.name: f for f in data.loaded()}
    assert {"C02.toml", "S01.toml", "tables/fee_schedule.csv", "tables/explanatory_codes.csv"} <= set(files_read)
    for f in files_read.values():
        assert hashlib.sha256(Path(f.path).read_bytes()).hexdigest() == f.sha256
    stored = sqlite3.connect(db).execute("SELECT tables_digest FROM runs").fetchone()[0]
    assert stored == data.digest()
    # another copy of a table (an override) gives another digest
    changed = [f._replace(sha256="0" * 64) if f.name == "tables/fee_schedule.csv" else f
               for f in files_read.values()]
    assert data.digest(changed) != stored

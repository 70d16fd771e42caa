"""Issue 8 item 9 for the store and the analytics: a damaged, truncated, locked (see
test_item06_busy), read-only or full (test_item02) store, a folder given as --state, impossible
dates in the store, year 0001 or huge weights in msoc: exit 2 with one line naming the path,
never a traceback."""
from __future__ import annotations

import os
import sqlite3

import pytest

from teleproc import store

from .store_helpers import DEMO, adjudicate1, dump, files, tp

COMMANDS = {
    "adjudicate": lambda db, o: ("adjudicate", DEMO / "submission-2.txt", "--state", db, "--out", o / "out.txt",
                                 "--received", "20240405"),
    "release": lambda db, o: ("release", "--state", db, "--out", o / "out.txt"),
    "runs": lambda db, o: ("runs", "--state", db),
    "reissue": lambda db, o: ("reissue", "--state", db, "--run", 1, "--out", o / "out.txt"),
    "msoc": lambda db, o: ("msoc", "--state", db, "--period-end", "20241231", "--engine", "sqlite"),
    "panel": lambda db, o: ("panel", "--state", db, "--engine", "sqlite"),
    "migrate": lambda db, o: ("migrate", "--state", db),
}


def one_line(r) -> str:
    lines = [l for l in r.err.splitlines() if l.strip()]
    assert len(lines) == 1, r.err
    return lines[0]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("damage", ["garbage pages", "truncated", "folder", "empty file"])
def test_a_damaged_store_or_a_folder_stops_every_command_with_one_line(tmp_path, command, damage):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    raw = db.read_bytes()
    if damage == "garbage pages":
        db.write_bytes(raw[:100] + bytes(range(256)) * ((len(raw) - 100) // 256) + b"x" * ((len(raw) - 100) % 256))
    elif damage == "truncated":
        db.write_bytes(raw[:len(raw) // 2])
    elif damage == "folder":
        db.unlink()
        db.mkdir()
    else:
        db.write_bytes(b"")
    before = files(tmp_path)
    snapshot = None if damage == "folder" else db.read_bytes()
    r = tp(*COMMANDS[command](db, tmp_path))
    assert r.code == 2, r.err
    line = one_line(r)
    assert str(db) in line
    expected = {"garbage pages": "damaged", "truncated": "damaged (truncated",
                "folder": "is a directory", "empty file": "empty file"}[damage]
    assert expected in line, line
    assert files(tmp_path) == before                               # nothing written, no temp
    if snapshot is not None:
        assert db.read_bytes() == snapshot                         # left as it was


def test_a_store_error_in_the_middle_of_a_command_is_one_line(tmp_path, monkeypatch):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0

    def broken(conn):
        e = sqlite3.DatabaseError("database disk image is malformed")
        e.sqlite_errorname = "SQLITE_CORRUPT"
        raise e
    monkeypatch.setattr(store, "latest_dos", broken)
    r = tp("panel", "--state", db, "--engine", "sqlite")
    assert r.code == 2
    assert str(db) in one_line(r) and "malformed" in one_line(r)


def test_impossible_dates_in_the_store(tmp_path):
    """A rejected claim keeps its digits: a DOS of 20241399 in the ledger (C12) must not crash
    panel or msoc (it is no date: not a service of any window)."""
    db = tmp_path / "s.db"
    conn = store.create(db)
    with store.transaction(conn):
        conn.execute("INSERT INTO runs(run_id, kind, received, payment_date, claims, created) "
                     "VALUES (1, 'adjudicate', 20241231, 20241231, 2, '2024-12-31T00:00:00')")
        store.add_lines(conn, 1, [
            dict(line_id=1, phn="9123456782", practitioner="12345", fee="98990", dos=20241399,
                 status="REJECTED", record_code="C12"),
            dict(line_id=2, phn="9123456782", practitioner="12345", fee="12100", dos=99999999,
                 status="PAID", record_code="S01", paid_cents=3208)])
    conn.close()
    for argv in (("panel", "--state", db, "--engine", "sqlite"),
                 ("msoc", "--state", db, "--period-end", "20241231", "--engine", "sqlite"),
                 ("runs", "--state", db, "--format", "json")):
        r = tp(*argv)
        assert r.code == 0, (argv, r.err)


@pytest.mark.parametrize("argv, message", [
    (("msoc", "--period-end", "00010101"), "from 19000101 on"),
    (("panel", "--as-of", "00010101"), "from 19000101 on"),
    (("msoc", "--period-end", "20241231", "--default-weight", "1e99999", "--rate", "1"), "at most 1000000"),
    (("msoc", "--period-end", "20241231", "--default-weight", "1", "--pool", "1e30"), "an amount up to"),
])
def test_year_0001_and_huge_numbers_in_msoc_and_panel(tmp_path, argv, message):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    r = tp(argv[0], "--state", db, *argv[1:], "--engine", "sqlite")
    assert r.code == 2 and message in r.err, r.err


def test_a_huge_weight_in_the_weights_file(tmp_path):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    (tmp_path / "w.csv").write_text("acg,weight\nNA,1e999999\n")
    (tmp_path / "a.csv").write_text("phn,acg\n")
    r = tp("msoc", "--state", db, "--period-end", "20241231", "--engine", "sqlite",
           "--acg", tmp_path / "a.csv", "--weights", tmp_path / "w.csv", "--pool", "100")
    assert r.code == 2
    assert one_line(r) == f"teleproc msoc: error: {tmp_path / 'w.csv'}: line 2, column weight: must be a number >= 0 and at most 1000000"

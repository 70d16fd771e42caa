"""Issue 8 item 5 (and item 4's store modes): the store is never created or shared by
accident, `teleproc migrate` upgrades an older store in place after a 0600 backup, and a
damaged, truncated, read-only or misplaced store stops every command with one line, exit 2."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from teleproc import migrations, store

from .store_helpers import DEMO, adjudicate1, adjudicate2, dump, files, read_only, tp, v2_store

EXPECTED_2 = (DEMO / "expected-return-2.txt").read_bytes()


def schema(path) -> dict:
    """Columns of every table, indexes and view text: what a store of a version looks like."""
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        out = {}
        for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"):
            if kind == "table":
                out[name] = [tuple(r[1:]) for r in conn.execute(f"PRAGMA table_info({name})")]
            else:
                out[name] = (kind, " ".join((sql or "").split()))
        out["user_version"] = conn.execute("PRAGMA user_version").fetchone()[0]
        out["application_id"] = conn.execute("PRAGMA application_id").fetchone()[0]
        return out
    finally:
        conn.close()


def every_command(db, tmp_path) -> list[tuple]:
    out = tmp_path / "out.txt"
    return [("adjudicate", DEMO / "submission-2.txt", "--state", db, "--out", out, "--received", "20240405"),
            ("release", "--state", db, "--out", out),
            ("runs", "--state", db),
            ("reissue", "--state", db, "--run", 1, "--out", out),
            ("msoc", "--state", db, "--period-end", "20241231"),
            ("panel", "--state", db),
            ("migrate", "--state", db)]


def test_a_v2_store_written_by_the_old_code_is_refused_until_migrated(tmp_path):
    db = v2_store(tmp_path / "old.db")
    raw = db.read_bytes()
    for argv in every_command(db, tmp_path)[:-1]:
        r = tp(*argv)
        assert r.code == 2, argv
        assert r.lines == [f"teleproc: {db}: state store has schema version 2; this teleproc expects "
                           f"{store.SCHEMA_VERSION} (run `teleproc migrate --state {db}` first)"] \
            or r.lines == [f"teleproc msoc: error: {db}: state store has schema version 2; this teleproc expects "
                           f"{store.SCHEMA_VERSION} (run `teleproc migrate --state {db}` first)"] \
            or r.lines == [f"teleproc panel: error: {db}: state store has schema version 2; this teleproc expects "
                           f"{store.SCHEMA_VERSION} (run `teleproc migrate --state {db}` first)"], (argv, r.lines)
        assert db.read_bytes() == raw and files(tmp_path) == {"old.db"}


def test_migrate_upgrades_a_v2_store_in_place_after_a_0600_backup(tmp_path):
    db = v2_store(tmp_path / "old.db")
    before = dump(db)
    r = tp("migrate", "--state", db)
    assert r.code == 0
    backup = tmp_path / "old.db.v2-backup"
    assert r.lines == [*(f"{db}: version {2 + i} -> {3 + i}: {what}" for i, (what, _) in enumerate(migrations.STEPS)),
                       f"{db}: migrated from schema version 2 to {store.SCHEMA_VERSION}; the store as it was: {backup}"]
    assert files(tmp_path) == {"old.db", "old.db.v2-backup"}
    assert os.stat(backup).st_mode & 0o777 == 0o600
    assert dump(backup) == before                      # the store as it was, row for row
    # the migrated store has the schema of a new store, and keeps every row it had
    fresh = store.create(tmp_path / "fresh.db")
    fresh.close()
    assert schema(db) == schema(tmp_path / "fresh.db")
    (tmp_path / "fresh.db").unlink()
    after = dump(db)
    kept = [l for l in before if l.startswith("INSERT INTO") and not l.startswith('INSERT INTO "runs"')]
    assert set(kept) <= set(after)
    rows = json.loads(tp("runs", "--state", db, "--format", "json").out)
    assert [(r["run"], r["claims"], r["reissuable"], r["return_sha256"]) for r in rows] == [(1, 29, False, None)]
    # the history carries on: the second demo file answers as on a store that was never migrated
    assert adjudicate2(db, tmp_path / "r2.txt").code == 0
    assert (tmp_path / "r2.txt").read_bytes() == EXPECTED_2
    r = tp("reissue", "--state", db, "--run", 1, "--out", tmp_path / "x.txt")
    assert r.code == 2 and "no kept return file" in r.lines[0]
    # a second migrate has nothing to do
    r = tp("migrate", "--state", db)
    assert r.code == 0 and r.lines == [f"{db}: already at schema version {store.SCHEMA_VERSION}; nothing to do"]


def test_a_second_backup_does_not_replace_the_first(tmp_path):
    db = v2_store(tmp_path / "old.db")
    (tmp_path / "old.db.v2-backup").write_text("an older backup")
    assert tp("migrate", "--state", db).code == 0
    assert (tmp_path / "old.db.v2-backup").read_text() == "an older backup"
    assert (tmp_path / "old.db.v2-backup.1").exists()


def test_a_failing_step_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    db = v2_store(tmp_path / "old.db")
    before = dump(db)

    def broken(conn):
        conn.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(migrations, "STEPS", migrations.STEPS + (("a later step", broken),))
    monkeypatch.setattr(migrations, "LATEST", migrations.LATEST + 1)
    monkeypatch.setattr(store, "SCHEMA_VERSION", migrations.LATEST)
    r = tp("migrate", "--state", db)
    assert r.code == 2 and len(r.lines) == 1
    assert r.lines[0] == f"teleproc: {db}: the store was not migrated: I/O error (disk I/O error)"
    assert dump(db) == before                          # no step half done, version still 2


def test_migrate_refuses_what_it_cannot_migrate(tmp_path):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r.txt").code == 0
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version={store.SCHEMA_VERSION + 1}")
    conn.close()
    before = db.read_bytes()
    r = tp("migrate", "--state", db)
    assert r.code == 2 and "written by a newer teleproc" in r.lines[0] and db.read_bytes() == before
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    raw = other.read_bytes()
    r = tp("migrate", "--state", other)
    assert r.code == 2 and r.lines == [f"teleproc: {other}: not a teleproc state store (an SQLite file of "
                                       "another program); left untouched"]
    assert other.read_bytes() == raw
    r = tp("migrate", "--state", tmp_path / "nope.db")
    assert r.code == 2 and r.lines == [f"teleproc: no store at {tmp_path / 'nope.db'}; pass --new-store to create one"]
    assert files(tmp_path) == {"s.db", "r.txt", "other.db"}


def test_a_read_only_store_refuses_writing_commands_and_serves_reading_ones(tmp_path):
    """A read-only bind mount (tests run as root, which file modes do not stop)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    before = dump(db)
    with read_only(folder):
        for argv in (("adjudicate", DEMO / "submission-2.txt", "--state", db, "--out", tmp_path / "r2.txt",
                      "--received", "20240405"),
                     ("release", "--state", db, "--out", tmp_path / "r2.txt"),
                     ("migrate", "--state", db)):
            r = tp(*argv)
            if argv[0] == "migrate":
                assert r.code == 0 and "nothing to do" in r.err      # nothing to write
                continue
            assert r.code == 2, argv
            assert r.lines == [f"teleproc: {db}: the state store is read only (the file cannot be "
                               "written); this command writes to it, the reading commands (runs, reissue, msoc, "
                               "panel) can use it"], r.lines
        assert not (tmp_path / "r2.txt").exists()
        r = tp("runs", "--state", db, "--format", "json")
        assert r.code == 0 and [x["run"] for x in json.loads(r.out)] == [1]
        r = tp("reissue", "--state", db, "--run", 1, "--out", tmp_path / "again.txt")
        assert r.code == 0 and (tmp_path / "again.txt").read_bytes() == (tmp_path / "r1.txt").read_bytes()
        for argv in (("msoc", "--state", db, "--period-end", "20241231", "--engine", "sqlite"),
                     ("panel", "--state", db, "--engine", "sqlite")):
            r = tp(*argv)
            assert r.code == 0, r.err
            # the default engine (DuckDB with the analytics extra) cannot bring its dataset up to
            # date beside a read-only store: it says so and gives the SQLite reference's rows
            default = tp(*argv[:-2])
            assert default.code == 0, default.err
            assert default.out == r.out
        assert files(folder) == {"s.db"}
    assert dump(db) == before


def test_a_store_others_can_read_gets_a_warning_naming_it(tmp_path):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    os.chmod(db, 0o644)
    r = tp("runs", "--state", db)
    assert r.code == 0
    assert r.lines == [f"teleproc: warning: {db} can be read or written by other users (mode 0644); it holds "
                       f"patient data: chmod 600 {db}"]
    os.chmod(db, 0o600)
    assert tp("runs", "--state", db).lines == []


def test_the_store_and_its_wal_and_shm_are_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        db = tmp_path / "s.db"
        assert adjudicate1(db, tmp_path / "r1.txt").code == 0
        reader = sqlite3.connect(db)               # keeps -wal/-shm in place while a run writes
        reader.execute("SELECT count(*) FROM runs").fetchone()
        assert adjudicate2(db, tmp_path / "r2.txt").code == 0
        for name in ("s.db", "s.db-wal", "s.db-shm", "r1.txt", "r2.txt"):
            assert os.stat(tmp_path / name).st_mode & 0o777 == 0o600, name
        reader.close()
    finally:
        os.umask(old)


def test_an_interrupted_creation_leaves_no_half_schema(tmp_path, monkeypatch):
    db = tmp_path / "s.db"

    def broken(conn, version):
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(migrations, "upgrade", broken)
    r = adjudicate1(db, tmp_path / "r1.txt")
    assert r.code == 2 and str(db) in r.lines[0] and "cannot create the store" in r.lines[0]
    assert files(tmp_path) == set()

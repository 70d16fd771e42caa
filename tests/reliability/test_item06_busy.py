"""Issue 8 item 6: two runs at once. A second writer waits for the first (--wait SECONDS,
default 600), then stops with a message beginning "store busy:" that names the store, exit 2:
no traceback, nothing half done. Real processes: a holder of the store's write lock, and two
`teleproc adjudicate` runs on one store."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from teleproc import store

from .store_helpers import DEMO, REGISTRY, ROOT, SECOND, adjudicate1, dump, files, tp

HOLD = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def holder(db, seconds: float) -> subprocess.Popen:
    """Another process holding the store's write lock for ``seconds``."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def teleproc(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "teleproc", "--log-level", "ERROR", *map(str, argv)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def second_run(db, out, *more):
    return teleproc("adjudicate", DEMO / "submission-2.txt", "--state", db, "--out", out,
                    "--registry", REGISTRY, *SECOND, *more)


def test_a_second_writer_waits_then_says_store_busy(tmp_path):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    before = dump(db)
    h = holder(db, 8)
    try:
        t0 = time.monotonic()
        r = second_run(db, tmp_path / "r2.txt", "--wait", "1")
        waited = time.monotonic() - t0
    finally:
        h.kill()
        h.wait()
    assert r.returncode == 2
    assert r.stderr.startswith(f"store busy: {db} is being written by another teleproc run; waited 1 s"), r.stderr
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
    assert waited >= 1
    assert dump(db) == before
    assert files(tmp_path) == {"s.db", "r1.txt"}             # no return file, no temp file


@pytest.mark.parametrize("command", ["release", "migrate"])
def test_every_writing_command_waits(tmp_path, command):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    before = dump(db)
    h = holder(db, 8)
    try:
        argv = {"release": ("release", "--state", db, "--out", tmp_path / "r2.txt"),
                "migrate": ("migrate", "--state", db)}[command]
        r = teleproc(*argv, "--wait", "0.5")
    finally:
        h.kill()
        h.wait()
    if command == "migrate":     # the store is current: nothing to wait for
        assert r.returncode == 0 and "nothing to do" in r.stderr
    else:
        assert r.returncode == 2 and r.stderr.startswith(f"store busy: {db}"), r.stderr
    assert dump(db) == before


def test_the_second_writer_goes_on_when_the_first_has_finished(tmp_path):
    db = tmp_path / "s.db"
    assert adjudicate1(db, tmp_path / "r1.txt").code == 0
    h = holder(db, 1.5)
    r = second_run(db, tmp_path / "r2.txt", "--wait", "60")
    h.wait()
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "r2.txt").read_bytes() == (DEMO / "expected-return-2.txt").read_bytes()


def _wait_until_write_locked(db, proc, limit=120.0):
    """Return once another connection holds the store's write lock (our BEGIN IMMEDIATE is
    refused): a fixed sleep raced with the first run's start on a loaded machine."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the first run ended before it was seen holding the lock"
        probe = sqlite3.connect(str(db), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return
        finally:
            probe.close()
        time.sleep(0.01)
    raise AssertionError("the first run never took the write lock")


def test_two_teleproc_runs_at_once_never_pay_twice(tmp_path):
    """The same submission twice at once (the second with --allow-sequence-gap): the second
    waits for the first and finds every claim already answered; with a short --wait it stops
    instead and leaves the store as the first run made it."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from gen_submission import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    sub = tmp_path / "sub.txt"
    generate(sub, 20000, patients=4000, seed=3)
    db = tmp_path / "s.db"
    store.create(db).close()
    solo = tmp_path / "solo.db"
    shutil.copy(db, solo)

    def run(out, *more):
        return subprocess.Popen([sys.executable, "-m", "teleproc", "--log-level", "ERROR", "adjudicate", str(sub),
                                 "--state", str(db), "--out", str(out), "--received", "20250115",
                                 "--allow-sequence-gap", *more],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)

    first = run(tmp_path / "a.txt")
    _wait_until_write_locked(db, first)       # the first run holds the store's write lock
    busy = run(tmp_path / "b.txt", "--wait", "0.05")
    second = run(tmp_path / "c.txt")
    outs = [p.communicate(timeout=300) for p in (first, busy, second)]
    assert first.returncode == 0, outs[0][1]
    assert second.returncode == 0, outs[2][1]
    assert busy.returncode == 2 and outs[1][1].startswith(f"store busy: {db}"), outs[1][1]
    assert not (tmp_path / "b.txt").exists()
    runs = json.loads(tp("runs", "--state", db, "--format", "json").out)
    assert [r["claims"] for r in runs] == [20000, 20000]
    assert runs[0]["paid_cents"] > 0 and runs[1]["paid_cents"] == 0     # nothing paid twice
    # the first run is what it would have been alone
    r = teleproc("adjudicate", sub, "--state", solo, "--out", tmp_path / "solo.txt", "--received", "20250115")
    assert r.returncode == 0
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "solo.txt").read_bytes()
    assert not [n for n in os.listdir(tmp_path) if ".teleproc-" in n]

"""Issue 8 kill tests: `teleproc adjudicate` on a generated submission killed with SIGKILL at
seeded random moments (and, as often, at random moments after its return file's temp file
appeared: the end of the job, where writing, the commit and the rename happen). After each
kill, either

- the run did not commit: the store equals the one before (a dump), no return file is there,
  the next start removes the temp file, and the re-run writes the clean run's file byte for
  byte; or
- the run committed: the next start removes its temp file (if the rename had not happened) and
  `teleproc reissue` writes the clean run's file byte for byte.

Size and count: TELEPROC_KILL_CLAIMS (default 20,000 claims: ~1-2 s a run here) and
TELEPROC_KILLS (default 9 kills); the seed is TELEPROC_KILL_SEED (default 8)."""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from teleproc import store

from .store_helpers import ROOT, dump

CLAIMS = int(os.environ.get("TELEPROC_KILL_CLAIMS", "20000"))
KILLS = int(os.environ.get("TELEPROC_KILLS", "9"))
SEED = int(os.environ.get("TELEPROC_KILL_SEED", "8"))
RECEIVED = "20250115"


def _teleproc(*argv) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "teleproc", "--log-level", "ERROR", *map(str, argv)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)


def _run(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "teleproc", "--log-level", "ERROR", *map(str, argv)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def _temps(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if ".teleproc-" in n)


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def _digest(db: Path) -> str:
    return hashlib.sha256("\n".join(dump(db)).encode()).hexdigest()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from gen_submission import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    base = tmp_path_factory.mktemp("kill")
    sub = base / "submission.txt"
    generate(sub, CLAIMS, patients=max(CLAIMS // 5, 100), seed=SEED)
    empty = base / "empty.db"
    store.create(empty).close()
    clean = base / "clean"
    clean.mkdir()
    shutil.copy(empty, clean / "s.db")
    t0 = time.perf_counter()
    r = _run("adjudicate", sub, "--state", clean / "s.db", "--out", clean / "r.txt", "--received", RECEIVED)
    seconds = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    return sub, empty, (clean / "r.txt").read_bytes(), seconds


def test_kill_minus_9_at_random_moments(setup, tmp_path):
    sub, empty, clean, seconds = setup
    before = _digest(empty)
    rng = random.Random(SEED)
    outcomes = []
    for i in range(KILLS):
        work = tmp_path / f"k{i}"
        work.mkdir()
        db, out = work / "s.db", work / "r.txt"
        shutil.copy(empty, db)
        when = i % 3     # 0: anywhere in the run; 1: while the return file is written; 2: at its end
        p = _teleproc("adjudicate", sub, "--state", db, "--out", out, "--received", RECEIVED)
        if when:
            deadline = time.monotonic() + 120
            while p.poll() is None and time.monotonic() < deadline:
                temps = _temps(work)
                if temps and (when == 1 or _size(work / temps[0]) >= len(clean)):
                    break
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.15 if when == 1 else 0.04))
        else:
            time.sleep(rng.uniform(0, seconds * 1.05))
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stderr.close()
        conn = sqlite3.connect(db)       # the next reader sees the store as committed (WAL recovered)
        runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        conn.close()
        left_temp = bool(_temps(work))
        if runs == 0:
            outcomes.append("not committed" + (", temp left" if left_temp else ""))
            assert _digest(db) == before                          # the store as it was
            assert not out.exists()                               # no return file
            r = _run("adjudicate", sub, "--state", db, "--out", out, "--received", RECEIVED)
            assert r.returncode == 0, r.stderr
            assert out.read_bytes() == clean                      # the re-run equals a clean run
        else:
            assert runs == 1
            outcomes.append("committed" + (", renamed" if out.exists() else ", temp left" if left_temp else ""))
            if out.exists():
                assert out.read_bytes() == clean
            again = work / "again.txt"
            r = _run("reissue", "--state", db, "--run", 1, "--out", again)
            assert r.returncode == 0, r.stderr
            assert again.read_bytes() == clean
        assert _temps(work) == []                                 # the next start removed them
        assert sorted(n for n in os.listdir(work) if not n.endswith(("-wal", "-shm"))) == \
            sorted(["s.db", "r.txt"] + (["again.txt"] if runs else []))
    print(f"\n{KILLS} kills of a {CLAIMS:,}-claim run ({seconds:.2f} s): " + "; ".join(outcomes))

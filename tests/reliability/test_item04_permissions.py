"""Issue 8, item 4 (outputs; the existing-store warning is i8-store's): every output, report,
spool and temp file is created 0600 whatever the umask; temp files of a killed process are
removed by the next teleproc write into the same folder; spools live beside the store and are
unlinked as soon as opened (never in the system temp folder); an existing device or FIFO is
written in place; a symlinked output is renamed onto its resolved target."""
from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import teleproc.remit as remit
from teleproc import io as tio

from .helpers import ROOT, SUB1, SUB2, adjudicate, temps


def mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_every_output_is_0600_whatever_the_umask(tp, tmp_path, umask, mask):
    umask(mask)
    d = tmp_path / "out"
    d.mkdir()
    db = d / "state.db"
    assert adjudicate(tp, SUB1, db, d / "return-1.txt", "--report", d / "report-1.json").code == 0
    assert tp("release", "--state", db, "--out", d / "release.txt", "--report", d / "release.json",
              "--payment-date", "20240320").code == 0
    assert tp("parse", SUB2, "--out", d / "sub2.jsonl").code == 0
    assert tp("build", d / "sub2.jsonl", "--out", d / "sub2.txt").code == 0
    assert tp("msoc", "--state", db, "--period-end", "20240331", "--out", d / "msoc.csv").code == 0
    assert tp("panel", "--state", db, "--out", d / "panel.json").code == 0
    files = {p.name: mode(p) for p in d.iterdir() if not p.is_dir()}
    assert set(files) >= {"state.db", "return-1.txt", "report-1.json", "release.txt", "release.json",
                          "sub2.jsonl", "sub2.txt", "msoc.csv", "panel.json"}
    assert all(m == 0o600 for m in files.values()), {n: oct(m) for n, m in files.items()}
    # msoc/panel on DuckDB leave the Parquet dataset beside the store (issue 14): it holds PHNs,
    # so its files are 0600 and its folders 0700 too
    inside = {str(p.relative_to(d)): mode(p) for p in d.rglob("*") if p.parent != d or p.is_dir()}
    assert all(m == (0o700 if (d / n).is_dir() else 0o600) for n, m in inside.items()), \
        {n: oct(m) for n, m in inside.items()}


def test_a_replaced_output_becomes_0600(tp, store):
    target = store.parent / "wide.txt"
    target.write_text("old")
    os.chmod(target, 0o644)
    assert tp("parse", SUB2, "--out", target).code == 0
    assert mode(target) == 0o600 and target.read_text().startswith("{")


def _start_ticks(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[19])


def test_temps_of_dead_processes_are_removed_by_the_next_write(tp, store):
    """Names carry pid and start time: a dead writer's temp goes, a live one's stays, and a
    file that merely looks similar is never touched."""
    w = store.parent
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_start = _start_ticks(dead.pid)
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.05)
        live_start = _start_ticks(live.pid)
        names = {
            "dead": f".return-2.txt.teleproc-{dead.pid}-{dead_start}-0a1b2c3d.tmp",
            "recycled pid": f".x.teleproc-{live.pid}-{live_start + 1}-0a1b2c3d.tmp",
            "live": f".report.json.teleproc-{live.pid}-{live_start}-0a1b2c3d.tmp",
            "not ours": ".notes.tmp",
            "not ours either": "return-2.txt.teleproc-1-1-zz.tmp",
        }
        for n in names.values():
            (w / n).write_text("partial")
        shutil.copy(SUB2, w / "submission-2.txt")
        r = adjudicate(tp, w / "submission-2.txt", store, w / "return-2.txt", received="20240405",
                       payment="20240415")
        assert r.code == 0, r
        left = set(os.listdir(w))
        assert names["dead"] not in left and names["recycled pid"] not in left
        assert {names["live"], names["not ours"], names["not ours either"]} <= left
    finally:
        live.kill()
        live.wait()


def test_a_killed_writer_leaves_a_temp_the_next_start_removes(tp, store, tmp_path):
    """A real kill -9 while `teleproc parse` is writing (its input is a FIFO that never ends)."""
    w = store.parent
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    out = w / "parsed.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "teleproc", "parse", str(fifo), "--out", str(out)],
                            cwd=ROOT, stderr=subprocess.DEVNULL)
    feeder = open(fifo, "w")             # the reader has opened it: the temp file exists by now
    try:
        feeder.write(SUB2.read_text("latin-1"))
        feeder.flush()
        for _ in range(200):
            if temps(w):
                break
            time.sleep(0.02)
        left = temps(w)
        assert len(left) == 1 and left[0].startswith(".parsed.jsonl.teleproc-"), left
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        try:
            feeder.close()
        except BrokenPipeError:
            pass
    assert temps(w) == left and not out.exists()
    assert tp("msoc", "--state", store, "--period-end", "20240331", "--out", w / "msoc.csv").code == 0
    assert temps(w) == []


def test_spools_beside_the_store_unlinked_at_once(tp, tmp_path, private_tmp, monkeypatch):
    """The return file's claim-line spools: created in the store's folder, with no name, so a
    killed run leaves nothing; the system temp folder is never used."""
    monkeypatch.setattr(remit, "_SPILL_AT", 2)          # spill after every second line
    opened = []
    real = remit.spool_file

    def spy(directory, mode="w+b"):
        f = real(directory, mode)
        opened.append((os.path.realpath(directory), os.fstat(f.fileno()).st_nlink,
                       stat.S_IMODE(os.fstat(f.fileno()).st_mode)))
        return f
    monkeypatch.setattr(remit, "spool_file", spy)
    store_dir, out_dir = tmp_path / "store", tmp_path / "out"
    store_dir.mkdir()
    out_dir.mkdir()
    assert adjudicate(tp, SUB1, store_dir / "s.db", out_dir / "r.txt").code == 0
    assert opened and all(d == str(store_dir.resolve()) for d, _, _ in opened)
    assert all(links == 0 and m == 0o600 for _, links, m in opened), opened
    assert os.listdir(private_tmp) == []
    assert sorted(os.listdir(store_dir)) == ["s.db"] and os.listdir(out_dir) == ["r.txt"]
    # the spilled return file equals an unspilled one
    monkeypatch.undo()
    assert adjudicate(tp, SUB1, tmp_path / "t.db", tmp_path / "r2.txt").code == 0
    assert (out_dir / "r.txt").read_bytes() == (tmp_path / "r2.txt").read_bytes()


def test_devices_and_fifos_are_written_in_place(tp, store, tmp_path):
    before = os.stat("/dev/null")
    assert tp("parse", SUB2, "--out", "/dev/null").code == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode)
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = tp("msoc", "--state", store, "--period-end", "20240331", "--out", fifo)
    reader.join(10)
    assert r.code == 0 and got and got[0].startswith(b"practitioner_number,")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert temps(tmp_path) == []


def test_a_symlinked_output_is_renamed_onto_its_target(tp, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    real = b / "real.jsonl"
    real.write_text("old")
    os.symlink(real, a / "link.jsonl")
    os.symlink(b / "new.jsonl", a / "dangling.jsonl")
    assert tp("parse", SUB2, "--out", a / "link.jsonl").code == 0
    assert tp("parse", SUB2, "--out", a / "dangling.jsonl").code == 0
    assert os.path.islink(a / "link.jsonl") and os.readlink(a / "link.jsonl") == str(real)
    assert real.read_text().startswith("{") and mode(real) == 0o600
    assert (b / "new.jsonl").read_bytes() == real.read_bytes()
    assert sorted(os.listdir(a)) == ["dangling.jsonl", "link.jsonl"]
    assert sorted(os.listdir(b)) == ["new.jsonl", "real.jsonl"]


def test_private_dir_is_0700(tmp_path, umask):
    umask(0)
    d = tio.private_dir(tmp_path / "x" / "y")
    assert mode(d) == 0o700 and mode(tmp_path / "x") == 0o700
    assert tio.private_dir(d) == d


def test_descriptor_names_are_written_in_place(tmp_path):
    """--out /dev/stdout: into a pipe, or into the file the shell opened (appended, not replaced)."""
    argv = [sys.executable, "-m", "teleproc", "--log-level", "ERROR", "parse", str(SUB2), "--out"]
    want = subprocess.run(argv[:-1], cwd=ROOT, capture_output=True).stdout
    got = subprocess.run(argv + ["/dev/stdout"], cwd=ROOT, capture_output=True)
    assert got.returncode == 0 and got.stdout == want, got.stderr
    log = tmp_path / "log.txt"
    log.write_bytes(b"before\n")
    with open(log, "ab") as fh:
        r = subprocess.run(argv + ["/dev/stdout"], cwd=ROOT, stdout=fh, stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr
    assert log.read_bytes() == b"before\n" + want
    assert temps(tmp_path) == [] and sorted(os.listdir(tmp_path)) == ["log.txt"]

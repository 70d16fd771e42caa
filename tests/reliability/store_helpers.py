"""Shared by the issue-8 reliability tests: the teleproc command in this process or as a real
process, a dump of a store, the files left in a folder, a version-2 store written by the old
code, tmpfs / read-only mounts (root only, else the test is skipped)."""
from __future__ import annotations

import contextlib
import gzip
import io
import os
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import teleproc.analytics.cli  # noqa: F401  (batch/analytics bind sys.stderr at import)
import teleproc.batch  # noqa: F401
from teleproc.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO = ROOT / "fixtures" / "demo"
REGISTRY = DEMO / "registry"
V2_STORE = ROOT / "fixtures" / "stores" / "v2-demo.db.gz"
FIRST = ("--received", "20240305", "--payment-date", "20240315")     # fixtures/demo/README.md
SECOND = ("--received", "20240405", "--payment-date", "20240415")


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        """stderr lines that are not JSON log events."""
        return [l for l in self.err.splitlines() if l and not l.startswith("{")]


def tp(*argv) -> Result:
    """``teleproc --log-level ERROR ARGV`` in this process, stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--log-level", "ERROR", *(str(a) for a in argv)])
    assert "Traceback" not in err.getvalue()
    return Result(code, out.getvalue(), err.getvalue())


def tp_process(*argv, timeout: float = 120, **kw) -> subprocess.Popen:
    """A real ``teleproc`` process (python -m teleproc), started, not waited for."""
    return subprocess.Popen([sys.executable, "-m", "teleproc", "--log-level", "ERROR", *map(str, argv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, **kw)


def adjudicate1(state, out, *more) -> Result:
    new = () if Path(state).exists() else ("--new-store",)
    return tp("adjudicate", DEMO / "submission.txt", "--state", state, *new, "--out", out,
              "--registry", REGISTRY, *FIRST, *more)


def adjudicate2(state, out, *more) -> Result:
    return tp("adjudicate", DEMO / "submission-2.txt", "--state", state, "--out", out,
              "--registry", REGISTRY, *SECOND, *more)


def dump(path) -> list[str]:
    """Every row of every table and the schema of a store, as SQL text (read only)."""
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        head = [f"-- user_version {conn.execute('PRAGMA user_version').fetchone()[0]}",
                f"-- application_id {conn.execute('PRAGMA application_id').fetchone()[0]}"]
        return head + list(conn.iterdump())
    finally:
        conn.close()


def files(folder) -> set[str]:
    """Names in ``folder`` except the store's -wal/-shm (SQLite's, present while it is open)."""
    return {p.name for p in Path(folder).iterdir() if not p.name.endswith(("-wal", "-shm"))}


def v2_store(path) -> Path:
    """A version-2 store written by the teleproc of commit 96a297b (before issue 8): the first
    demo submission adjudicated (fixtures/stores/README.md)."""
    Path(path).write_bytes(gzip.decompress(V2_STORE.read_bytes()))
    os.chmod(path, 0o600)
    return Path(path)


def _mount(args) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount")
    r = subprocess.run(["mount", *args], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount ({r.stderr.strip()})")


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    """A small tmpfs mounted on ``folder`` (created) for the block."""
    folder.mkdir(exist_ok=True)
    _mount(["-t", "tmpfs", "-o", f"size={size},mode=0700", f"tp-{uuid.uuid4().hex[:8]}", str(folder)])
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@contextlib.contextmanager
def read_only(folder: Path):
    """``folder`` seen read only (a read-only bind mount over itself) for the block."""
    _mount(["--bind", str(folder), str(folder)])
    try:
        r = subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True, text=True)
        if r.returncode:
            pytest.skip(f"cannot remount read only ({r.stderr.strip()})")
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the filesystem of ``folder`` up to ``leave`` bytes free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize - leave
    with open(folder / "filler", "wb") as fh:
        while free > 0:
            n = min(free, 1 << 20)
            try:
                fh.write(b"\0" * n)
                fh.flush()
            except OSError:
                break
            free -= n

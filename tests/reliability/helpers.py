"""Helpers of the issue-8 reliability suite: every test goes through the ``teleproc``
command (in-process ``teleproc.cli.main``) on real files and looks at what a user would see
(exit status, the one-line message) and at what must not change (a dump of the store, the
files in the folder, the temp folder)."""
from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo"
SUB1, SUB2 = DEMO / "submission.txt", DEMO / "submission-2.txt"
REGISTRY = DEMO / "registry"


class Result:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self):
        return f"Result(code={self.code}, err={self.err!r})"


def dump(db: Path) -> list[str]:
    """The store's content as SQL text (a read-only connection; what a run may change)."""
    conn = sqlite3.connect(Path(db).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def listing(folder: Path) -> dict[str, tuple]:
    """name -> (kind, mode, sha256 of a regular file's bytes) for every entry of the folder."""
    out = {}
    for e in sorted(os.scandir(folder), key=lambda e: e.name):
        st = os.lstat(e.path)
        if stat.S_ISREG(st.st_mode):
            out[e.name] = ("file", stat.S_IMODE(st.st_mode), sha(Path(e.path)))
        elif stat.S_ISLNK(st.st_mode):
            out[e.name] = ("link", os.readlink(e.path))
        else:
            out[e.name] = ("other", stat.S_IFMT(st.st_mode))
    return out


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def temps(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if ".teleproc-" in n or n.endswith(".tmp"))


def adjudicate(tp, submission, db, out, *extra, received="20240305", payment="20240315"):
    argv = ["adjudicate", submission, "--state", db, "--out", out, "--received", received,
            "--payment-date", payment, "--registry", REGISTRY, *extra]
    if not Path(db).exists():
        argv.append("--new-store")
    return tp(*argv)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "16k", ro: bool = False):
    """A small tmpfs at ``path`` (root only; the test is skipped where it cannot mount)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(exist_ok=True)
    opts = f"size={size},mode=0755" + (",ro" if ro else "")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)

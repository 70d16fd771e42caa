"""Issue 8 (Tests): random sequences of commands with random wrong paths never change the store
except through a committed run, never touch an input, and leave no temp file behind."""
from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teleproc.cli import build_parser, main

from .helpers import REGISTRY, SUB1, SUB2, dump, sha, temps

# where an output may point: the wrong places first
TARGETS = ["state.db", "state.db-wal", "state.db-shm", "link-to-store", "hardlink", "sub.txt",
           "registry/patients.csv", "registry/practitioners.csv", "acg.csv", "OTHER", "folder",
           "missing/x.txt", "/dev/null", "o1.txt", "o2.txt", "link-to-o1"]
COMMANDS = ["adjudicate", "release", "msoc", "panel", "parse", "build", "reissue", "claims", "export"]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    d = tmp_path_factory.mktemp("template")
    code = main(["--log-level", "CRITICAL", "adjudicate", str(SUB1), "--state", str(d / "state.db"),
                 "--new-store", "--out", str(d / "r1.txt"), "--received", "20240305",
                 "--registry", str(REGISTRY)])
    assert code == 0
    return d / "state.db"


def runs(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    finally:
        conn.close()


def argv_for(command: str, w: Path, out: Path, other: Path) -> list:
    db = w / "state.db"
    return {
        "adjudicate": ["adjudicate", w / "sub.txt", "--state", db, "--out", out, "--report", other,
                       "--received", "20240405", "--registry", w / "registry", "--allow-sequence-gap"],
        "release": ["release", "--state", db, "--out", out, "--report", other, "--registry", w / "registry"],
        "msoc": ["msoc", "--state", db, "--period-end", "20240331", "--out", out,
                 "--acg", w / "acg.csv", "--weights", w / "weights.csv"],
        "panel": ["panel", "--state", db, "--out", out],
        "parse": ["parse", w / "sub.txt", "--out", out],
        "build": ["build", w / "claims.jsonl", "--out", out],
        "reissue": ["reissue", "--state", db, "--run", "1", "--out", out],
        "claims": ["claims", "--state", db, "--format", "csv", "--out", out],
        "export": ["export", "--state", db, "--out", out],        # --out is a folder here
    }[command]


INPUTS = {"sub.txt", "registry/patients.csv", "registry/practitioners.csv", "acg.csv"}
READS = {"adjudicate": {"sub.txt", "registry/patients.csv", "registry/practitioners.csv"},
         "release": {"registry/patients.csv", "registry/practitioners.csv"},
         "msoc": {"acg.csv"}, "parse": {"sub.txt"}}


def where(w: Path, name: str, other: str) -> Path:
    if name == "OTHER":
        name = other
    return Path(name) if name.startswith("/") else w / name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(COMMANDS), st.sampled_from(TARGETS),
                                st.sampled_from(TARGETS)), min_size=1, max_size=4))
def test_wrong_paths_never_change_the_store(template, tmp_path_factory, capsys, steps):
    registered = set(next(a for a in build_parser()._actions if a.dest == "command").choices)
    w = tmp_path_factory.mktemp("w")
    shutil.copy(template, w / "state.db")
    shutil.copy(SUB2, w / "sub.txt")
    shutil.copytree(REGISTRY, w / "registry")
    (w / "acg.csv").write_text("phn,acg\n9000000001,1710\n")
    (w / "weights.csv").write_text("acg,weight\n1710,1\n")
    (w / "folder").mkdir()
    (w / "o1.txt").write_text("o1")
    os.symlink("state.db", w / "link-to-store")
    os.symlink("o1.txt", w / "link-to-o1")
    os.link(w / "state.db", w / "hardlink")
    assert main(["--log-level", "CRITICAL", "parse", str(w / "sub.txt"), "--out", str(w / "claims.jsonl")]) == 0
    inputs = {p: sha(w / p) for p in ("sub.txt", "registry/patients.csv", "registry/practitioners.csv",
                                       "acg.csv", "weights.csv", "claims.jsonl")}
    for command, target, second in steps:
        if command not in registered:
            continue
        # a file the command does not read is an ordinary output for it: aim elsewhere
        target, second = (t if t not in INPUTS or t in READS.get(command, ()) else "o1.txt"
                          for t in (target, second))
        out = where(w, target, second if second != "OTHER" else "o2.txt")
        other = where(w, second, target if target != "OTHER" else "o2.txt")
        before, n = dump(w / "state.db"), runs(w / "state.db")
        code = main(["--log-level", "CRITICAL", *(str(a) for a in argv_for(command, w, out, other))])
        err = capsys.readouterr().err
        assert code in (0, 1, 2) and "Traceback" not in err
        committed = runs(w / "state.db")
        if code == 0 and command == "release" and "nothing to release" in err:
            assert dump(w / "state.db") == before      # issue 11: no run recorded, --out untouched
        elif code == 0 and command in ("adjudicate", "release"):
            assert committed == n + 1
        elif "committed; report not written" in err:
            assert code == 2 and committed == n + 1
        else:
            assert dump(w / "state.db") == before, (command, target, second, code, err)
        wrong = {"state.db", "state.db-wal", "state.db-shm", "link-to-store", "hardlink", "sub.txt",
                 "registry/patients.csv", "registry/practitioners.csv", "acg.csv", "folder",
                 "missing/x.txt"}
        if code == 0 and command in ("adjudicate", "release"):
            assert second not in wrong, steps
            assert out == Path("/dev/null") or os.path.realpath(out) != os.path.realpath(other), steps
        if command == "export":      # a folder output: an empty or missing folder is right
            wrong -= {"folder", "missing/x.txt"}
        if code == 0:
            assert target not in wrong, (command, target, err)
        assert {p: sha(w / p) for p in inputs} == inputs
        assert temps(w) == []

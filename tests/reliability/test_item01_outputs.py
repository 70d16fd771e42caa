"""Issue 8, item 1: no output may overwrite an input, the store (or its -wal/-shm) or another
output of the same command. Each case runs the real command and checks: exit 2 with one line
saying what the output would have overwritten, the store's dump and every file of the folder
(bytes, modes, links) as before, and nothing in the temp folder."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from teleproc.errors import OutputError
from teleproc.paths import guard_outputs

from .helpers import REGISTRY, SUB2, adjudicate, dump, listing, sha


@pytest.fixture
def work(store):
    """The store's folder, with every input a command may read copied beside it."""
    w = store.parent
    shutil.copy(SUB2, w / "submission-2.txt")
    shutil.copytree(REGISTRY, w / "registry")
    (w / "acg.csv").write_text("phn,acg\n9000000001,1710\n")
    (w / "weights.csv").write_text("acg,weight\n1710,1.5\n")
    (w / "claims.jsonl").write_text('{"record_code": "VS1"}\n')
    os.symlink("state.db", w / "link-to-store")
    os.link(w / "state.db", w / "hardlink-to-store")
    os.symlink("return-2.txt", w / "link-to-return")
    return w


def msoc(w, out, *extra):
    return ["msoc", "--state", w / "state.db", "--period-end", "20240331", "--acg", w / "acg.csv",
            "--weights", w / "weights.csv", "--out", out, *extra]


def adj(w, out, *extra):
    return ["adjudicate", w / "submission-2.txt", "--state", w / "state.db", "--out", out,
            "--received", "20240405", "--registry", w / "registry", *extra]


def release(w, out, *extra):
    return ["release", "--state", w / "state.db", "--out", out, "--registry", w / "registry", *extra]


CASES = {
    # the issue's own example: the store would become a CSV with exit 0
    "msoc --out the store": (lambda w: msoc(w, w / "state.db"), "is the state store"),
    "msoc --out the store's -wal": (lambda w: msoc(w, w / "state.db-wal"), "its wal file"),
    "msoc --out the store's -shm": (lambda w: msoc(w, w / "state.db-shm"), "its shm file"),
    "msoc --out a symlink to the store": (lambda w: msoc(w, w / "link-to-store"), "is the state store"),
    "msoc --out a hard link of the store": (lambda w: msoc(w, w / "hardlink-to-store"), "is the state store"),
    "msoc --out the ACG file": (lambda w: msoc(w, w / "acg.csv"), "is an input (--acg"),
    "msoc --out the weights file": (lambda w: msoc(w, w / "weights.csv"), "is an input (--weights"),
    "panel --out the store": (lambda w: ["panel", "--state", w / "state.db", "--out", w / "state.db"],
                              "is the state store"),
    "export --out the store": (lambda w: ["export", "--state", w / "state.db", "--out", w / "state.db"],
                               "is the state store"),
    "adjudicate --out the store": (lambda w: adj(w, w / "state.db"), "is the state store"),
    "adjudicate --out the submission": (lambda w: adj(w, w / "submission-2.txt"), "is the submission"),
    "adjudicate --out a registry file": (lambda w: adj(w, w / "registry" / "patients.csv"),
                                         "is an input (--registry"),
    "adjudicate --report the store": (lambda w: adj(w, w / "return-2.txt", "--report", w / "state.db"),
                                      "is the state store"),
    "adjudicate --report = --out": (lambda w: adj(w, w / "return-2.txt", "--report", w / "return-2.txt"),
                                    "is the same file as another output (--out"),
    "adjudicate --report a symlink to --out": (
        lambda w: adj(w, w / "return-2.txt", "--report", w / "link-to-return"), "is the same file"),
    "adjudicate --report the registry": (
        lambda w: adj(w, w / "return-2.txt", "--report", w / "registry" / "practitioners.csv"),
        "is an input (--registry"),
    "release --out the store": (lambda w: release(w, w / "state.db"), "is the state store"),
    "release --report = --out": (lambda w: release(w, w / "rel.txt", "--report", w / "rel.txt"),
                                 "is the same file"),
    "release --out a registry file": (lambda w: release(w, w / "registry" / "practitioners.csv"),
                                      "is an input (--registry"),
    "parse --out its input": (lambda w: ["parse", w / "submission-2.txt", "--out", w / "submission-2.txt"],
                              "is the input file"),
    "parse --out the store": (lambda w: ["parse", w / "submission-2.txt", "--out", w / "link-to-store"],
                              None),
    "build --out its input": (lambda w: ["build", w / "claims.jsonl", "--out", w / "claims.jsonl"],
                              "is the input file"),
    "adjudicate --out a folder": (lambda w: adj(w, w / "registry"), "is a directory"),
    "msoc --out a folder": (lambda w: msoc(w, w), "is a directory"),
    "adjudicate --out in a missing folder": (lambda w: adj(w, w / "nowhere" / "r.txt"), "no directory"),
    "adjudicate --report in a missing folder": (
        lambda w: adj(w, w / "r.txt", "--report", w / "nowhere" / "r.json"), "no directory"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_refused_before_any_work(tp, work, private_tmp, case):
    argv, message = CASES[case]
    before_db, before_files = dump(work / "state.db"), listing(work)
    before_registry = listing(work / "registry")
    r = tp(*argv(work))
    assert r.code == 2, r
    assert len(r.err.strip().splitlines()) == 1, r.err          # one line, no traceback
    if message:
        assert message in r.err, r.err
    assert "refused" in r.err or "directory" in r.err
    assert dump(work / "state.db") == before_db
    assert listing(work) == before_files                        # nothing written, nothing replaced
    assert listing(work / "registry") == before_registry
    assert os.listdir(private_tmp) == []


def test_a_committed_runs_return_file_is_kept(tp, work):
    """--report equal to --out used to replace the return file of the run just committed."""
    first = adj(work, work / "return-2.txt")
    assert tp(*first).code == 0
    kept, db = sha(work / "return-2.txt"), dump(work / "state.db")
    r = tp("release", "--state", work / "state.db", "--out", work / "return-2.txt",
           "--report", work / "return-2.txt")
    assert r.code == 2 and "is the same file" in r.err
    assert sha(work / "return-2.txt") == kept and dump(work / "state.db") == db


def test_devices_may_be_named_twice(tp, work):
    """/dev/null is written in place (nothing is replaced), so --out and --report may both be it."""
    r = tp(*adj(work, "/dev/null", "--report", "/dev/null"))
    assert r.code == 0, r
    assert Path("/dev/null").is_char_device()
    r = tp(*msoc(work, "/dev/null", "--default-weight", "1"))
    assert r.code == 0, r


def test_guard_api_for_other_commands(tmp_path):
    """The function other commands call: (label, path) pairs; None and '-' are skipped."""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("x")
    guard_outputs([("--out", b), ("--trace", None), ("--html", "-")], inputs=[("--in", a)],
                  stores=[("--state", tmp_path / "s.db")])
    for outputs, inputs, stores, words in [
        ([("--out", a)], [("--in", a)], [], "is an input (--in"),
        ([("--out", b), ("--html", b)], [], [], "is the same file as another output (--out"),
        ([("--out", tmp_path / "s.db-journal")], [], [("--state", tmp_path / "s.db")], "journal"),
        ([("--out", tmp_path)], [], [], "is a directory"),
    ]:
        with pytest.raises(OutputError, match=words.replace("(", r"\(")):
            guard_outputs(outputs, inputs=inputs, stores=stores)
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]


def test_adjudicate_into_its_store_via_relative_paths(tp, work, monkeypatch):
    """Relative and absolute spellings of the same file are the same file."""
    monkeypatch.chdir(work)
    before = dump(work / "state.db")
    r = tp("adjudicate", "submission-2.txt", "--state", "state.db", "--out",
           os.path.join("..", work.name, "state.db"), "--received", "20240405")
    assert r.code == 2 and "is the state store" in r.err
    assert dump(work / "state.db") == before
    r = adjudicate(tp, "submission-2.txt", "state.db", "./return-2.txt", received="20240405",
                   payment="20240415")
    assert r.code == 0, r

"""Fixtures of the issue-8 reliability suite (helpers in helpers.py)."""
from __future__ import annotations

import tempfile

import pytest

from teleproc.cli import main

from .helpers import SUB1, Result, adjudicate


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The process's temp folder for this test (TMPDIR and tempfile.tempdir): a test asserts
    nothing was left in it (other helpers' runs share /tmp, so /tmp itself is not compared)."""
    d = tmp_path / "TMPDIR"
    d.mkdir()
    monkeypatch.setenv("TMPDIR", str(d))
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


@pytest.fixture
def tp(capsys, private_tmp):
    """``tp(*argv)`` runs ``teleproc --log-level ERROR ARGV`` in this process -> Result."""
    def run(*argv) -> Result:
        code = main(["--log-level", "ERROR", *(str(a) for a in argv)])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return Result(code, out, err)
    return run


@pytest.fixture
def store(tp, tmp_path):
    """A store with one committed run (the first demo submission) and its return file, in
    tmp_path/work."""
    work = tmp_path / "work"
    work.mkdir()
    db = work / "state.db"
    r = adjudicate(tp, SUB1, db, work / "return-1.txt")
    assert r.code == 0, r.err
    return db

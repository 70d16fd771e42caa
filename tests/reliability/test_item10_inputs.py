"""Issue 8, item 10 (``-`` for standard input is issue 9's): a folder is refused everywhere as a
folder, not as "no such file"; adjudicate refuses a FIFO (it reads its input twice) with that
reason; a registry CSV with a UTF-8 byte-order mark is read; duplicate registry rows are an
error naming both lines."""
from __future__ import annotations

import os
import shutil

import pytest

from .helpers import REGISTRY, SUB1, SUB2, adjudicate, dump, listing


@pytest.fixture
def work(store):
    w = store.parent
    (w / "folder").mkdir()
    shutil.copy(SUB2, w / "submission-2.txt")
    (w / "weights.csv").write_text("acg,weight\n1710,1\n")
    return w


def cases(w):
    d = w / "folder"
    db = w / "state.db"
    return {
        "validate": (["validate", d], "is a directory, not a file"),
        "parse": (["parse", d], "is a directory, not a file"),
        "build": (["build", d], "is a directory, not a file"),
        "roundtrip": (["roundtrip", d], "is a directory, not a file"),
        "adjudicate SUBMISSION": (["adjudicate", d, "--state", db, "--out", w / "r.txt"],
                                  "is a directory, not a file"),
        "adjudicate --state": (["adjudicate", w / "submission-2.txt", "--state", d, "--out", w / "r.txt"],
                               "is a directory"),
        "adjudicate --registry FILE": (["adjudicate", w / "submission-2.txt", "--state", db, "--out",
                                        w / "r.txt", "--registry", w / "submission-2.txt"],
                                       "is a file, not a directory"),
        "release --registry FILE": (["release", "--state", db, "--out", w / "r.txt", "--registry",
                                     w / "submission-2.txt"], "is a file, not a directory"),
        "msoc --acg": (["msoc", "--state", db, "--period-end", "20240331", "--acg", d, "--weights",
                        w / "weights.csv"], "is a directory, not a file"),
        "msoc --weights": (["msoc", "--state", db, "--period-end", "20240331", "--acg",
                            REGISTRY / "patients.csv", "--weights", d], "is a directory, not a file"),
        "msoc --state": (["msoc", "--state", d, "--period-end", "20240331"], "is a directory"),
        "panel --state": (["panel", "--state", d], "is a directory"),
    }


@pytest.mark.parametrize("case", ["validate", "parse", "build", "roundtrip", "adjudicate SUBMISSION",
                                  "adjudicate --state", "adjudicate --registry FILE",
                                  "release --registry FILE", "msoc --acg", "msoc --weights",
                                  "msoc --state", "panel --state"])
def test_a_folder_is_refused_as_a_folder(tp, work, private_tmp, case):
    argv, message = cases(work)[case]
    before_db, before = dump(work / "state.db"), listing(work)
    r = tp(*argv)
    assert r.code == 2, r
    assert message in r.err and "no such file" not in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1
    assert dump(work / "state.db") == before_db and listing(work) == before
    assert os.listdir(private_tmp) == []


def test_a_registry_file_that_is_a_folder(tp, work):
    reg = work / "reg"
    shutil.copytree(REGISTRY, reg)
    os.unlink(reg / "patients.csv")
    (reg / "patients.csv").mkdir()
    r = tp("adjudicate", work / "submission-2.txt", "--state", work / "state.db", "--out",
           work / "r.txt", "--registry", reg, "--received", "20240405")
    assert r.code == 2 and f"{reg / 'patients.csv'}: is a directory, not a file" in r.err, r.err
    assert not (work / "r.txt").exists()


def test_missing_inputs_are_said_missing(tp, work):
    for argv in (["validate", work / "nope.txt"],
                 ["adjudicate", work / "nope.txt", "--state", work / "state.db", "--out", work / "r.txt"]):
        r = tp(*argv)
        assert r.code == 2 and "nope.txt: no such file" in r.err, r.err


def test_adjudicate_refuses_a_fifo_with_the_reason(tp, work, private_tmp):
    fifo = work / "sub.fifo"
    os.mkfifo(fifo)
    before_db, before = dump(work / "state.db"), listing(work)
    r = tp("adjudicate", fifo, "--state", work / "state.db", "--out", work / "r.txt")
    assert r.code == 2
    assert "is a FIFO (named pipe): adjudicate reads its input twice" in r.err, r.err
    assert dump(work / "state.db") == before_db and listing(work) == before


def test_single_pass_commands_read_a_fifo(tp, work):
    """validate reads its input once: a FIFO is fine there."""
    import threading
    fifo = work / "in.fifo"
    os.mkfifo(fifo)
    t = threading.Thread(target=lambda: fifo.write_bytes(SUB2.read_bytes()))
    t.start()
    r = tp("validate", fifo)
    t.join(10)
    assert r.code == 0, r


def test_a_registry_with_a_byte_order_mark_is_read(tp, tmp_path):
    reg = tmp_path / "reg"
    shutil.copytree(REGISTRY, reg)
    for name in ("practitioners.csv", "patients.csv"):
        text = (REGISTRY / name).read_text("utf-8")
        (reg / name).write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    plain, bom = tmp_path / "plain.txt", tmp_path / "bom.txt"
    assert adjudicate(tp, SUB1, tmp_path / "a.db", plain).code == 0
    r = tp("adjudicate", SUB1, "--state", tmp_path / "b.db", "--new-store", "--out", bom,
           "--received", "20240305", "--payment-date", "20240315", "--registry", reg)
    assert r.code == 0, r
    assert bom.read_bytes() == plain.read_bytes()       # same names on S21/S22, same decisions


@pytest.mark.parametrize("name, text, message", [
    ("patients.csv", "phn,sex\n9753035697,M\n9151210417,F\n9753035697,M\n", "lines 2 and 4 have the same phn"),
    ("practitioners.csv", "# names\npractitioner_number,name\n12345,DR A\n23456,DR B\n12345,DR A\n",
     "lines 3 and 5 have the same practitioner_number"),
])
def test_duplicate_registry_rows_name_both_lines(tp, work, name, text, message):
    reg = work / "reg"
    shutil.copytree(REGISTRY, reg)
    (reg / name).write_text(text)
    before = dump(work / "state.db")
    r = tp("adjudicate", work / "submission-2.txt", "--state", work / "state.db", "--out",
           work / "r.txt", "--registry", reg, "--received", "20240405")
    assert r.code == 2 and f"{reg / name}: {message}" in r.err, r.err
    assert dump(work / "state.db") == before and not (work / "r.txt").exists()


@pytest.mark.parametrize("argv", [
    ["validate", "{db}"], ["parse", "{db}"], ["roundtrip", "{db}"],
    ["adjudicate", "{db}", "--state", "{db}", "--out", "{w}/r.txt"],
    ["reconcile", "{w}/submission-2.txt", "--returns", "{db}"],
])
def test_the_store_named_as_a_file_to_read_is_refused_as_a_store(tp, work, argv):
    """``teleproc validate state.db`` (a slip for the return file) would report every page of the
    store as a bad record, thousands of lines; it is refused in one line, the store untouched."""
    db = work / "state.db"
    before_db, before = dump(db), listing(work)
    r = tp(*(a.format(db=db, w=work) for a in argv))
    assert r.code == 2, r
    assert "is a teleproc state store, not a file this reads (a store is given as --state)" in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1 and r.out == ""
    assert dump(db) == before_db and listing(work) == before

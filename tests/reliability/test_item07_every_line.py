"""Issue 8, item 7: every line gets an answer. A line of a submission whose record code is
unknown or damaged (``CO2``) rejects the whole submission: exit 1, nothing committed, no return
file, one ``path:line:column`` finding per such line. An empty file fails validate."""
from __future__ import annotations

import json
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .helpers import SUB1, SUB2, adjudicate, dump, listing

ANSWERS = ("C12", "S01", "S02", "S03", "S04")


def lines_of(path) -> list[str]:
    return path.read_bytes().decode("latin-1").split("\r\n")[:-1]


def write(path, lines, eol="\r\n"):
    path.write_bytes((eol.join(lines) + eol).encode("latin-1"))
    return path


def test_a_clean_submission_answers_every_claim_line(tp, tmp_path):
    out = tmp_path / "r.txt"
    assert adjudicate(tp, SUB1, tmp_path / "s.db", out).code == 0
    claims = sum(1 for line in lines_of(SUB1) if line.startswith("C02"))
    answered = sum(1 for line in lines_of(out) if line[:3] in ANSWERS)
    assert claims == answered == 29


@pytest.mark.parametrize("damage", ["CO2", "c02", "C 2", "C\xe92", "S01", "", "   ", "\x1b[2"])
def test_one_damaged_record_code_rejects_the_whole_submission(tp, store, damage):
    w = store.parent
    lines = lines_of(SUB2)
    k = next(i for i, line in enumerate(lines) if line.startswith("C02") and i > 3)
    lines[k] = damage + lines[k][3:] if damage.strip() else damage
    sub = write(w / "damaged.txt", lines)
    before_db, before_files = dump(store), listing(w)
    r = adjudicate(tp, sub, store, w / "return-2.txt", received="20240405", payment="20240415")
    assert r.code == 1, r
    assert "submission rejected" in r.err and "nothing was decided" in r.err
    findings = [line for line in r.err.splitlines() if line.startswith(f"{sub}:")]
    assert len(findings) == 1, r.err
    assert findings[0].startswith(f"{sub}:{k + 1}:1-3: "), findings
    assert "expected a submission record code" in findings[0]
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", r.err), "control bytes printed raw"
    assert dump(store) == before_db
    assert listing(w) == before_files                     # no return file, no temp file


def test_one_finding_per_bad_line_with_its_number(tp, store):
    w = store.parent
    lines = lines_of(SUB2)
    bad = {}
    for k, code in ((2, "CO2"), (5, "XYZ"), (len(lines) - 1, "N0l")):
        lines[k] = code + lines[k][3:]
        bad[k + 1] = code
    lines.insert(7, "")                                   # an empty line inside the file
    bad = {(n + 1 if n > 7 else n): c for n, c in bad.items()}
    bad[8] = ""
    sub = write(w / "bad.txt", lines)
    before = dump(store)
    r = adjudicate(tp, sub, store, w / "return-2.txt", received="20240405", payment="20240415")
    assert r.code == 1
    found = {int(m[1]) for m in re.finditer(rf"^{re.escape(str(sub))}:(\d+):1-3: ", r.err, re.M)}
    assert found == set(bad), (found, bad, r.err)
    assert f"{len(bad)} lines with an unknown or damaged record code" in r.err
    assert dump(store) == before and not (w / "return-2.txt").exists()


@pytest.mark.parametrize("eol", ["\r\n", "\n", "\r"])
def test_line_numbers_agree_whatever_the_line_ending(tp, store, eol):
    """Both passes split lines alike (a lone CR ends a line too, spec 10.2)."""
    w = store.parent
    lines = lines_of(SUB2)
    lines[6] = "CO2" + lines[6][3:]
    sub = write(w / "cr.txt", lines, eol)
    r = adjudicate(tp, sub, store, w / "return-2.txt", received="20240405", payment="20240415")
    assert r.code == 1 and f"{sub}:7:1-3: " in r.err, r.err
    clean = write(w / "clean.txt", lines_of(SUB2), eol)
    r = adjudicate(tp, clean, store, w / "return-2.txt", received="20240405", payment="20240415")
    assert r.code == 0, r
    claims = sum(1 for line in lines_of(SUB2) if line.startswith("C02"))
    assert sum(1 for line in lines_of(w / "return-2.txt") if line[:3] in ANSWERS) == claims + 1  # + a released hold


def test_validate_reports_the_same_lines(tp, tmp_path):
    lines = lines_of(SUB2)
    lines[4] = "CO2" + lines[4][3:]
    sub = write(tmp_path / "bad.txt", lines)
    r = tp("validate", sub)
    assert r.code == 1 and "bad.txt:5:1: error: CO2 record_code" in r.out


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_an_empty_file_fails_validate(tp, tmp_path, fmt):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    r = tp("validate", empty, "--format", fmt)
    assert r.code == 1
    if fmt == "text":
        assert "empty.txt: empty file" in r.out
    else:
        (f,) = json.loads(r.out)
        assert f["kind"] == "empty" and "empty file" in f["message"]


def test_an_empty_file_is_no_submission(tp, store):
    w = store.parent
    empty = w / "empty.txt"
    empty.write_bytes(b"")
    before = dump(store)
    r = adjudicate(tp, empty, store, w / "r.txt")
    assert r.code == 1 and "not a submission" in r.err
    assert dump(store) == before and not (w / "r.txt").exists()
    assert os.path.exists(empty)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=40).map(lambda b: bytes(b"\r\na"[x % 3] for x in b)),
       block=st.integers(1, 7))
def test_lone_cr_scan_agrees_with_the_line_split(tmp_path_factory, data, block):
    """Pass 1 splits lines as the reader does; the quick scan that decides whether it must
    split lone CRs is exact at every block boundary."""
    p = tmp_path_factory.mktemp("cr") / "f.txt"
    p.write_bytes(data)
    import teleproc.batch as batch
    old = batch._BLOCK
    batch._BLOCK = block
    try:
        assert batch._has_lone_cr(p) == bool(re.search(rb"\r(?!\n)", data))
    finally:
        batch._BLOCK = old
    with open(p, "rb") as fh:
        pieces = list(batch._raw_lines(fh))
    with open(p, "r", encoding="latin-1", newline="") as fh:
        assert [x.decode("latin-1") for x in pieces] == list(fh)

"""Order rules added after review: a file mixing submission and return records, a second VTC,
a line whose only defect is a non-blank filler (a warning: the record still parses), and the
layout loader's errors for an incomplete layout file."""
from __future__ import annotations

from pathlib import Path

import pytest

from teleproc.codec import codec
from teleproc.errors import LayoutError, WARNING
from teleproc.jsonl import money_cents
from teleproc.layout import load_layouts
from teleproc.records import C02, VS1
from teleproc.validate import FileReader

VECTOR = Path(__file__).resolve().parent.parent / "fixtures" / "vectors" / "hibc-test-remittance-201005.txt"


def _write(tmp_path, lines, name="f.txt"):
    p = tmp_path / name
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))
    return p


def test_return_record_inside_a_submission_is_an_order_finding(tmp_path):
    c12 = VECTOR.read_text().split("\n")[1]
    assert c12.startswith("C12")
    p = _write(tmp_path, [VS1(data_centre="V0001", dc_seq=1).line, c12])
    found = [f for it in FileReader(p) for f in it.findings]
    assert [(f.line, f.kind, f.record_type) for f in found] == [(2, "order", "C12")]


def test_submission_record_inside_a_return_file_and_a_second_vtc(tmp_path):
    lines = VECTOR.read_text().split("\n")[:-1]
    vs1 = VS1(data_centre="V0001", dc_seq=1).line
    p = _write(tmp_path, lines[:3] + [vs1] + lines[3:] + [lines[-1]])
    found = [(f.line, f.kind, f.expected) for it in FileReader(p) for f in it.findings if f.kind == "order"]
    assert (4, "order", "a return record (this is a return file)") in found
    assert found[-1][0] == len(lines) + 2 and "nothing after the VTC" in found[-1][2]


def test_non_blank_filler_is_a_warning_and_the_record_still_parses():
    line = C02(phn="9151210417", fee_item="00100", dx1="465", units=1).line
    odd = line[:210] + "X" + line[211:]          # C02 filler P80 (207-264)
    c = codec("C02")
    rec = c.parse(odd)
    assert rec.filler == "    X" and rec.phn == "9151210417"   # column 211, the fifth of the filler
    f, = c.check(odd)
    assert (f.field, f.severity, f.column, f.end_column) == ("filler", WARNING, 207, 264)


@pytest.mark.parametrize("text, message", [
    ('code = "S99"\nextends = "S98"\n', "extends 'S98'"),
    ('code = "S99"\nlength = 3\nside = "return"\n', "no 'fields'"),
])
def test_incomplete_layout_files_are_layout_errors(tmp_path, text, message):
    (tmp_path / "S99.toml").write_text(text)
    with pytest.raises(LayoutError, match=message):
        load_layouts.__wrapped__(str(tmp_path))


@pytest.mark.parametrize("text", ["+-5", "--5", "5.123", "abc", "1.2.3"])
def test_money_text_with_more_than_one_sign_or_bad_digits_is_refused(text):
    with pytest.raises(ValueError):
        money_cents(text)
